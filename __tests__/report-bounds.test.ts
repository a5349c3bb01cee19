import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { fixDockerfile } from '../src/index.js';
import type { JsonReport } from '../src/report/json.js';
import { boundedDiff, DIFF_MAX_CHANGED_LINES, unifiedDiff } from '../src/report/diff.js';
import { cleanup, DEBIAN, runCli, tempDir, writeTree } from './helpers/cli.js';

/** The diff is bounded in time: a huge change is reported as left out, in seconds, instead of taking minutes. */

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

function copies(count: number): string {
  let text = 'FROM debian:bookworm-slim\n';
  for (let i = 0; i < count; i++) text += `COPY file-${i} /app/file-${i}\n`;
  return text;
}

test('20,000 changed COPY lines: the bounded diff gives up within seconds (187 s unbounded)', () => {
  const text = copies(20_000);
  const output = text.replace(/^COPY /gm, 'COPY --chown=peak-user ') + 'USER 1001\n';
  const started = Date.now();
  const diff = boundedDiff('Dockerfile', text, output);
  expect(Date.now() - started).toBeLessThan(6_000);
  expect(diff).toEqual({ omitted: expect.stringMatching(/^diff not shown: more than 2000 changed lines/) });
});

describe('through the CLI (5,000 changed COPY lines, past the bound)', () => {
  const big = copies(5_000);

  test('text dry run: the diff left out with the reason, the summary still printed', async () => {
    writeTree(dir, { 'big/Dockerfile': big, 'small/Dockerfile': DEBIAN });
    const { code, stdout, stderr } = await runCli(['.'], { cwd: dir });
    expect(code).toBe(0);
    expect(stderr).toContain(
      `peak-fix: big/Dockerfile: diff not shown: more than ${DIFF_MAX_CHANGED_LINES} changed lines, or over 3 s to compute (the rewrite takes the file from 5001 to ${fixDockerfile(big).output.split('\n').length - 1} lines); review it after --write with git diff\n`,
    );
    expect(stdout).not.toContain('--- a/big/Dockerfile');
    expect(stdout).toContain(unifiedDiff('small/Dockerfile', DEBIAN, fixDockerfile(DEBIAN).output)); // small files keep theirs
    expect(stderr).toContain('2 would change, 0 unchanged, 0 skipped, 0 errors');
  }, 30_000);

  test('JSON: diff null and diffOmitted says why', async () => {
    writeTree(dir, { Dockerfile: big });
    const { stdout } = await runCli(['--format', 'json'], { cwd: dir });
    const report = JSON.parse(stdout) as JsonReport;
    expect(report.files[0]).toMatchObject({ status: 'changed', diff: null, diffOmitted: expect.stringMatching(/^diff not shown: /) });
  }, 30_000);
});

test('below the bound the diff is the full unified diff', () => {
  const text = copies(500);
  const output = fixDockerfile(text).output;
  expect(boundedDiff('Dockerfile', text, output)).toEqual({ patch: unifiedDiff('Dockerfile', text, output) });
});
