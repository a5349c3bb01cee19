import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS, type KindName } from '../src/facts/builtin.js';
import type { ImageFacts } from '../src/facts/types.js';
import { blockInstructions, createUser } from '../src/rewrite/recipe.js';
import { HOW } from '../src/fleet/pr-body.js';
import { DEFAULT_OPTIONS, fixDockerfile } from '../src/index.js';

/**
 * Adding a kind of base is a row of KINDS (src/facts/builtin.ts) and, if it creates users differently, a branch in
 * src/rewrite/recipe.ts. These tests fail for a kind that has no recipe of its own, no pull-request text or no row
 * in the kinds table of docs/base-images.md.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAMES = Object.keys(KINDS) as KindName[];
const BASE = 'registry.example/kinds-test/base:1';
const DOCKERFILE = `FROM ${BASE}\nCOPY app /app\nCMD ["/app/run"]\n`;

/** The facts the catalog gives an image of the kind (no users of its own). */
function factsOf(kind: KindName): ImageFacts {
  const { os, shell, userCreation, find, family } = KINDS[kind];
  return { os, shell, userCreation, find, family, takenUids: [], known: true, source: { kind: 'built-in', ref: 'kinds.test.ts' } };
}

function rewrite(kind: KindName) {
  return fixDockerfile(DOCKERFILE, {}, { facts: (reference) => (reference === BASE ? factsOf(kind) : undefined) });
}

const shellKinds = NAMES.filter((kind) => KINDS[kind].shell);
const noShellKinds = NAMES.filter((kind) => !KINDS[kind].shell);

describe('every kind of base has its recipe', () => {
  test('the kinds are the ones the catalog schema allows', () => {
    const schema = JSON.parse(readFileSync(path.join(REPO, 'src/facts/catalog.schema.json'), 'utf8')) as {
      definitions: { kind: { enum: string[] } };
    };
    expect([...schema.definitions.kind.enum].sort()).toEqual([...NAMES].sort());
  });

  test.each(shellKinds.filter((kind) => kind !== 'unknown'))('%s: its own user creation, not the unknown fallback', (kind) => {
    const unknown = factsOf('unknown');
    expect(createUser(DEFAULT_OPTIONS, factsOf(kind))).not.toBe(createUser(DEFAULT_OPTIONS, unknown));
    // The reason --explain gives names how this kind creates the user, not "the base's tools are not known".
    expect(blockInstructions(DEFAULT_OPTIONS, factsOf(kind))[0].why).not.toBe(blockInstructions(DEFAULT_OPTIONS, unknown)[0].why);
  });

  test.each(shellKinds)('%s: the rewrite creates the user with that line', (kind) => {
    const result = rewrite(kind);
    expect(result.skipped).toBeUndefined();
    expect(result.output).toContain(createUser(DEFAULT_OPTIONS, factsOf(kind)));
  });

  test.each(noShellKinds)('%s: no shell, so no RUN at all', (kind) => {
    const result = rewrite(kind);
    expect(result.output).not.toMatch(/^RUN /m);
  });
});

describe('every kind of base has its pull-request text', () => {
  test.each(NAMES)('%s', (kind) => {
    const result = rewrite(kind);
    // A file the rewrite changes says how its user is created; one it skips is listed with the reason instead.
    if (result.changed) expect(HOW[KINDS[kind].family]).toEqual(expect.any(String));
    else expect(result.skipped).toEqual(expect.stringMatching(/\w/));
  });
});

describe('every kind of base has its row in the kinds table of docs/base-images.md', () => {
  const docs = readFileSync(path.join(REPO, 'docs/base-images.md'), 'utf8');
  const section = /^## Kinds\n([\s\S]*?)(?=^## )/m.exec(docs)?.[1] ?? '';
  const rows = [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]);

  test.each(NAMES)('%s', (kind) => {
    expect(rows).toContain(kind);
  });

  test('and no row for a kind that is not one', () => {
    expect([...rows].sort()).toEqual([...NAMES].sort());
  });
});
