#!/usr/bin/env node
/**
 * The catalog of the Docker official images, generated.
 *
 *   extract + build:  node scripts/catalog/update.js --official-images <git dir or checkout> --repos <dir>
 *                       [--history <years, default 5>] [--retired-history <years, default 10>]
 *   build only:       node scripts/catalog/update.js --from-evidence
 *
 * extract reads docker-library/official-images `library/*` and the Dockerfile of every entry at its GitCommit in
 * the fetched copy of its GitRepo (`<repos>/<owner>+<name>/repo`), and records the facts with their source in
 * scripts/catalog/evidence/official-images.json. build turns that evidence and the hand-written
 * src/facts/catalog/distributions.json (and vendors/*.json, for bases such as redhat/ubi9-minimal) into
 * src/facts/catalog/official-images.json (deterministic: same inputs, same bytes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, sortKeys, stringify } from './build.js';
import { extract } from './extract.js';
import { readRootCatalogs } from './roots.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
export const EVIDENCE = path.join(here, 'evidence/official-images.json');
export const CATALOG_DIR = path.join(root, 'src/facts/catalog');
export const OUTPUT = path.join(CATALOG_DIR, 'official-images.json');

function usage(message) {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: node scripts/catalog/update.js --official-images <dir> --repos <dir> [--history <years>] [--retired-history <years>]\n' +
      '         [--only a,b (debugging: the evidence then holds those images only)]\n' +
      '       node scripts/catalog/update.js --from-evidence\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = {};
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++k]);
    if (key === '--official-images') args.officialImages = value();
    else if (key === '--repos') args.repos = value();
    else if (key === '--history') args.history = Number(value());
    else if (key === '--retired-history') args.retiredHistory = Number(value());
    else if (key === '--only') args.only = value().split(',');
    else if (key === '--evidence') args.evidence = value();
    else if (key === '--output') args.output = value();
    else if (key === '--from-evidence') args.fromEvidence = true;
    else if (key === '--help' || key === '-h') usage();
    else usage(`unknown argument: ${a}`);
  }
  return args;
}

function runBuild(evidencePath, outputPath) {
  const evidence = JSON.parse(fs.readFileSync(evidencePath, 'utf8'));
  const { catalog, warnings } = build(evidence, readRootCatalogs(CATALOG_DIR));
  for (const w of warnings) process.stderr.write(`${w}\n`);
  fs.writeFileSync(outputPath, stringify(catalog));
  process.stderr.write(`build: ${catalog.rows.length} rows written to ${path.relative(process.cwd(), outputPath)}\n`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const evidencePath = args.evidence ?? EVIDENCE;
  const outputPath = args.output ?? OUTPUT;
  if (args.fromEvidence) {
    if (args.officialImages || args.repos) usage('--from-evidence reads the recorded evidence only');
    runBuild(evidencePath, outputPath);
    return;
  }
  if (!args.officialImages || !args.repos) usage('extract needs --official-images and --repos');
  for (const [flag, n] of [
    ['--history', args.history],
    ['--retired-history', args.retiredHistory],
  ]) {
    if (n !== undefined && !(Number.isInteger(n) && n >= 0)) usage(`${flag} takes a number of years`);
  }
  const evidence = extract({
    officialImages: path.resolve(args.officialImages),
    repos: path.resolve(args.repos),
    historyYears: args.history ?? DEFAULT_HISTORY_YEARS,
    retiredHistoryYears: args.retiredHistory ?? DEFAULT_RETIRED_HISTORY_YEARS,
    only: args.only,
  });
  fs.mkdirSync(path.dirname(evidencePath), { recursive: true });
  fs.writeFileSync(evidencePath, stringifyEvidence(evidence));
  process.stderr.write(`extract: evidence written to ${path.relative(process.cwd(), evidencePath)}\n`);
  runBuild(evidencePath, outputPath);
}

/** Years of library history read besides today's files (1 January of each): the tags fleets still pull. */
export const DEFAULT_HISTORY_YEARS = 5;
/** The same for retired images (deleted, emptied, or without `latest`, as openjdk), besides their last file. */
export const DEFAULT_RETIRED_HISTORY_YEARS = 10;

/**
 * The evidence as JSON: sorted keys, two-space indentation down to the entries, each entry (and each image's
 * library and history record) on one line, so that a refresh reads as a diff of entries.
 */
export function stringifyEvidence(evidence) {
  const write = (v, depth, indent) => {
    if (depth >= 4 || v === null || typeof v !== 'object') return JSON.stringify(sortKeys(v));
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + write(x, depth + 1, inner)).join(',\n')}\n${indent}]`;
    }
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${write(v[k], depth + 1, inner)}`).join(',\n')}\n${indent}}`;
  };
  return `${write(evidence, 0, '')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
