import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- plain JavaScript without a declaration file (no allowJs): checkArchitecture is typed below
import { checkArchitecture } from '../scripts/check-architecture.js';

/**
 * The architecture rules (scripts/check-architecture.js) hold for the tree: no import cycle, imports point down
 * the layers and every file is in one, no function over 60 lines or 20 branches. The last test proves the
 * checker finds each kind of violation, on a small tree made for it.
 */

/** What checkArchitecture(root) returns; `to` and the layers are null for a file in no layer. */
interface Violations {
  cycles: string[][];
  upward: { from: string; to: string | null; fromLayer: string | null; toLayer: string | null }[];
  big: { file: string; name: string; line: number; lines: number; branches: number }[];
}
const check = (root: string): Violations => checkArchitecture(root) as Violations;

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the source tree', () => {
  let violations: Violations;
  beforeAll(() => {
    violations = check(REPO);
  });

  test('has no import cycle', () => {
    expect(violations.cycles).toEqual([]);
  });

  test('imports only down the layers, and every file is in a layer', () => {
    expect(violations.upward).toEqual([]);
  });

  test('has no function over 60 lines or 20 branches', () => {
    expect(violations.big).toEqual([]);
  });
});

/** A function of `count` lines, first to last. */
const longFunction = (name: string, count: number) =>
  [`export function ${name}(): number {`, '  let n = 0;', ...Array.from({ length: count - 4 }, () => '  n += 1;'), '  return n;', '}'].join(
    '\n',
  );

test('the checker finds each kind of violation', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'peak-fix-architecture-'));
  try {
    const files: Record<string, string> = {
      // A cycle of two files (one import type-only), a file importing itself; in one layer: no layer violation.
      'src/facts/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
      'src/facts/b.ts': "import type { a } from './a.js';\nexport const b = (): number => 1;\nexport type A = typeof a;\n",
      'src/facts/self.ts': "export * from './self.js';\nexport const self = 1;\n",
      // JSON is a leaf; an import down the layers is fine.
      'src/facts/data.json': '{ "x": 1 }\n',
      'src/facts/json.ts': "import data from './data.json' with { type: 'json' };\nexport const x = data.x;\n",
      // A model file importing a transforms file (up), dynamically too, and a facts file (down).
      'src/model/up.ts':
        "import { t } from '../../transforms/t.js';\nimport { a } from '../facts/a.js';\n" +
        "export const up = async (): Promise<number> => t + a() + (await import('../rewrite/long.js')).long();\n",
      'transforms/t.ts': 'export const t = 1;\n',
      // A file in no layer.
      'src/stray.ts': 'export const stray = 1;\n',
      // Tests are not checked.
      'src/model/__tests__/helper.ts': "import { t } from '../../../transforms/t.js';\nexport const h = t;\n",
      'src/model/up.test.ts': "import { up } from './up.js';\nimport { h } from './__tests__/helper.js';\nvoid up, h;\n",
      // A 70-line function, and a 60-line one (the limit: not reported).
      'src/rewrite/long.ts': `${longFunction('long', 70)}\n\n${longFunction('justShort', 60)}\n`,
      // A function of 25 branches, whose nested functions' branches are their own; a method of 21.
      'src/rewrite/branchy.ts': [
        'export function branchy(x: number, s: string | undefined, xs: number[]): number {',
        '  let n = 0;',
        '  if (x > 1) n++;', // 1
        '  else if (x > 2) n++;', // 2
        '  else n--;',
        '  n += x > 3 ? 1 : 0;', // 3
        '  switch (x) {',
        '    case 1:', // 4
        '    case 2:', // 5
        '      n++;',
        '      break;',
        '    default:',
        '      n--;',
        '  }',
        '  if (x > 4 && x < 10) n++;', // 6, 7
        '  if (x > 5 || x < -10) n++;', // 8, 9
        "  const t = s ?? '';", // 10
        '  for (let i = 0; i < x; i++) n++;', // 11
        '  for (const y of xs) n += y;', // 12
        '  for (const k in xs) n += k.length;', // 13
        '  while (n > 100) n--;', // 14
        '  do n++; while (n < 0);', // 15
        '  try {',
        '    n += JSON.parse(t) as number;',
        '  } catch {', // 16
        '    n = 0;',
        '  }',
        '  const inner = (y: number): number => (y > 0 ? (y > 1 ? 2 : 1) : y && y);', // not branchy's
        '  n += xs.filter((y) => y > 0 || y < -1).length;', // not branchy's
        '  if (n > 6) n = inner(n);', // 17
        '  if (n > 7) n++;', // 18
        '  if (n > 8) n++;', // 19
        '  if (n > 9) n++;', // 20
        '  if (n > 10 && n > 11 && n > 12) n++;', // 21, 22, 23
        '  return n > 13 ? n : s !== undefined ? 1 : 2;', // 24, 25
        '}',
        '',
        'export class Branchy {',
        '  method(x: number): boolean {',
        `    return ${Array.from({ length: 22 }, (_, i) => `x === ${i}`).join(' || ')};`, // 21
        '  }',
        '}',
        '',
        // Data, however long: not reported.
        'export const table = (): Record<string, number> => ({',
        ...Array.from({ length: 70 }, (_, i) => `  key${i}: ${i},`),
        '});',
        '',
      ].join('\n'),
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    }
    const violations = check(root);

    // Two files importing each other, and a file importing itself.
    expect(violations.cycles).toEqual([['src/facts/a.ts', 'src/facts/b.ts'], ['src/facts/self.ts']]);
    // A model file importing a transforms file (and, with import(), a rewrite file); a file in no layer.
    expect(violations.upward).toEqual([
      { from: 'src/model/up.ts', to: 'src/rewrite/long.ts', fromLayer: 'model', toLayer: 'rewrite' },
      { from: 'src/model/up.ts', to: 'transforms/t.ts', fromLayer: 'model', toLayer: 'transforms' },
      { from: 'src/stray.ts', to: null, fromLayer: null, toLayer: null },
    ]);
    // A function of 25 branches, a method of 21, a 70-line function; not the 60-line one, nor the data.
    expect(violations.big).toEqual([
      { file: 'src/rewrite/branchy.ts', name: 'branchy', line: 1, lines: 36, branches: 25 },
      { file: 'src/rewrite/branchy.ts', name: 'Branchy.method', line: 39, lines: 3, branches: 21 },
      { file: 'src/rewrite/long.ts', name: 'long', line: 1, lines: 70, branches: 0 },
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
