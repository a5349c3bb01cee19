import { fixDockerfile, PeakFixError, type EngineInputs, type Finding, type FixOptions, type FixResult } from '../index.js';
import type { FileResult } from '../report/types.js';
import { isContainerAction, readContextDirs, readContextFiles } from './context-io.js';
import type { Target } from './discover.js';
import { decodeDockerfile, FileError, formatMegabytes, MAX_BYTES, readDockerfile, writeDockerfile, type Snapshot } from './io.js';

/**
 * One file's job, the same on the main thread and on a worker (worker.ts): read it, read the build-context files
 * it copies in, run the engine, and (on the main thread only) write it. Every failure becomes an error result.
 */

/** What a job needs of the run's options. */
export interface JobOptions {
  /** Already validated engine options. */
  fix: Partial<FixOptions>;
  /** Rewrite a changed file in place. */
  write: boolean;
  /** What the engine gets besides the text and options. */
  inputs?: EngineInputs;
  /** The engine; tests can wrap it. */
  engine?: typeof fixDockerfile;
}

/** The result without its texts (what is kept, or sent, when the texts are not needed). */
export function withoutTexts(result: FileResult): FileResult {
  if (result.original === undefined && result.output === undefined && result.explanations === undefined) return result;
  const { original: _original, output: _output, explanations: _explanations, ...kept } = result;
  return kept;
}

/** Runs the engine over one text (stdin); nothing is read or written. */
export function runText(
  text: string | Uint8Array,
  path: string,
  fix: Partial<FixOptions>,
  engine = fixDockerfile,
  inputs: EngineInputs = {},
): FileResult {
  let decoded: string;
  try {
    decoded = typeof text === 'string' ? text : decodeDockerfile(text);
  } catch (error) {
    return failure(path, error, []);
  }
  return applyEngine(path, decoded, fix, engine, inputs);
}

/** Reads one file, runs the engine, writes when asked: on the main thread. */
export async function processTarget(target: Target, options: JobOptions, inputs: EngineInputs = {}): Promise<FileResult> {
  return commitTarget(target.realPath, await prepareTarget(target, options, inputs), options.write);
}

/** A file read and migrated, not yet written: what a worker thread sends back (worker.ts). */
export interface PreparedFile {
  result: FileResult;
  /** What was read, when the file changed: the write checks the file on disk is still exactly that. */
  snapshot?: Snapshot;
}

/** Reads one file and runs the engine; never writes (on the main thread or a worker). */
export async function prepareTarget(target: Target, options: Omit<JobOptions, 'write'>, inputs: EngineInputs = {}): Promise<PreparedFile> {
  const { path } = target;
  if (target.error !== undefined) return { result: { path, status: 'error', findings: [], error: target.error } };
  if (target.skipped !== undefined) return { result: { path, status: 'skipped', findings: [], skipped: target.skipped } };
  let read;
  try {
    read = await readDockerfile(target.realPath);
  } catch (error) {
    return { result: failure(path, error, []) };
  }
  // Files the Dockerfile copies in (a server's configuration, an entrypoint script): the engine reads none itself.
  const [contextFiles, contextDirs, containerAction] = await Promise.all([
    readContextFiles(target.realPath, read.text),
    readContextDirs(target.realPath, read.text),
    isContainerAction(target.absPath, target.actionFiles),
  ]);
  const result = applyEngine(path, read.text, options.fix, options.engine ?? fixDockerfile, {
    ...options.inputs,
    ...inputs,
    contextFiles,
    contextDirs,
    ...(containerAction ? { containerAction } : {}),
  });
  return result.status === 'changed' ? { result, snapshot: read.snapshot } : { result };
}

/**
 * Writes a changed file, on the main thread only: a second SIGINT/SIGTERM/SIGHUP removes the temporary files
 * of writes in flight before exiting (io.ts), which it can only know of in its own thread.
 */
export async function commitTarget(realPath: string, { result, snapshot }: PreparedFile, write: boolean): Promise<FileResult> {
  if (result.status !== 'changed' || !write || snapshot === undefined) return result;
  try {
    // From a worker the bytes arrive as a plain Uint8Array (structured clone): a Buffer view, not a copy.
    const raw: Uint8Array = snapshot.bytes;
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    await writeDockerfile(realPath, result.output as string, { ...snapshot, bytes });
    return { ...result, written: true };
  } catch (error) {
    return { ...failure(result.path, error, result.findings), original: result.original, output: result.output };
  }
}

function applyEngine(
  path: string,
  text: string,
  fix: Partial<FixOptions>,
  engine: typeof fixDockerfile,
  inputs: EngineInputs = {},
): FileResult {
  let result: FixResult;
  try {
    result = engine(text, fix, inputs);
  } catch (error) {
    return { ...failure(path, error, []), original: text };
  }
  const base = {
    path,
    findings: result.findings,
    original: text,
    output: result.output,
    explanations: result.explanations,
    ...(result.base && { base: result.base }),
  };
  // Over 5 MB only what is already migrated is accepted (a rewrite that grew past the limit, read again).
  if (result.changed && Buffer.byteLength(text, 'utf8') > MAX_BYTES) {
    return {
      ...failure(
        path,
        new FileError(`file is larger than 5 MB (${formatMegabytes(Buffer.byteLength(text, 'utf8'))}): not migrated`, 'TOO_LARGE'),
        [],
      ),
      original: text,
    };
  }
  if (result.skipped !== undefined && !result.changed) return { ...base, status: 'skipped', skipped: result.skipped };
  return { ...base, status: result.changed ? 'changed' : 'unchanged' };
}

export function failure(path: string, error: unknown, findings: Finding[]): FileResult {
  if (error instanceof FileError) return { path, status: 'error', findings, error: error.message };
  if (error instanceof PeakFixError) {
    const where = error.line !== undefined ? `line ${error.line}: ` : '';
    return { path, status: 'error', findings, error: where + error.message, stack: error.stack };
  }
  const err = error instanceof Error ? error : new Error(String(error));
  return { path, status: 'error', findings, error: `internal error: ${firstLine(err.message)}`, stack: err.stack };
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}
