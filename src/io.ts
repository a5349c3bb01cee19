import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

/** Files above this size are refused: no Dockerfile is that big, and the engine holds the whole text. */
export const MAX_BYTES = 5 * 1024 * 1024;
/** How much of the start of a file is searched for a NUL byte. */
export const BINARY_SNIFF_BYTES = 8 * 1024;

/** A file that cannot be read or written safely. The message is one line and does not repeat the path. */
export class FileError extends Error {
  constructor(
    message: string,
    readonly code: FileErrorCode,
  ) {
    super(message);
    this.name = 'FileError';
  }
}

export type FileErrorCode = 'ENOENT' | 'NOT_REGULAR' | 'EACCES' | 'TOO_LARGE' | 'BINARY' | 'ENCODING' | 'EMPTY' | 'CHANGED_ON_DISK' | 'IO';

/** What was read, to check before writing that the file has not changed since. */
export interface Snapshot {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** Permission bits (and setuid/setgid/sticky), kept on write. */
  mode: number;
  bytes: Buffer;
}

export interface ReadResult {
  /** The decoded text; a UTF-8 BOM is kept as U+FEFF (the engine handles it). */
  text: string;
  snapshot: Snapshot;
}

/**
 * Reads a Dockerfile with every guard: it must exist, be a regular file (a FIFO is never opened for a
 * blocking read), be readable, at most 5 MB, not binary, valid UTF-8 and not empty. Symbolic links are
 * followed; deciding whether a link may be followed is the caller's business.
 */
export async function readDockerfile(path: string): Promise<ReadResult> {
  // stat first: a FIFO, socket or device is refused without being opened.
  const before = await stat(path).catch((error: unknown) => {
    throw fsError(error);
  });
  checkStats(before);
  // O_NONBLOCK: should the path be swapped for a FIFO after the stat, open() still does not hang;
  // fstat on the descriptor then tells what was really opened.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw fsError(error);
  });
  try {
    const stats = await handle.stat();
    checkStats(stats);
    const bytes = await readAtMost(handle, MAX_BYTES + 1);
    const text = decodeDockerfile(bytes);
    return {
      text,
      snapshot: { dev: stats.dev, ino: stats.ino, size: bytes.length, mtimeMs: stats.mtimeMs, mode: stats.mode & 0o7777, bytes },
    };
  } catch (error) {
    throw error instanceof FileError ? error : fsError(error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Applies the content guards (size, binary, UTF-8, empty) to bytes from anywhere (a file, stdin) and
 * decodes them. The BOM is kept.
 */
export function decodeDockerfile(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new FileError('empty file', 'EMPTY');
  if (bytes.length > MAX_BYTES) throw new FileError(`file is larger than 5 MB (${formatMegabytes(bytes.length)})`, 'TOO_LARGE');
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new FileError('UTF-16 encoded file: convert it to UTF-8', 'ENCODING');
  }
  const head = bytes.subarray(0, BINARY_SNIFF_BYTES);
  if (head.includes(0)) throw new FileError('binary file (NUL byte in the first 8 KB)', 'BINARY');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new FileError('not valid UTF-8 text', 'ENCODING');
  }
}

/**
 * Replaces the file's content atomically (a temporary file in the same directory, then rename), keeping
 * its mode and owner. `path` must be the real path (no symbolic link): the caller resolved it. Refuses
 * when the file changed on disk since `snapshot` was taken.
 */
export async function writeDockerfile(path: string, text: string, snapshot: Snapshot): Promise<void> {
  const now = await lstat(path).catch((error: unknown) => {
    throw fsError(error);
  });
  if (now.isSymbolicLink()) throw new FileError('became a symbolic link since it was read; not overwritten', 'CHANGED_ON_DISK');
  if (!sameFile(now, snapshot)) throw changedOnDisk();
  const current = await readCurrent(path);
  if (!current.equals(snapshot.bytes)) throw changedOnDisk();
  try {
    await writeFileAtomic(path, text, { encoding: 'utf8', mode: snapshot.mode });
  } catch (error) {
    throw fsError(error);
  }
}

function sameFile(now: Stats, snapshot: Snapshot): boolean {
  return now.dev === snapshot.dev && now.ino === snapshot.ino && now.size === snapshot.size && now.mtimeMs === snapshot.mtimeMs;
}

function changedOnDisk(): FileError {
  return new FileError('changed on disk since it was read; not overwritten', 'CHANGED_ON_DISK');
}

async function readCurrent(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw fsError(error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw changedOnDisk();
    return await readAtMost(handle, MAX_BYTES + 1);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readAtMost(handle: import('node:fs/promises').FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const buffer = Buffer.allocUnsafe(Math.min(64 * 1024, limit - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

function checkStats(stats: Stats): void {
  if (stats.isFile()) {
    if (stats.size > MAX_BYTES) throw new FileError(`file is larger than 5 MB (${formatMegabytes(stats.size)})`, 'TOO_LARGE');
    return;
  }
  throw new FileError(`not a regular file (${describeKind(stats)})`, 'NOT_REGULAR');
}

/** The kind of a non-regular file, for messages. */
export function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'unknown type';
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Node's fs errors as one-line FileErrors; anything else is passed through. */
export function fsError(error: unknown): Error {
  if (error instanceof FileError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new FileError('no such file or directory', 'ENOENT');
    case 'ENOTDIR':
      return new FileError('no such file or directory (a parent is not a directory)', 'ENOENT');
    case 'EACCES':
    case 'EPERM':
      return new FileError('permission denied', 'EACCES');
    case 'EISDIR':
      return new FileError('not a regular file (a directory)', 'NOT_REGULAR');
    case 'ELOOP':
      return new FileError('too many levels of symbolic links', 'IO');
    case undefined:
      return error instanceof Error ? error : new Error(String(error));
    default:
      return new FileError(`${code}: ${(error as Error).message}`, 'IO');
  }
}
