// The built CLI (bin/peak-fix.js, the bundle) stopped by SIGINT, SIGTERM and SIGHUP while it writes: in a file of its
// own so that jest runs it beside the other built-CLI tests (cli-built.test.ts) on the other core. The build is
// jest's global setup (scripts/jest-build.js).
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fixDockerfile } from '../src/index.js';
import type { JsonReport } from '../src/report/json.js';
import { BIN, cleanup, SUMMARY, tempDir, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

describe('bin/peak-fix.js (built) stopped by a signal', () => {
  test('SIGINT during --write: in-flight writes finish, every file is old or new, exit 130', async () => {
    const count = 400;
    const { originals, expected } = signalBatch(
      count,
      (i) => (i % 2 ? 'FROM alpine:3.20' : 'FROM debian:bookworm-slim'),
      'COPY app /app\nCMD ["/app"]\n',
    );
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

    const rewritten: string[] = [];
    for (const [name, original] of originals) {
      const now = read(name);
      if (now === original) continue;
      expect(now).toBe(expected.get(name)); // never partial
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
   * `count` files of ~200 KB under batch/ (enough that a run is still going when the signal arrives), each with what
   * the engine makes of it. They differ only in their FROM line (a few kinds) and a `# service N` comment, which the
   * engine keeps as it is: one migration per kind gives every expected text (checked against a real one per kind).
   */
  function signalBatch(
    count = 150,
    from: (i: number) => string = () => 'FROM debian:bookworm-slim',
    tail = 'COPY app /app\n',
  ): { originals: Map<string, string>; expected: Map<string, string> } {
    const body = ('# ' + 'padding '.repeat(9) + '\n').repeat(2700);
    const text = (i: number, service = `# service ${i}`) => `${from(i)}\n${service}\n${body}${tail}`;
    const kinds = new Map<string, string>();
    const originals = new Map<string, string>();
    const expected = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const name = `batch/s${String(i).padStart(3, '0')}/Dockerfile`;
      let migrated = kinds.get(from(i));
      if (migrated === undefined) {
        migrated = fixDockerfile(text(i, '# service')).output;
        kinds.set(from(i), migrated);
        expect(fixDockerfile(text(i)).output).toBe(migrated.replace('\n# service\n', `\n# service ${i}\n`));
      }
      originals.set(name, text(i));
      expected.set(name, migrated.replace('\n# service\n', `\n# service ${i}\n`));
    }
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
