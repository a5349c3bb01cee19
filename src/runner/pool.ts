import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import type { PreparedFile } from './job.js';
import type { FileTask } from './worker.js';

/** Default for --jobs: one worker per core. */
export function defaultJobs(): number {
  return availableParallelism();
}

/** Below this many files per worker, starting workers (each loads the engine) costs more than it saves. */
export const MIN_FILES_PER_WORKER = 16;

/**
 * Files sent to a worker in one message: each message (and tinypool's bookkeeping after each task) costs
 * about 0.2 ms, as much as a small file; batches make that negligible.
 */
export const BATCH = 8;

/**
 * Whether `files` files are worth spreading over `jobs` worker threads. Workers run the compiled JS
 * (dist/): when this module itself runs from TypeScript sources (a test runner's transform), a worker could
 * not load them, so the files stay on the main thread.
 */
export function useWorkers(jobs: number, files: number): boolean {
  return jobs > 1 && files >= jobs * MIN_FILES_PER_WORKER && !import.meta.url.endsWith('.ts');
}

interface Pending {
  task: FileTask;
  resolve: (result: PreparedFile) => void;
  reject: (error: unknown) => void;
}

/**
 * Worker threads that read and migrate files (the main thread writes them); results come back as values. `run` takes one
 * file; files submitted together are sent in batches of `BATCH`.
 */
export class FilePool {
  private readonly pool: Tinypool;
  private pending: Pending[] = [];
  private flushScheduled = false;

  constructor(readonly jobs: number) {
    this.pool = new Tinypool({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: jobs,
      maxThreads: jobs,
      // Reads and writes are asynchronous: a second batch per worker keeps its core busy while one waits.
      concurrentTasksPerWorker: 2,
      isolateWorkers: false,
      // --debug (bin/peak-fix.js) maps stack traces to the sources: in the workers too.
      execArgv: process.sourceMapsEnabled ? ['--enable-source-maps'] : [],
      // The young generation grows to ~48 MB per worker when left alone: a fixed 8 MB keeps peak memory
      // nearly flat from a few hundred files to tens of thousands, for no measurable CPU time.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
  }

  /** Files worth having submitted so that no worker waits for the main thread: two batches per slot. */
  get inFlight(): number {
    return this.jobs * 2 * BATCH * 2;
  }

  run(task: FileTask): Promise<PreparedFile> {
    return new Promise((resolve, reject) => {
      this.pending.push({ task, resolve, reject });
      if (this.pending.length >= BATCH) this.flush();
      else if (!this.flushScheduled) {
        // The runner submits files one by one in the same turn; a partial batch goes once it has finished.
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length > 0) this.submit(this.pending.splice(0, BATCH));
  }

  private submit(batch: Pending[]): void {
    (this.pool.run(batch.map((p) => p.task)) as Promise<PreparedFile[]>).then(
      (results) => batch.forEach((p, i) => p.resolve(results[i])),
      (error: unknown) => {
        // Every failure inside a file's processing is already a result: this is a worker that died (out of
        // memory...), taking its batch with it. Each file is tried again on its own, so that only the file
        // that kills a worker fails (the runner reports it as an internal error).
        if (batch.length === 1) batch[0].reject(error);
        else for (const pending of batch) this.submit([pending]);
      },
    );
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
