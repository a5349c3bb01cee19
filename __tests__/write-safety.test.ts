import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fixDockerfile } from '../src/index.js';
import { FileError, MAX_BYTES, readDockerfile, writeDockerfile } from '../src/runner/io.js';
import { cleanup, DEBIAN, runCli, tempDir, writeTree } from './helpers/cli.js';

/**
 * The write path against a hostile file system: a full disk (a real 64 KB tmpfs), a concurrent writer and a
 * concurrent symbolic-link swapper (real child processes), hard links, other owners, read-only files.
 */

let dir: string;
beforeEach(() => {
  dir = tempDir('peak-fix-write-');
});
afterEach(() => cleanup(dir));

/** A Dockerfile of about `bytes` bytes whose migration adds `--chown=peak-user ` to every COPY. */
function manyCopies(bytes: number): string {
  let text = 'FROM debian:bookworm-slim\n';
  for (let i = 0; text.length < bytes; i++) text += `COPY service-${String(i).padStart(5, '0')}.conf /srv/app/\n`;
  return text;
}

async function writeError(promise: Promise<unknown>): Promise<FileError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FileError);
    return error as FileError;
  }
  throw new Error('the write did not fail');
}

describe('a full disk (a real 64 KB tmpfs)', () => {
  let mount: string;
  beforeAll(() => {
    // Needs root (CI runs as root). Not skipped when it cannot mount: the test fails, so the case is never
    // silently untested.
    mount = tempDir('peak-fix-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  });
  afterAll(() => {
    execFileSync('umount', [mount]);
    cleanup(mount);
  });

  test('the rewrite does not fit: the write fails, the original is intact, no temporary file is left', async () => {
    const file = path.join(mount, 'Dockerfile');
    const original = manyCopies(37_800);
    writeFileSync(file, original);
    const output = fixDockerfile(original).output;
    expect(output.length).toBeGreaterThan(original.length + 20_000); // 24 KB free: cannot fit
    const { snapshot } = await readDockerfile(file);
    const error = await writeError(writeDockerfile(file, output, snapshot));
    expect(error.message).toBe('no space left on device (ENOSPC)');
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(readdirSync(mount)).toEqual(['Dockerfile']);
  });

  test('through the CLI: one error, nothing counted as changed, exit 2', async () => {
    const original = manyCopies(37_800);
    writeFileSync(path.join(mount, 'Dockerfile'), original);
    const { code, stdout, stderr } = await runCli(['--write', 'Dockerfile'], { cwd: mount });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('peak-fix: Dockerfile: no space left on device (ENOSPC)\n');
    expect(stderr).toContain('0 changed, 0 unchanged, 0 skipped, 1 error\n');
    expect(readFileSync(path.join(mount, 'Dockerfile'), 'utf8')).toBe(original);
    expect(readdirSync(mount)).toEqual(['Dockerfile']);
  });
});

describe('the last check comes after the temporary file is written', () => {
  test('a change made while the temporary file is written is not overwritten', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    const { snapshot } = await readDockerfile(file);
    const edited = DEBIAN + 'RUN edited meanwhile\n';
    const error = await writeError(
      writeDockerfile(file, fixDockerfile(DEBIAN).output, snapshot, { beforeFinalCheck: () => writeFileSync(file, edited) }),
    );
    expect(error.code).toBe('CHANGED_ON_DISK');
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(readdirSync(dir)).toEqual(['Dockerfile']);
  });

  test('a symbolic link swapped in for the file is neither followed nor replaced', async () => {
    writeTree(dir, { 'tree/Dockerfile': DEBIAN, 'outside/Dockerfile': 'FROM outside\n' });
    const file = path.join(dir, 'tree/Dockerfile');
    const { snapshot } = await readDockerfile(file);
    const swap = (): void => {
      symlinkSync('../outside/Dockerfile', path.join(dir, 'tree/link'));
      renameSync(path.join(dir, 'tree/link'), file);
    };
    const error = await writeError(writeDockerfile(file, fixDockerfile(DEBIAN).output, snapshot, { beforeFinalCheck: swap }));
    expect(error.message).toBe('became a symbolic link since it was read; not overwritten');
    expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe('FROM outside\n');
    expect(readdirSync(path.join(dir, 'tree'))).toEqual(['Dockerfile']);
  });

  test('a directory swapped for a link out of the tree: the write stays with the directory that was checked', async () => {
    writeTree(dir, { 'tree/sub/Dockerfile': DEBIAN, 'outside/Dockerfile': DEBIAN });
    const file = path.join(dir, 'tree/sub/Dockerfile');
    const { snapshot } = await readDockerfile(file);
    const swap = (): void => {
      renameSync(path.join(dir, 'tree/sub'), path.join(dir, 'tree/moved'));
      symlinkSync('../outside', path.join(dir, 'tree/sub'));
    };
    await writeDockerfile(file, fixDockerfile(DEBIAN).output, snapshot, { beforeFinalCheck: swap });
    expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe(DEBIAN);
    expect(readFileSync(path.join(dir, 'tree/moved/Dockerfile'), 'utf8')).toBe(fixDockerfile(DEBIAN).output);
  });

  test('a directory already swapped for a link before the write is refused', async () => {
    writeTree(dir, { 'tree/sub/Dockerfile': DEBIAN, 'outside/Dockerfile': DEBIAN });
    const file = path.join(dir, 'tree/sub/Dockerfile');
    const { snapshot } = await readDockerfile(file);
    renameSync(path.join(dir, 'tree/sub'), path.join(dir, 'tree/moved'));
    symlinkSync('../outside', path.join(dir, 'tree/sub'));
    const error = await writeError(writeDockerfile(file, fixDockerfile(DEBIAN).output, snapshot));
    expect(error.code).toBe('CHANGED_ON_DISK');
    expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe(DEBIAN);
  });
});

/** Runs `script` in a separate node process until killed. */
function background(script: string): ChildProcess {
  return spawn(process.execPath, ['-e', script], { cwd: dir, stdio: 'ignore' });
}

async function stop(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await closed;
}

describe('races with real concurrent processes', () => {
  test('a symbolic-link swapper never gets a file outside the tree overwritten', async () => {
    writeTree(dir, { 'tree/Dockerfile': DEBIAN, 'outside/Dockerfile': 'FROM outside\n' });
    // Moves tree/Dockerfile aside, puts a link to outside/Dockerfile in its place, moves the file back: the same
    // inode, size and mtime every time, so only the path changes under the writer's feet.
    const swapper = background(`
      const fs = require('fs');
      for (;;) {
        try {
          fs.renameSync('tree/Dockerfile', 'tree/.aside');
          fs.symlinkSync('../outside/Dockerfile', 'tree/Dockerfile');
          fs.renameSync('tree/.aside', 'tree/Dockerfile');
        } catch {}
      }`);
    const file = path.join(dir, 'tree/Dockerfile');
    let attempts = 0;
    let written = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // At least 300 trials, and more (for up to 30 s) until 30 reads and one write got through the race: on a
      // busy machine the swapper can hold the path for most trials.
      const deadline = Date.now() + 30_000;
      for (let trial = 0; (trial < 300 || attempts <= 30 || written === 0) && Date.now() < deadline; trial++) {
        let snapshot;
        try {
          snapshot = (await readDockerfile(file)).snapshot; // follows a link, like the first read of a run
        } catch {
          continue;
        }
        attempts++;
        try {
          await writeDockerfile(file, DEBIAN, snapshot); // the same text: the swapper's file stays valid
          written++;
        } catch (error) {
          expect(error).toBeInstanceOf(FileError);
        }
        expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe('FROM outside\n');
      }
    } finally {
      await stop(swapper);
    }
    expect(attempts).toBeGreaterThan(20);
    expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe('FROM outside\n');
    expect(readdirSync(path.join(dir, 'tree')).filter((name) => name.includes('peak-fix'))).toEqual([]);
    expect(written).toBeGreaterThan(0); // the race was run, not only refused up front
  }, 60_000);

  test('a concurrent writer: every write is complete or refused as changed on disk, never a mix', async () => {
    const versions = Array.from({ length: 4 }, (_, i) => DEBIAN.replace('COPY a /a', `COPY v${i} /v${i}`));
    writeFileSync(path.join(dir, 'Dockerfile'), versions[0]);
    // An editor saving over and over (in place, as many do) for 1.5 s, then stopping after a complete save.
    const writer = background(`
      const fs = require('fs'); const versions = ${JSON.stringify(versions)}; const end = Date.now() + 1500;
      for (let i = 0; Date.now() < end; i++) fs.writeFileSync('Dockerfile', versions[i % versions.length]);`);
    let running = true;
    const finished = new Promise((resolve) => writer.on('close', resolve)).then(() => (running = false));
    const file = path.join(dir, 'Dockerfile');
    const outcomes = { written: 0, refused: 0 };
    const expected = new Set([...versions, ...versions.map((v) => fixDockerfile(v).output)]);
    while (running) {
      let read;
      try {
        read = await readDockerfile(file);
      } catch {
        continue; // caught the writer between its truncate and its write (empty file)
      }
      if (!expected.has(read.text)) continue; // a half-written save of the writer's own
      try {
        await writeDockerfile(file, fixDockerfile(read.text).output, read.snapshot);
        outcomes.written++;
      } catch (error) {
        expect((error as FileError).code).toBe('CHANGED_ON_DISK');
        outcomes.refused++;
      }
    }
    await finished;
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(expected.has(readFileSync(file, 'utf8'))).toBe(true);
    expect(readdirSync(dir)).toEqual(['Dockerfile']);
  }, 60_000);
});

describe('what a rename would break or take over is refused', () => {
  test('hard links: processed once, refused with the reason, still linked', async () => {
    writeTree(dir, { 'a/Dockerfile': DEBIAN });
    mkdirSync(path.join(dir, 'b'));
    linkSync(path.join(dir, 'a/Dockerfile'), path.join(dir, 'b/Dockerfile'));
    const { code, stdout, stderr } = await runCli(['--write', '.'], { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('peak-fix: b/Dockerfile: hard link to a/Dockerfile, processed once as a/Dockerfile\n');
    expect(stderr).toContain('peak-fix: a/Dockerfile: has 2 hard links: replacing it would split them');
    expect(stderr).toContain('0 changed, 0 unchanged, 0 skipped, 1 error\n');
    expect(statSync(path.join(dir, 'a/Dockerfile')).ino).toBe(statSync(path.join(dir, 'b/Dockerfile')).ino);
    expect(readFileSync(path.join(dir, 'b/Dockerfile'), 'utf8')).toBe(DEBIAN);
    // The dry run shows the diff once.
    const dry = await runCli(['.'], { cwd: dir });
    expect(dry.stdout.match(/^--- /gm)).toHaveLength(1);
  });

  test('a read-only file (no write bit) is refused, even for root', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    chmodSync(path.join(dir, 'Dockerfile'), 0o444);
    const { code, stderr } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('peak-fix: Dockerfile: read-only (mode 0444): not overwritten\n');
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(DEBIAN);
  });

  test('the owner and group are kept (run as root)', async () => {
    expect(process.getuid?.()).toBe(0); // CI runs as root; chown to another user needs it
    writeTree(dir, { Dockerfile: DEBIAN });
    chownSync(path.join(dir, 'Dockerfile'), 1234, 2345);
    chmodSync(path.join(dir, 'Dockerfile'), 0o640);
    expect((await runCli(['--write'], { cwd: dir })).code).toBe(0);
    const after = statSync(path.join(dir, 'Dockerfile'));
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([1234, 2345, 0o640]);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(fixDockerfile(DEBIAN).output);
  });

  test('a directory link on the way out of the tree is not followed (linkdir/Dockerfile)', async () => {
    writeTree(dir, { 'outside/Dockerfile': DEBIAN, 'tree/.keep': '' });
    symlinkSync('../outside', path.join(dir, 'tree/linkdir'));
    const cwd = path.join(dir, 'tree');
    for (const input of ['linkdir/Dockerfile', 'linkdir']) {
      const { code, stderr } = await runCli(['--write', input], { cwd });
      expect(code).toBe(0);
      expect(stderr).toContain(`peak-fix: ${input}: skipped: reached through a symbolic link to ${path.join(dir, 'outside')}`);
      expect(readFileSync(path.join(dir, 'outside/Dockerfile'), 'utf8')).toBe(DEBIAN);
    }
  });
});

describe('the size limit', () => {
  test('a file just under 5 MB whose rewrite passes it is written, and the next run accepts it unchanged', async () => {
    const file = path.join(dir, 'Dockerfile');
    const head = 'FROM debian:bookworm-slim\nCOPY a /a\n';
    writeFileSync(file, head + '#'.repeat(MAX_BYTES - head.length - 10) + '\n');
    const first = await runCli(['--write'], { cwd: dir });
    expect(first.code).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(MAX_BYTES);
    const second = await runCli(['--check'], { cwd: dir });
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/larger than/) });
    unlinkSync(file);
  });

  test('a file over 5 MB that still needs migrating is refused, and left as it is', async () => {
    const file = path.join(dir, 'Dockerfile');
    const text = 'FROM debian:bookworm-slim\nCOPY a /a\n' + '#'.repeat(MAX_BYTES) + '\n';
    writeFileSync(file, text);
    const { code, stderr } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(/peak-fix: Dockerfile: file is larger than 5 MB \(5\.0 MB\): not migrated\n/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    unlinkSync(file);
  });
});
