// Jest global setup (npm test): the built-CLI suites (cli-built, cli-signals) run bin/peak-fix.js, which loads
// dist/. Build it once for the whole run, before any suite starts, and only when a source is newer than the last
// build (the same rule as scripts/e2e/run.sh): two suites building at once would replace dist/ under each other.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const STAMP = path.join(REPO, 'dist', '.jest-build-stamp');
const SOURCES = ['src', 'transforms', 'bin', 'scripts/bundle.js', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

function run(argv) {
  const result = spawnSync(process.execPath, argv, { cwd: REPO, encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export default function buildOnce() {
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -1;
  if (built >= Math.max(...SOURCES.map((s) => newestMtime(path.join(REPO, s))))) return;
  // tsc emits even when a module has a type error (type checking is npm test's own step): only a missing
  // output fails here.
  const tsc = run([path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  if (!tsc.ok && !existsSync(path.join(REPO, 'dist/src/cli/index.js'))) throw new Error(`build failed:\n${tsc.output}`);
  const bundle = run([path.join(REPO, 'scripts/bundle.js')]);
  if (!bundle.ok) throw new Error(`bundle failed:\n${bundle.output}`);
  writeFileSync(STAMP, '');
}
