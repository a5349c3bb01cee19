import { randomBytes } from 'node:crypto';
import { close, constants, fchmod, fchown, fstat, fsync, openSync, unlinkSync, write, type Stats } from 'node:fs';
import { access, lstat, open, readlink, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Files above this size are refused: no Dockerfile is that big, and the engine holds the whole text. */
export const MAX_BYTES = 5 * 1024 * 1024;
/**
 * Files over MAX_BYTES are still read up to this size, so that a file just under the limit whose rewrite grew
 * past it is accepted by the next run (which changes nothing in it); the runner refuses to migrate them, and no
 * rewrite larger than this is written.
 */
export const HARD_MAX_BYTES = 4 * MAX_BYTES;

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

export type FileErrorCode =
  'ENOENT' | 'NOT_REGULAR' | 'EACCES' | 'TOO_LARGE' | 'BINARY' | 'ENCODING' | 'EMPTY' | 'CHANGED_ON_DISK' | 'NOT_WRITABLE' | 'IO';

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
    const bytes = await readAtMost(handle, HARD_MAX_BYTES + 1);
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
  if (bytes.length > HARD_MAX_BYTES) throw new FileError(`file is larger than 20 MB (${formatMegabytes(bytes.length)})`, 'TOO_LARGE');
  // UTF-32 first: its little-endian BOM starts with UTF-16's (FF FE).
  if (
    (bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) ||
    (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff)
  ) {
    throw new FileError('UTF-32 encoded file: convert it to UTF-8', 'ENCODING');
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new FileError('UTF-16 encoded file: convert it to UTF-8', 'ENCODING');
  }
  // Anywhere, not only near the start: a NUL byte is never part of a text Dockerfile.
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new FileError(`binary file (NUL byte at offset ${nul})`, 'BINARY');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new FileError('not valid UTF-8 text', 'ENCODING');
  }
}

/** Temporary files being written right now, so a second signal can remove them before exiting. */
const pendingTemporaries = new Set<string>();

/**
 * Removes the temporary files of writes still in flight (synchronously: called right before
 * `process.exit` on a second SIGINT/SIGTERM/SIGHUP). The files they were meant to replace stay as they were.
 */
export function removePendingTemporaries(): void {
  for (const temporary of pendingTemporaries) {
    try {
      unlinkSync(temporary);
    } catch {
      // already renamed into place (the file is new) or already gone
    }
  }
  pendingTemporaries.clear();
}

/** Test hooks into the write, to make the race windows happen on purpose. */
export interface WriteHooks {
  /** Runs after the temporary file is complete and before the last check and the rename. */
  beforeFinalCheck?: () => Promise<void> | void;
}

/**
 * Replaces the file's content atomically, keeping its mode and owner, or fails and leaves it as it was.
 *
 * `path` must be the real path (no symbolic link): the caller resolved it. In order:
 * 1. its directory is opened (`O_DIRECTORY|O_NOFOLLOW`) and must still be the directory `path` names; from then
 *    on every step goes through that descriptor (`/proc/self/fd/N/<name>` on Linux), so a directory or
 *    symbolic link swapped in on the way later cannot send the write elsewhere;
 * 2. the file must be the one read (device, inode, size, mtime), not a symbolic link, have one link only
 *    (a rename would split hard links), be writable by the running user (`access(W_OK)` and at least one
 *    write bit), and belong to the running user unless that is root (a new file would change its owner);
 * 3. the text goes to a new temporary file opened `O_CREAT|O_EXCL|O_NOFOLLOW` (never an existing file or
 *    link), written in a loop until every byte is written, given the mode, owner and group, flushed with
 *    `fsync` (a full disk fails here at the latest) and its size checked against the text;
 * 4. last, the file on disk is compared with what was read once more (identity and bytes);
 * 5. `rename` puts the temporary file in place.
 * Any failure removes the temporary file. What remains: a change made to the file between step 4 and
 * step 5 (microseconds) is replaced.
 */
export async function writeDockerfile(path: string, text: string, snapshot: Snapshot, hooks: WriteHooks = {}): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > HARD_MAX_BYTES) {
    throw new FileError(
      `the rewritten file would be ${formatMegabytes(bytes.length)}, over the 20 MB limit peak-fix reads: not written`,
      'TOO_LARGE',
    );
  }
  const directory = await openDirectory(dirname(path));
  try {
    const target = join(directory.base, basename(path));
    const current = await checkUnchanged(target, snapshot);
    await checkReplaceable(target, current);
    const temporary = join(directory.base, `.${basename(path)}.peak-fix-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeTemporary(temporary, bytes, current);
      await hooks.beforeFinalCheck?.();
      await checkUnchanged(target, snapshot);
      await rename(temporary, target);
      pendingTemporaries.delete(temporary);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      pendingTemporaries.delete(temporary);
      throw fsError(error);
    }
    await directory.sync();
  } catch (error) {
    throw fsError(error);
  } finally {
    await directory.close();
  }
}

interface DirectoryAnchor {
  /** Prefix for names inside the directory: `/proc/self/fd/N` (bound to the opened directory) or its path. */
  base: string;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the directory without following a symbolic link in its last component and checks, through
 * `/proc/self/fd`, that the directory opened is the one at `dir` (no component was swapped for a link).
 * Node has no `renameat`; paths under `/proc/self/fd/N` resolve to the opened directory whatever happens to
 * `dir` afterwards, which gives the same guarantee. Without `/proc` (not Linux), `dir` itself is used.
 */
async function openDirectory(dir: string): Promise<DirectoryAnchor> {
  const handle = await open(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0)).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ELOOP' || error.code === 'ENOTDIR') throw directoryMoved();
      throw fsError(error);
    },
  );
  const close = () => handle.close().catch(() => undefined);
  const sync = () => handle.sync().catch(() => undefined); // makes the rename durable; best effort
  const base = `/proc/self/fd/${handle.fd}`;
  let opened: string;
  try {
    opened = await readlink(base);
  } catch {
    return { base: dir, sync, close };
  }
  if (opened !== dir) {
    await close();
    throw directoryMoved();
  }
  return { base, sync, close };
}

function directoryMoved(): FileError {
  return new FileError('its directory was moved or replaced by a symbolic link since it was read; not overwritten', 'CHANGED_ON_DISK');
}

/** The file must be the one read, byte for byte; returns its current stats. */
async function checkUnchanged(target: string, snapshot: Snapshot): Promise<Stats> {
  const now = await lstat(target);
  if (now.isSymbolicLink()) throw new FileError('became a symbolic link since it was read; not overwritten', 'CHANGED_ON_DISK');
  if (!sameFile(now, snapshot)) throw changedOnDisk();
  const current = await readCurrent(target);
  if (!current.equals(snapshot.bytes)) throw changedOnDisk();
  return now;
}

/** Refuses what a rename would break or take over: hard links, read-only files, files of another owner. */
async function checkReplaceable(target: string, stats: Stats): Promise<void> {
  if (stats.nlink > 1) {
    throw new FileError(
      `has ${stats.nlink} hard links: replacing it would split them, so it is not overwritten (edit it in place, or break the links)`,
      'NOT_WRITABLE',
    );
  }
  try {
    await access(target, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new FileError(`not writable by the running user (${code}): not overwritten`, 'NOT_WRITABLE');
    }
    throw error;
  }
  // root passes access(); a file without any write bit is still read-only by intent.
  if ((stats.mode & 0o222) === 0) {
    throw new FileError(`read-only (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}): not overwritten`, 'NOT_WRITABLE');
  }
  const uid = process.geteuid?.();
  if (uid !== undefined && uid !== 0 && stats.uid !== uid) {
    throw new FileError(
      `owned by uid ${stats.uid}: replacing it would make it the running user's (uid ${uid}); not overwritten`,
      'NOT_WRITABLE',
    );
  }
}

/** Writes every byte to a new temporary file with the original's mode, owner and group, then flushes it. */
async function writeTemporary(temporary: string, bytes: Buffer, original: Stats): Promise<void> {
  // Created synchronously and recorded in the same tick: a signal handler (which runs between ticks) then never
  // sees the file on disk without it being in pendingTemporaries, and no create is still in flight on the thread
  // pool when it exits.
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  pendingTemporaries.add(temporary);
  try {
    let written = 0;
    while (written < bytes.length) {
      // fs.write may write fewer bytes than asked (a nearly full disk): keep going until all are written or it fails.
      const { bytesWritten } = await writeAsync(fd, bytes, written, bytes.length - written, written);
      if (bytesWritten <= 0) throw new FileError(`short write: ${written} of ${bytes.length} bytes written; not overwritten`, 'IO');
      written += bytesWritten;
    }
    if (original.uid !== process.geteuid?.() || original.gid !== process.getegid?.()) {
      await fchownAsync(fd, original.uid, original.gid).catch((error: NodeJS.ErrnoException) => {
        throw new FileError(`its owner ${original.uid}:${original.gid} could not be kept (${error.code}): not overwritten`, 'NOT_WRITABLE');
      });
    }
    await fchmodAsync(fd, original.mode & 0o7777); // after chown, which clears setuid/setgid
    await fsyncAsync(fd);
    const { size } = await fstatAsync(fd);
    if (size !== bytes.length) throw new FileError(`short write: ${size} of ${bytes.length} bytes on disk; not overwritten`, 'IO');
  } finally {
    await closeAsync(fd).catch(() => undefined);
  }
}

const writeAsync = promisify(write) as (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => Promise<{ bytesWritten: number; buffer: Buffer }>;
const fchownAsync = promisify(fchown);
const fchmodAsync = promisify(fchmod);
const fsyncAsync = promisify(fsync);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

function sameFile(now: Stats, snapshot: Snapshot): boolean {
  return now.dev === snapshot.dev && now.ino === snapshot.ino && now.size === snapshot.size && now.mtimeMs === snapshot.mtimeMs;
}

function changedOnDisk(): FileError {
  return new FileError('changed on disk since it was read; not overwritten', 'CHANGED_ON_DISK');
}

async function readCurrent(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0)).catch((error: unknown) => {
    throw (error as NodeJS.ErrnoException).code === 'ELOOP' ? changedOnDisk() : fsError(error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw changedOnDisk();
    return await readAtMost(handle, HARD_MAX_BYTES + 1);
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
    if (stats.size > HARD_MAX_BYTES) throw new FileError(`file is larger than 20 MB (${formatMegabytes(stats.size)})`, 'TOO_LARGE');
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

export function formatMegabytes(bytes: number): string {
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
      return new FileError(`${describeErrno(error as NodeJS.ErrnoException)} (${code})`, 'IO');
  }
}

/**
 * Node's message for a system error without what the caller says anyway: `ENOSPC: no space left on device,
 * write` is `no space left on device` (the code is added once by the caller; the syscall and the path, which
 * can be a `/proc/self/fd` alias, say nothing to the user).
 */
export function describeErrno(error: NodeJS.ErrnoException): string {
  let text = (error.message ?? '').split('\n')[0];
  if (error.code && text.startsWith(`${error.code}: `)) text = text.slice(error.code.length + 2);
  if (error.syscall) {
    const at = text.lastIndexOf(`, ${error.syscall}`);
    if (at !== -1) text = text.slice(0, at);
  }
  return text.trim() || 'input/output error';
}
