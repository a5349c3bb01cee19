import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { decodeDockerfile, FileError, fsError, HARD_MAX_BYTES, MAX_BYTES, readDockerfile, writeDockerfile } from '../src/runner/io.js';
import { cleanup, DEBIAN, tempDir } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

async function readError(file: string): Promise<FileError> {
  try {
    await readDockerfile(file);
  } catch (error) {
    expect(error).toBeInstanceOf(FileError);
    return error as FileError;
  }
  throw new Error(`reading ${file} did not fail`);
}

describe('readDockerfile guards', () => {
  test('reads a Dockerfile and keeps a BOM and CRLF', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, '\uFEFFFROM debian\r\nRUN x\r\n');
    const { text, snapshot } = await readDockerfile(file);
    expect(text).toBe('\uFEFFFROM debian\r\nRUN x\r\n');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(snapshot.size).toBe(Buffer.byteLength(text));
  });

  test('missing file', async () => {
    const error = await readError(path.join(dir, 'nope'));
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe('no such file or directory');
  });

  test('a directory is not a regular file', async () => {
    const error = await readError(dir);
    expect(error.code).toBe('NOT_REGULAR');
    expect(error.message).toMatch(/directory/);
  });

  test('a FIFO is refused without being opened (would block forever otherwise)', async () => {
    const fifo = path.join(dir, 'Dockerfile');
    execFileSync('mkfifo', [fifo]);
    const error = await readError(fifo);
    expect(error.code).toBe('NOT_REGULAR');
    expect(error.message).toBe('not a regular file (a FIFO)');
  }, 5000);

  test('a socket is refused', async () => {
    const socket = path.join(dir, 'sock');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const error = await readError(socket);
      expect(error.message).toBe('not a regular file (a socket)');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a character device is refused', async () => {
    const error = await readError('/dev/null');
    expect(error.message).toBe('not a regular file (a character device)');
  });

  test('larger than 20 MB (the hard limit: files over 5 MB are read, and only accepted when already migrated)', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, 'FROM debian\n' + '#'.repeat(HARD_MAX_BYTES));
    const error = await readError(file);
    expect(error.code).toBe('TOO_LARGE');
    expect(error.message).toMatch(/^file is larger than 20 MB/);
  });

  test('exactly 5 MB is accepted', async () => {
    const file = path.join(dir, 'Dockerfile');
    const head = 'FROM debian\n';
    writeFileSync(file, head + '#'.repeat(MAX_BYTES - head.length));
    const { text } = await readDockerfile(file);
    expect(text.length).toBe(MAX_BYTES);
  });

  test('binary: a NUL byte in the first 8 KB', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, Buffer.concat([Buffer.from('FROM debian\n'), Buffer.from([0, 1, 2]), Buffer.from('\n')]));
    const error = await readError(file);
    expect(error.code).toBe('BINARY');
    expect(error.message).toMatch(/binary/);
  });

  test('invalid UTF-8', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, Buffer.concat([Buffer.from('FROM debian\nRUN echo '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    const error = await readError(file);
    expect(error.code).toBe('ENCODING');
    expect(error.message).toMatch(/UTF-8/);
  });

  test('Latin-1 text is invalid UTF-8, valid multi-byte UTF-8 is fine', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, Buffer.from('FROM debian\n# caf\xe9\n', 'latin1'));
    expect((await readError(file)).code).toBe('ENCODING');
    writeFileSync(file, 'FROM debian\n# café ☕ 𝄞\n');
    expect((await readDockerfile(file)).text).toBe('FROM debian\n# café ☕ 𝄞\n');
  });

  test('UTF-16 gets its own message', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('FROM debian\n', 'utf16le')]);
    expect(() => decodeDockerfile(bytes)).toThrow('UTF-16 encoded file: convert it to UTF-8');
  });

  test('empty file', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, '');
    const error = await readError(file);
    expect(error.code).toBe('EMPTY');
    expect(error.message).toBe('empty file');
  });

  test('EACCES and friends map to one-line messages', () => {
    const denied = Object.assign(new Error('EACCES: permission denied, open x'), { code: 'EACCES' });
    expect(fsError(denied)).toEqual(new FileError('permission denied', 'EACCES'));
    expect(fsError(Object.assign(new Error('x'), { code: 'ENOTDIR' })).message).toMatch(/^no such file/);
  });

  test('unreadable file (when not running as root)', async () => {
    if (process.getuid?.() === 0) return; // root reads everything; the CLI test covers it with another uid
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    chmodSync(file, 0);
    expect((await readError(file)).message).toBe('permission denied');
  });
});

describe('writeDockerfile', () => {
  test('replaces the content and keeps the mode', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    chmodSync(file, 0o751);
    const { snapshot } = await readDockerfile(file);
    await writeDockerfile(file, 'FROM debian\nUSER 1000\n', snapshot);
    expect(readFileSync(file, 'utf8')).toBe('FROM debian\nUSER 1000\n');
    expect(statSync(file).mode & 0o7777).toBe(0o751);
    expect(readdirSync(dir)).toEqual(['Dockerfile']); // no temporary file left behind
  });

  test('is atomic: a new inode replaces the file (rename), the old one is never truncated', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    const before = statSync(file).ino;
    const { snapshot } = await readDockerfile(file);
    await writeDockerfile(file, 'FROM debian\nUSER 1000\n', snapshot);
    expect(statSync(file).ino).not.toBe(before);
  });

  test('refuses when the file changed on disk (size and mtime)', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    const { snapshot } = await readDockerfile(file);
    writeFileSync(file, DEBIAN + 'RUN edited meanwhile\n');
    await expect(writeDockerfile(file, 'FROM x\n', snapshot)).rejects.toThrow('changed on disk since it was read; not overwritten');
    expect(readFileSync(file, 'utf8')).toBe(DEBIAN + 'RUN edited meanwhile\n');
  });

  test('refuses when the content changed though size and mtime are the same', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    utimesSync(file, 1_700_000_000, 1_700_000_000); // whole seconds: restorable exactly
    const { snapshot } = await readDockerfile(file);
    const edited = DEBIAN.replace('COPY a /a', 'COPY b /b');
    expect(edited.length).toBe(DEBIAN.length);
    writeFileSync(file, edited);
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    expect(statSync(file).mtimeMs).toBe(snapshot.mtimeMs);
    await expect(writeDockerfile(file, 'FROM x\n', snapshot)).rejects.toMatchObject({ code: 'CHANGED_ON_DISK' });
    expect(readFileSync(file, 'utf8')).toBe(edited);
  });

  test('refuses when the file was deleted meanwhile', async () => {
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, DEBIAN);
    const { snapshot } = await readDockerfile(file);
    cleanup(file);
    await expect(writeDockerfile(file, 'FROM x\n', snapshot)).rejects.toThrow('no such file or directory');
  });
});
