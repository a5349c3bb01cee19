import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixDockerfile } from '../src/index.js';
import { RULES } from '../src/rewrite/rules.js';
import type { EngineInputs, FixOptions } from '../src/index.js';
import type { ImageFacts } from '../src/facts/types.js';

/**
 * One case per folder of fixtures/: input.Dockerfile, expected.Dockerfile, optional options.json, inputs.json
 * (`{ "facts": { "<FROM reference>": ImageFacts }, "buildsBaseImage": true }`: what the CLI hands the engine),
 * context/ (build-context files the runner would read, passed as EngineInputs.contextFiles) and findings.json (the
 * rule ids, message ids and lines that must be reported, as eslint's RuleTester asserts them). UPDATE_GOLDEN=1 rewrites the expectations;
 * review their diff before committing.
 */
const root = fileURLToPath(new URL('../fixtures', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
/** A case is any folder holding an input.Dockerfile, at any depth (`fixtures/base-image/memcached/`). */
function findCases(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const name = dir ? `${dir}/${entry.name}` : entry.name;
    if (existsSync(join(root, name, 'input.Dockerfile'))) found.push(name);
    else found.push(...findCases(name));
  }
  return found;
}
const cases = findCases('').sort();

/** Files under fixtures/<case>/context/, keyed by their path relative to it (as the runner reads a build context). */
function contextFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(root, dir, 'context', relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else files.set(path, readFileSync(join(root, dir, 'context', path), 'utf8'));
    }
  };
  if (existsSync(join(root, dir, 'context'))) walk('');
  return files;
}

function read(dir: string, name: string): string | undefined {
  const path = join(root, dir, name);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

describe('golden fixtures', () => {
  test('there are at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  test('every rule in the catalog fires in at least one fixture', () => {
    const fired = new Set(
      cases.flatMap((name) => (JSON.parse(read(name, 'findings.json') ?? '[]') as { rule: string }[]).map((f) => f.rule)),
    );
    expect(RULES.map((r) => r.id).filter((id) => !fired.has(id))).toEqual([]);
  });

  describe.each(cases)('%s', (name) => {
    const input = read(name, 'input.Dockerfile') as string;
    const options = JSON.parse(read(name, 'options.json') ?? '{}') as Partial<FixOptions>;
    // inputs.json: what the CLI would pass besides the options: facts by FROM reference, buildsBaseImage, --arg values.
    const given = JSON.parse(read(name, 'inputs.json') ?? '{}') as {
      facts?: Record<string, ImageFacts>;
      buildsBaseImage?: boolean;
      buildArgs?: Record<string, string>;
      buildStages?: string[];
      containerAction?: boolean;
    };
    const inputs: EngineInputs = {
      facts: given.facts ? (reference) => given.facts?.[reference] : undefined,
      buildsBaseImage: given.buildsBaseImage,
      buildArgs: given.buildArgs,
      buildStages: given.buildStages,
      containerAction: given.containerAction,
      contextFiles: contextFiles(name),
    };
    const result = fixDockerfile(input, options, inputs);
    const findings = result.findings.map((f) => ({ rule: f.rule, messageId: f.messageId, line: f.line, severity: f.severity }));

    if (update) {
      writeFileSync(join(root, name, 'expected.Dockerfile'), result.output);
      writeFileSync(join(root, name, 'findings.json'), JSON.stringify(findings, null, 2) + '\n');
    }

    test('rewrites to expected.Dockerfile', () => {
      expect(result.output).toBe(read(name, 'expected.Dockerfile'));
    });

    test('reports the expected findings', () => {
      const expected = read(name, 'findings.json');
      expect(findings).toEqual(expected === undefined ? [] : JSON.parse(expected));
    });

    test('a second run changes nothing', () => {
      expect(fixDockerfile(result.output, options, inputs).output).toBe(result.output);
    });

    test('every original byte survives: removing the inserted text gives the input back', () => {
      let restored = '';
      let cursor = 0;
      let shift = 0;
      for (const edit of [...result.edits].sort((a, b) => a.offset - b.offset)) {
        expect(edit.remove).toBe(0);
        restored += result.output.slice(cursor, edit.offset + shift);
        cursor = edit.offset + shift + edit.insert.length;
        shift += edit.insert.length;
      }
      expect(restored + result.output.slice(cursor)).toBe(input);
    });
  });
});
