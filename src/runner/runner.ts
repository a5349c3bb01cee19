import type { EngineInputs, FixOptions, fixDockerfile } from '../index.js';
import { commitTarget, failure, processTarget, withoutTexts } from './job.js';
import type { FileResult, FileStatus, Summary } from '../report/types.js';
import { compare, discover, type Discovery, type Target } from './discover.js';

export type { FileResult, FileStatus, Summary } from '../report/types.js';

export interface RunOptions {
  cwd: string;
  /** Files, directories and globs; none means the cwd. */
  paths: readonly string[];
  /** Already validated engine options. */
  fix: Partial<FixOptions>;
  /** What the engine gets besides the text and options (FROM variable values, facts about base images). */
  inputs?: EngineInputs;
  /** Rewrite changed files in place. */
  write: boolean;
  /** Files in flight at once (default 8; with worker threads, 4 per worker). */
  concurrency?: number;
  /**
   * Worker threads to spread the files over (default 1: all on the main thread). Big batches only: a few
   * files stay on the main thread (see pool.ts). Ignored when `engine` is given (a function cannot be sent).
   */
  jobs?: number;
  /** Pass `original` and `output` to `onResult` (default true); without them, no text is copied from workers. */
  texts?: boolean;
  /** Keep every file's result in `RunResult.files` (default true); false keeps memory flat on huge trees. */
  keepFiles?: boolean;
  /** When aborted, no new file is started; files in flight (and their atomic writes) finish. */
  signal?: AbortSignal;
  /** Called once per file, in output (sorted) order, as soon as the file and all before it are done. */
  onResult?: (result: FileResult) => void;
  /** Called for notices (a directory without Dockerfiles...), before any result. */
  onNotice?: (message: string) => void;
  /** Called once the files are found, with their number (a progress line). */
  onStart?: (total: number) => void;
  /** The engine; tests can wrap it. */
  engine?: typeof fixDockerfile;
  /**
   * Called once with the files found, before any is processed: gathers what the engine gets besides the text
   * (facts about base images: src/gather/run-facts.ts); its notices are passed to `onNotice`.
   */
  prepare?: (targets: readonly Target[]) => Promise<{ inputsFor(target: Target): EngineInputs; notices: string[]; builtInOnly?: boolean }>;
}

export interface RunResult {
  /** Results in output order, without their texts (those go to `onResult` only, to keep memory flat). */
  files: FileResult[];
  summary: Summary;
  notices: string[];
  /** The run was aborted before every file was started. */
  interrupted: boolean;
  /** Files found but never started because of the abort. */
  notStarted: number;
}

export const DEFAULT_CONCURRENCY = 8;

/** Finds the files, runs the engine on each, writes when asked; one bad file never stops the batch. */
export async function run(options: RunOptions): Promise<RunResult> {
  const explicit = options.paths.length > 0;
  const inputs = explicit ? options.paths : ['.'];
  const discovery = await discover(inputs, options.cwd);
  // CI-safe, as prettier: a path or pattern given on the command line that matches no file is an error
  // (exit 2), so a typo cannot turn a gate green. The implicit `.` of a fleet runner's clone is not: a
  // repository without Dockerfiles has nothing to do.
  const targets = explicit ? withUnmatched(discovery.targets, discovery.unmatched) : discovery.targets;
  const notices = [...discovery.notices, ...(explicit ? [] : discovery.unmatched.map((u) => `${u.shown}: ${u.reason}`))];
  const prepared = await options.prepare?.(targets);
  if (prepared) notices.push(...prepared.notices);
  for (const notice of notices) options.onNotice?.(notice);
  options.onStart?.(targets.length);

  const files: FileResult[] = [];
  const summary: Summary = { changed: 0, unchanged: 0, skipped: 0, errors: 0 };
  const texts = options.texts ?? true;
  const emit = (result: FileResult): void => {
    options.onResult?.(texts ? result : withoutTexts(result));
    if (options.keepFiles ?? true) files.push(withoutTexts(result));
    count(summary, result.status);
  };

  const jobs = options.engine ? 1 : (options.jobs ?? 1);
  // Worker threads cannot be sent the facts lookup of an organisation's catalog or facts file: such runs stay
  // on the main thread (the facts are then the same for every file, wherever it runs).
  const portable = prepared === undefined || prepared.builtInOnly === true;
  const { useWorkers, FilePool } = jobs > 1 && portable ? await import('./pool.js') : { useWorkers: () => false, FilePool: undefined };
  const workers = FilePool && useWorkers(jobs, targets.length) ? new FilePool(jobs) : undefined;
  const portableInputs = { buildArgs: options.inputs?.buildArgs };
  try {
    const started = await pool(
      targets,
      options.concurrency ?? workers?.inFlight ?? DEFAULT_CONCURRENCY,
      options.signal,
      (target) =>
        (workers
          ? workers
              .run({ target, fix: options.fix, write: options.write, texts, inputs: portableInputs })
              .then((fromWorker) => commitTarget(target.realPath, fromWorker, options.write))
          : processTarget(target, options, prepared?.inputsFor(target) ?? {})
        ).catch((error: unknown) => failure(target.path, error, [])),
      emit,
    );
    return { files, summary, notices, interrupted: started < targets.length, notStarted: targets.length - started };
  } finally {
    await workers?.destroy();
  }
}

function withUnmatched(targets: Target[], unmatched: Discovery['unmatched']): Target[] {
  const errors: Target[] = unmatched.map((u) => ({ path: u.shown, absPath: u.absPath, realPath: u.absPath, link: false, error: u.reason }));
  return [...targets, ...errors].sort((a, b) => compare(a.path, b.path));
}

export function summarize(results: readonly FileResult[]): Summary {
  const summary: Summary = { changed: 0, unchanged: 0, skipped: 0, errors: 0 };
  for (const result of results) count(summary, result.status);
  return summary;
}

function count(summary: Summary, status: FileStatus): void {
  if (status === 'changed') summary.changed++;
  else if (status === 'unchanged') summary.unchanged++;
  else if (status === 'skipped') summary.skipped++;
  else summary.errors++;
}

/**
 * Runs `work` over `items` with at most `limit` in flight; `emit` receives results in the items' order.
 * Returns how many items were started (all of them unless `signal` was aborted).
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  work: (item: T) => Promise<R>,
  emit: (result: R) => void,
): Promise<number> {
  const results = new Map<number, R>();
  let next = 0;
  let emitted = 0;
  const flush = (): void => {
    while (results.has(emitted)) {
      const result = results.get(emitted) as R;
      results.delete(emitted);
      emitted++;
      emit(result);
    }
  };
  const lane = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      results.set(index, await work(items[index]));
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return next;
}
