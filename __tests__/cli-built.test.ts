// The built CLI (bin/peak-fix.js, the bundle) run as a child process: in a file of its own so that jest runs it
// beside the in-process CLI tests (cli.test.ts) on the other core.
import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { main } from '../src/cli.js';
import { fixDockerfile } from '../src/index.js';
import type { JsonReport } from '../src/report/json.js';
import { ALPINE, BIN, cleanup, DEBIAN, NO_FROM, REPO, runCli, SUMMARY, tempDir, VERSION, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

describe('bin/peak-fix.js (built)', () => {
  beforeAll(() => {
    // `npm run build`. tsc emits even when another module has a type error (type checking is its own
    // check), so only a missing output fails here.
    const build = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    if (build.status !== 0 && !existsSync(path.join(REPO, 'dist/src/cli.js')))
      throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
    // The bundle bin/ runs (scripts/bundle.js, the second half of `npm run build`).
    const bundle = spawnSync(process.execPath, [path.join(REPO, 'scripts/bundle.js')], { cwd: REPO, encoding: 'utf8' });
    if (bundle.status !== 0) throw new Error(`bundle failed:\n${bundle.stdout}${bundle.stderr}`);
  }, 120_000);

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
      const { useWorkers, MIN_FILES_PER_WORKER } = (await import(path.join(REPO, 'dist/src/pool.js'))) as typeof import('../src/pool.js');
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

  test('SIGINT during --write: in-flight writes finish, every file is old or new, exit 130', async () => {
    const count = 400;
    const body = ('# ' + 'padding '.repeat(9) + '\n').repeat(2700); // ~200 KB
    const originals = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const name = `batch/s${String(i).padStart(3, '0')}/Dockerfile`;
      const text = `${i % 2 ? 'FROM alpine:3.20' : 'FROM debian:bookworm-slim'}\n# service ${i}\n${body}COPY app /app\nCMD ["/app"]\n`;
      originals.set(name, text);
    }
    writeTree(dir, Object.fromEntries(originals));
    const modes = new Map([...originals.keys()].map((name, i) => [name, i % 3 ? 0o644 : 0o750]));
    for (const [name, mode] of modes) chmodSync(path.join(dir, name), mode);
    expect(originals.get('batch/s000/Dockerfile')!.length).toBeGreaterThan(190_000);

    const child = spawn(process.execPath, [BIN, '--write', 'batch'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!sent && /\n/.test(stdout)) {
        sent = true; // after the first completed write
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );

    expect(sent).toBe(true);
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): \d+ files not processed/);
    expect(stderr).toMatch(SUMMARY);

    // The files differ only in their FROM line (two kinds) and a comment the engine keeps: one migration per kind.
    const migratedKinds = new Map<string, string>();
    const expected = (original: string): string => {
      const [from, service] = original.split('\n', 2);
      let migrated = migratedKinds.get(from);
      if (migrated === undefined) {
        migrated = fixDockerfile(original.replace(`\n${service}\n`, '\n# service\n')).output;
        migratedKinds.set(from, migrated);
      }
      return migrated.replace('\n# service\n', `\n${service}\n`);
    };
    expect(expected(originals.get('batch/s001/Dockerfile')!)).toBe(fixDockerfile(originals.get('batch/s001/Dockerfile')!).output);
    const rewritten: string[] = [];
    for (const [name, original] of originals) {
      const now = read(name);
      if (now === original) continue;
      expect(now).toBe(expected(original)); // never partial
      rewritten.push(name);
    }
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.length).toBeLessThan(count); // the interrupt stopped the batch
    // Exactly the files reported as written were rewritten.
    expect(stdout.split('\n').filter((line) => line.startsWith('batch/'))).toEqual(rewritten);
    expect(stderr).toContain(`${rewritten.length} changed, 0 unchanged, 0 skipped, 0 errors`);
    // No temporary file left behind, modes kept.
    for (const name of originals.keys()) {
      expect(readdirSync(path.dirname(path.join(dir, name)))).toEqual(['Dockerfile']);
      expect(statSync(path.join(dir, name)).mode & 0o777).toBe(modes.get(name));
    }
  }, 120_000);

  /**
   * 150 files of ~200 KB under batch/ (enough that a run is still going when the signal arrives), each with what the
   * engine makes of it. They differ only in a comment line, which the engine keeps as it is: one migration gives
   * every expected text.
   */
  function signalBatch(): { originals: Map<string, string>; expected: Map<string, string> } {
    const body = ('# ' + 'padding '.repeat(9) + '\n').repeat(2700);
    const text = (i: number) => `FROM debian:bookworm-slim\n# service ${i}\n${body}COPY app /app\n`;
    const migrated = fixDockerfile(text(0)).output;
    const originals = new Map<string, string>();
    const expected = new Map<string, string>();
    for (let i = 0; i < 150; i++) {
      const name = `batch/s${String(i).padStart(3, '0')}/Dockerfile`;
      originals.set(name, text(i));
      expected.set(name, migrated.replace('\n# service 0\n', `\n# service ${i}\n`));
    }
    expect(fixDockerfile(text(149)).output).toBe(expected.get('batch/s149/Dockerfile'));
    writeTree(dir, Object.fromEntries(originals));
    return { originals, expected };
  }

  /** Whether batch/s000 has been rewritten (its size changes: no need to read 200 KB every 2 ms). */
  const firstRewritten = (originals: Map<string, string>): boolean =>
    statSync(path.join(dir, 'batch/s000/Dockerfile')).size !== Buffer.byteLength(originals.get('batch/s000/Dockerfile') as string);

  /** The signal goes once batch/s000 has been rewritten. */
  async function stoppedRun(signal: NodeJS.Signals, format: string) {
    const { originals, expected } = signalBatch();
    const child = spawn(process.execPath, [BIN, '--write', '--format', format, 'batch'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    let sent = false;
    const poll = setInterval(() => {
      if (!sent && firstRewritten(originals)) {
        sent = true;
        child.kill(signal);
      }
    }, 2);
    const [code, killedBy] = await closed;
    clearInterval(poll);
    expect(sent).toBe(true);
    expect(killedBy).toBeNull(); // handled, not killed
    const rewritten: string[] = [];
    for (const [name, original] of originals) {
      const now = read(name);
      if (now === original) continue;
      expect(now).toBe(expected.get(name)); // never partial
      rewritten.push(name);
    }
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.length).toBeLessThan(originals.size);
    for (const name of originals.keys()) expect(readdirSync(path.dirname(path.join(dir, name)))).toEqual(['Dockerfile']);
    return { code, stdout, stderr, rewritten };
  }

  test.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s during --write behaves like SIGINT: writes finish, the list and summary are complete, exit %d',
    async (signal, exit) => {
      const { code, stdout, stderr, rewritten } = await stoppedRun(signal, 'text');
      expect(code).toBe(exit);
      expect(stderr).toMatch(new RegExp(`interrupted \\(${signal}\\): \\d+ files not processed`));
      expect(stdout.split('\n').filter((line) => line.startsWith('batch/'))).toEqual(rewritten);
      expect(stderr).toContain(`${rewritten.length} changed, 0 unchanged, 0 skipped, 0 errors`);
    },
    120_000,
  );

  test('SIGTERM with --format json: still one valid document listing exactly the files written', async () => {
    const { code, stdout, rewritten } = await stoppedRun('SIGTERM', 'json');
    expect(code).toBe(143);
    const report = JSON.parse(stdout) as JsonReport;
    expect(report.signal).toBe('SIGTERM');
    expect(report.interrupted).toBe(true);
    expect(report.files.filter((file) => file.status === 'changed').map((file) => file.path)).toEqual(rewritten);
    expect(report.summary).toEqual({ changed: rewritten.length, unchanged: 0, skipped: 0, errors: 0 });
  }, 120_000);

  test('a second SIGTERM exits at once: temporary files removed, every file still old or new', async () => {
    const { originals, expected } = signalBatch();
    const child = spawn(process.execPath, [BIN, '--write', 'batch'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    let sent = false;
    const poll = setInterval(() => {
      if (!sent && firstRewritten(originals)) {
        sent = true;
        child.kill('SIGTERM');
        child.kill('SIGTERM');
      }
    }, 2);
    const [code, killedBy] = await closed;
    clearInterval(poll);
    expect(sent).toBe(true);
    expect([code, killedBy]).toEqual([143, null]);
    for (const [name, original] of originals) {
      const now = read(name);
      if (now !== original) expect(now).toBe(expected.get(name));
      expect(readdirSync(path.dirname(path.join(dir, name)))).toEqual(['Dockerfile']);
    }
  }, 120_000);

  test('SIGHUP with --format sarif: still one valid log, naming the signal', async () => {
    const { code, stdout } = await stoppedRun('SIGHUP', 'sarif');
    expect(code).toBe(129);
    const log = JSON.parse(stdout) as {
      version: string;
      runs: { invocations: { executionSuccessful: boolean; exitSignalName?: string }[] }[];
    };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].invocations[0]).toMatchObject({ executionSuccessful: false, exitSignalName: 'SIGHUP' });
  }, 120_000);
});

test('writes through main() keep unchanged files untouched (mtime)', async () => {
  writeTree(dir, { 'a/Dockerfile': fixDockerfile(DEBIAN).output, 'b/Dockerfile': DEBIAN });
  const before = statSync(path.join(dir, 'a/Dockerfile')).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect((await runCli(['--write'], { cwd: dir })).code).toBe(0);
  expect(statSync(path.join(dir, 'a/Dockerfile')).mtimeMs).toBe(before);
  expect(read('b/Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
});
