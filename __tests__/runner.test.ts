import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixDockerfile } from '../src/index.js';
import { runText } from '../src/runner/job.js';
import { pool, run, type FileResult, type RunOptions } from '../src/runner/runner.js';
import { ALPINE, cleanup, DEBIAN, NO_FROM, tempDir, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const COMPLIANT = fixDockerfile(DEBIAN).output;
const WINDOWS = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n';

async function runAll(options: Partial<RunOptions> = {}): Promise<{ results: FileResult[]; summary: unknown; files: FileResult[] }> {
  const results: FileResult[] = [];
  const outcome = await run({ cwd: dir, paths: [], fix: {}, write: false, onResult: (r) => results.push(r), ...options });
  return { results, summary: outcome.summary, files: outcome.files };
}

test('preconditions: the samples change, and the engine output is a fixed point', () => {
  expect(fixDockerfile(DEBIAN).changed).toBe(true);
  expect(fixDockerfile(ALPINE).changed).toBe(true);
  expect(fixDockerfile(COMPLIANT).changed).toBe(false);
  expect(fixDockerfile(WINDOWS).skipped).toBeDefined();
});

describe('run', () => {
  test('statuses, sorted order, and one bad file does not stop the batch', async () => {
    writeTree(dir, {
      'c/Dockerfile': DEBIAN,
      'a/Dockerfile': NO_FROM,
      'b/Dockerfile': COMPLIANT,
      'd/Dockerfile': WINDOWS,
      'e/Dockerfile': Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0, 0]),
      'f/Dockerfile': ALPINE,
    });
    const { results, summary, files } = await runAll();
    expect(results.map((r) => [r.path, r.status])).toEqual([
      ['a/Dockerfile', 'error'],
      ['b/Dockerfile', 'unchanged'],
      ['c/Dockerfile', 'changed'],
      ['d/Dockerfile', 'skipped'],
      ['e/Dockerfile', 'error'],
      ['f/Dockerfile', 'changed'],
    ]);
    expect(summary).toEqual({ changed: 2, unchanged: 1, skipped: 1, errors: 2 });
    expect(results[0].error).toMatch(/FROM/);
    expect(results[4].error).toMatch(/binary/);
    expect(results[2].output).toBe(fixDockerfile(DEBIAN).output);
    expect(results[2].findings).toEqual(fixDockerfile(DEBIAN).findings);
    expect(results[3].skipped).toBe(fixDockerfile(WINDOWS).skipped);
    // The texts go to onResult only; the returned list is light.
    expect(files[2].output).toBeUndefined();
    // Dry run: nothing written.
    expect(readFileSync(path.join(dir, 'c/Dockerfile'), 'utf8')).toBe(DEBIAN);
  });

  test('a GitHub Docker container action (an action.yml runs the file) is skipped; an action that runs another image is not', async () => {
    writeTree(dir, {
      'scan/action.yml': "name: scan\nruns:\n  using: 'docker'\n  image: 'Dockerfile'\n",
      'scan/Dockerfile': DEBIAN,
      'lint/action.yaml': 'runs:\n  using: docker\n  image: docker/Dockerfile\n',
      'lint/docker/Dockerfile': DEBIAN,
      'pre/action.yml': 'runs:\n  using: docker\n  image: docker://alpine:3.20\n',
      'pre/Dockerfile': DEBIAN,
      'node/action.yml': 'runs:\n  using: node20\n  main: index.js\n',
      'node/Dockerfile': DEBIAN,
      'broken/action.yml': 'runs: [\n',
      'broken/Dockerfile': DEBIAN,
    });
    const { results } = await runAll({ paths: ['.'] });
    expect(results.map((r) => [r.path, r.status])).toEqual([
      ['broken/Dockerfile', 'changed'],
      ['lint/docker/Dockerfile', 'skipped'],
      ['node/Dockerfile', 'changed'],
      ['pre/Dockerfile', 'changed'],
      ['scan/Dockerfile', 'skipped'],
    ]);
    for (const skipped of [results[1], results[4]]) {
      expect(skipped.findings.map((f) => f.rule)).toEqual(['container-action']);
      expect(skipped.skipped).toMatch(/GitHub Docker container action/);
    }
    // Named on the command line (no walk listed its directory), the action file is looked for all the same.
    const named = await runAll({ paths: ['lint/docker/Dockerfile', 'node/Dockerfile'] });
    expect(named.results.map((r) => [r.path, r.status])).toEqual([
      ['lint/docker/Dockerfile', 'skipped'],
      ['node/Dockerfile', 'changed'],
    ]);
  });

  test('--write rewrites changed files, keeps their mode, and never touches unchanged ones', async () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'ok/Dockerfile': COMPLIANT, 'win/Dockerfile': WINDOWS });
    chmodSync(path.join(dir, 'Dockerfile'), 0o640);
    const old = new Date('2020-01-01T00:00:00Z');
    for (const name of ['ok/Dockerfile', 'win/Dockerfile']) utimesSync(path.join(dir, name), old, old);
    const inodes = ['ok/Dockerfile', 'win/Dockerfile'].map((name) => statSync(path.join(dir, name)).ino);

    const { results } = await runAll({ write: true });
    expect(results.map((r) => [r.path, r.status, r.written ?? false])).toEqual([
      ['Dockerfile', 'changed', true],
      ['ok/Dockerfile', 'unchanged', false],
      ['win/Dockerfile', 'skipped', false],
    ]);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(fixDockerfile(DEBIAN).output);
    expect(statSync(path.join(dir, 'Dockerfile')).mode & 0o777).toBe(0o640);
    for (const [i, name] of ['ok/Dockerfile', 'win/Dockerfile'].entries()) {
      const stats = statSync(path.join(dir, name));
      expect(stats.mtime.getTime()).toBe(old.getTime());
      expect(stats.ino).toBe(inodes[i]);
    }
    // A second run finds nothing to do.
    const again = await runAll({ write: true });
    expect(again.summary).toEqual({ changed: 0, unchanged: 2, skipped: 1, errors: 0 });
  });

  test('a symbolic link inside the tree: the target is rewritten, the link stays a link', async () => {
    writeTree(dir, { 'real/Dockerfile.base': DEBIAN });
    symlinkSync('real/Dockerfile.base', path.join(dir, 'Dockerfile'));
    const { results } = await runAll({ write: true, paths: ['Dockerfile'] });
    expect(results.map((r) => [r.path, r.status])).toEqual([['Dockerfile', 'changed']]);
    expect(lstatSync(path.join(dir, 'Dockerfile')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, 'Dockerfile'))).toBe('real/Dockerfile.base');
    expect(readFileSync(path.join(dir, 'real/Dockerfile.base'), 'utf8')).toBe(fixDockerfile(DEBIAN).output);
  });

  test('a symbolic link out of the tree is skipped, its target untouched', async () => {
    const outside = tempDir('peak-fix-outside-');
    try {
      writeTree(outside, { Dockerfile: DEBIAN });
      writeTree(dir, { 'tree/own/Dockerfile': ALPINE });
      symlinkSync(path.join(outside, 'Dockerfile'), path.join(dir, 'tree/Dockerfile'));
      const { results } = await runAll({ write: true, paths: ['tree'] });
      expect(results.map((r) => [r.path, r.status])).toEqual([
        ['tree/Dockerfile', 'skipped'],
        ['tree/own/Dockerfile', 'changed'],
      ]);
      expect(results[0].skipped).toMatch(/outside/);
      expect(readFileSync(path.join(outside, 'Dockerfile'), 'utf8')).toBe(DEBIAN);
      expect(lstatSync(path.join(dir, 'tree/Dockerfile')).isSymbolicLink()).toBe(true);
    } finally {
      cleanup(outside);
    }
  });

  test('a file changed on disk while being processed is not overwritten: an error for that file only', async () => {
    writeTree(dir, { 'a/Dockerfile': DEBIAN, 'b/Dockerfile': ALPINE });
    const edited = DEBIAN + 'RUN edited by someone else\n';
    const engine: typeof fixDockerfile = (text, options) => {
      // Simulates an editor saving the file between our read and our write.
      if (text === DEBIAN) writeFileSync(path.join(dir, 'a/Dockerfile'), edited);
      return fixDockerfile(text, options);
    };
    const { results, summary } = await runAll({ write: true, engine });
    expect(results.map((r) => [r.path, r.status])).toEqual([
      ['a/Dockerfile', 'error'],
      ['b/Dockerfile', 'changed'],
    ]);
    expect(results[0].error).toBe('changed on disk since it was read; not overwritten');
    expect(readFileSync(path.join(dir, 'a/Dockerfile'), 'utf8')).toBe(edited);
    expect(readFileSync(path.join(dir, 'b/Dockerfile'), 'utf8')).toBe(fixDockerfile(ALPINE).output);
    expect(summary).toEqual({ changed: 1, unchanged: 0, skipped: 0, errors: 1 });
  });

  test('an engine crash is an error for that file, with a stack for --debug', async () => {
    writeTree(dir, { 'a/Dockerfile': DEBIAN, 'b/Dockerfile': ALPINE });
    const engine: typeof fixDockerfile = (text, options) => {
      if (text === DEBIAN) throw new TypeError('boom\nsecond line');
      return fixDockerfile(text, options);
    };
    const { results } = await runAll({ engine });
    expect(results[0]).toMatchObject({ status: 'error', error: 'internal error: boom' });
    expect(results[0].stack).toMatch(/TypeError: boom/);
    expect(results[1].status).toBe('changed');
  });

  test('engine options are passed through', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const options = { user: 'app', home: '/home/app', uidArg: 'APP_UID' };
    const { results } = await runAll({ fix: options });
    expect(results[0].output).toBe(fixDockerfile(DEBIAN, options).output);
    expect(results[0].output).toContain('APP_UID');
  });

  test('an aborted run starts no new file and reports how many were left', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`d${String(i).padStart(2, '0')}/Dockerfile`] = DEBIAN;
    writeTree(dir, files);
    const controller = new AbortController();
    let seen = 0;
    const outcome = await run({
      cwd: dir,
      paths: ['.'],
      fix: {},
      write: true,
      concurrency: 2,
      signal: controller.signal,
      onResult: () => {
        if (++seen === 3) controller.abort();
      },
    });
    expect(outcome.interrupted).toBe(true);
    expect(outcome.files.length).toBeGreaterThanOrEqual(3);
    expect(outcome.files.length).toBeLessThan(30);
    expect(outcome.notStarted).toBe(30 - outcome.files.length);
    const rewritten = Object.keys(files).filter((name) => readFileSync(path.join(dir, name), 'utf8') !== DEBIAN);
    expect(rewritten).toEqual(outcome.files.map((f) => f.path));
  });
});

describe('runText (stdin)', () => {
  test('migrates text, applies the content guards', () => {
    expect(runText(Buffer.from(DEBIAN), '<stdin>', {})).toMatchObject({ status: 'changed', output: fixDockerfile(DEBIAN).output });
    expect(runText(Buffer.alloc(0), '<stdin>', {})).toMatchObject({ status: 'error', error: 'empty file' });
    expect(runText(Buffer.from([0xc3, 0x28]), '<stdin>', {})).toMatchObject({ status: 'error', error: 'not valid UTF-8 text' });
    expect(runText(Buffer.from('\uFEFF' + DEBIAN), 'x', {}).output).toBe(fixDockerfile('\uFEFF' + DEBIAN).output);
  });
});

describe('pool', () => {
  test('bounds concurrency and emits in input order whatever the completion order', async () => {
    let inFlight = 0;
    let peak = 0;
    const emitted: number[] = [];
    const items = Array.from({ length: 40 }, (_, i) => i);
    const started = await pool(
      items,
      8,
      undefined,
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
        inFlight--;
        return i;
      },
      (i) => emitted.push(i),
    );
    expect(started).toBe(40);
    expect(peak).toBe(8);
    expect(emitted).toEqual(items);
  });
});
