// The built CLI (bin/peak-fix.js, the bundle) run as a child process: in a file of its own so that jest runs it
// beside the in-process CLI tests (cli.test.ts) on the other core. The build is jest's global setup
// (scripts/jest-build.js); the signal tests are in cli-signals.test.ts.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { main } from '../src/cli/index.js';
import { fixDockerfile } from '../src/index.js';
import { ALPINE, BIN, cleanup, DEBIAN, NO_FROM, REPO, runCli, tempDir, VERSION, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

describe('bin/peak-fix.js (built)', () => {
  const bin = (argv: string[], options: { cwd: string; input?: string; uid?: number }) => {
    const result = spawnSync(process.execPath, [BIN, ...argv], {
      cwd: options.cwd,
      input: options.input,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test('--check, --write, --check again', () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    expect(bin(['--check'], { cwd: dir })).toMatchObject({ code: 1, stdout: '[warn] Dockerfile\n' });
    expect(bin(['--write'], { cwd: dir })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Dockerfile\n/) });
    expect(read('Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
    expect(bin(['--check'], { cwd: dir })).toMatchObject({ code: 0, stdout: '' });
  });

  describe('--jobs: worker threads', () => {
    // 48 files: enough for the pool (16 per worker), with every kind of outcome among them.
    const tree = (): Record<string, string> => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 48; i++) {
        const name = `svc${String(i).padStart(2, '0')}/Dockerfile`;
        files[name] = i % 3 === 0 ? ALPINE : i % 3 === 1 ? DEBIAN : fixDockerfile(DEBIAN).output;
      }
      files['svc07/Dockerfile'] = NO_FROM;
      files['svc11/Dockerfile'] = 'FROM debian\nRUN <<EOF\necho never closed\n';
      files['svc13/Dockerfile'] = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo hi\n';
      return files;
    };

    test('the pool takes big batches only, and only with more than one job', async () => {
      const { useWorkers, MIN_FILES_PER_WORKER } = (await import(
        path.join(REPO, 'dist/src/runner/pool.js')
      )) as typeof import('../src/runner/pool.js');
      expect(useWorkers(2, 2 * MIN_FILES_PER_WORKER)).toBe(true);
      expect(useWorkers(2, 2 * MIN_FILES_PER_WORKER - 1)).toBe(false);
      expect(useWorkers(1, 100_000)).toBe(false);
      expect(tree()).toHaveProperty(['svc47/Dockerfile']); // this suite's batches do take the pool
      expect(Object.keys(tree()).length).toBeGreaterThanOrEqual(2 * MIN_FILES_PER_WORKER);
    });

    // The text reporter in two modes (diffs, [warn] lines) and a collecting one (json): each spawn costs ~0.3 s.
    test.each([[[]], [['--check', '--verbose']], [['--format', 'json']]])(
      '%j: the same output, in the same order, with --jobs 2 as with --jobs 1',
      (flags) => {
        writeTree(dir, tree());
        const one = bin([...flags, '--jobs', '1'], { cwd: dir });
        const two = bin([...flags, '--jobs', '2'], { cwd: dir });
        expect(two).toEqual(one);
        expect(one.code).toBe(2); // the two files that cannot be migrated
        expect(one.stdout + one.stderr).toContain('svc07/Dockerfile');
        expect(one.stdout + one.stderr).toContain('svc11/Dockerfile');
      },
    );

    test('--write --jobs 2: every file as the engine makes it; the bad ones untouched', () => {
      const files = tree();
      writeTree(dir, files);
      const result = bin(['--write', '--jobs', '2'], { cwd: dir });
      expect(result.code).toBe(2);
      for (const [name, original] of Object.entries(files)) {
        let expected = original;
        try {
          expected = fixDockerfile(original).output;
        } catch {
          // cannot be migrated: left as it was
        }
        expect(read(name)).toBe(expected);
      }
      expect(result.stdout.split('\n').filter((line) => line.startsWith('svc'))).toEqual(
        Object.keys(files).filter((name) => read(name) !== files[name]),
      );
    });
  });

  // The bundle loads these parsers on demand from chunks of its own, where a CommonJS package has only a default
  // export: the in-process tests (TypeScript under jest) cannot see that.
  test.each([
    [
      'compose.yaml',
      'services:\n  base:\n    build: ./base\n    image: corp/base:1\n  api:\n    build: ./api\n',
      'compose.yaml services.base',
    ],
    ['docker-bake.hcl', 'target "base" {\n  context = "base"\n  tags = ["corp/base:1"]\n}\n', 'docker-bake.hcl target.base'],
  ])('images built from each other, read from %s (parsers loaded on demand)', (file, text, source) => {
    writeTree(dir, {
      [file]: text,
      'base/Dockerfile': 'FROM debian:bookworm-slim\nRUN true\n',
      'api/Dockerfile': 'FROM corp/base:1\nRUN true\n',
    });
    const { code, stdout, stderr } = bin(['--verbose'], { cwd: dir });
    expect(stderr).not.toContain('cannot read');
    expect(code).toBe(0);
    expect(stdout + stderr).toContain(`facts about corp/base:1 from repository base/Dockerfile (${source})`);
  });

  test('the library entry resolves through package.json exports, as `import ... from "peak-fix"`', () => {
    const code =
      "import { fixDockerfile, PeakFixError } from 'peak-fix'; console.log(typeof PeakFixError, fixDockerfile(process.argv[1]).output)";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', code, ALPINE], { cwd: REPO, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`function ${fixDockerfile(ALPINE).output}\n`);
  });

  test('--version, --stdin and an unknown flag', () => {
    expect(bin(['--version'], { cwd: dir })).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(bin(['--stdin'], { cwd: dir, input: ALPINE })).toMatchObject({ code: 0, stdout: fixDockerfile(ALPINE).output });
    expect(bin(['--nope'], { cwd: dir })).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'peak-fix: unknown argument: nope (see peak-fix --help)\n',
    });
  });

  test('an unreadable file is a one-line error (run as another user when root)', () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'ok/Dockerfile': ALPINE });
    chmodSync(path.join(dir, 'Dockerfile'), 0o200);
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'ok'), 0o755);
    chmodSync(path.join(dir, 'ok/Dockerfile'), 0o644);
    const asRoot = process.getuid?.() === 0;
    const result = bin(['-l'], { cwd: dir, ...(asRoot ? { uid: 65534 } : {}) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('peak-fix: Dockerfile: permission denied\n');
    expect(result.stdout).toBe('ok/Dockerfile\n');
  });

  test("--write as another user: a file it cannot write, or that is someone else's, is refused, not replaced", () => {
    expect(process.getuid?.()).toBe(0); // CI runs as root: the run itself is made as uid 65534
    writeTree(dir, { 'theirs/Dockerfile': DEBIAN, 'locked/Dockerfile': DEBIAN });
    chmodSync(dir, 0o777);
    for (const sub of ['theirs', 'locked']) chmodSync(path.join(dir, sub), 0o777); // the directories let anyone rename
    // Group-writable for 65534 but owned by root: a rename would hand it to 65534.
    chownSync(path.join(dir, 'theirs/Dockerfile'), 0, 65534);
    chmodSync(path.join(dir, 'theirs/Dockerfile'), 0o664);
    chmodSync(path.join(dir, 'locked/Dockerfile'), 0o644);
    const result = bin(['--write', '.'], { cwd: dir, uid: 65534 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('peak-fix: locked/Dockerfile: not writable by the running user (EACCES): not overwritten\n');
    expect(result.stderr).toContain(
      "peak-fix: theirs/Dockerfile: owned by uid 0: replacing it would make it the running user's (uid 65534); not overwritten\n",
    );
    for (const sub of ['theirs', 'locked']) {
      expect(read(`${sub}/Dockerfile`)).toBe(DEBIAN);
      expect(statSync(path.join(dir, `${sub}/Dockerfile`)).uid).toBe(0);
    }
  });
});

test('writes through main() keep unchanged files untouched (mtime)', async () => {
  writeTree(dir, { 'a/Dockerfile': fixDockerfile(DEBIAN).output, 'b/Dockerfile': DEBIAN });
  const before = statSync(path.join(dir, 'a/Dockerfile')).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect((await runCli(['--write'], { cwd: dir })).code).toBe(0);
  expect(statSync(path.join(dir, 'a/Dockerfile')).mtimeMs).toBe(before);
  expect(read('b/Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
});
