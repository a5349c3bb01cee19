import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import type { FileResult } from './runner.js';
import type { FileTask } from './worker.js';

/** Default for --jobs: one worker per core. */
export function defaultJobs(): number {
  return availableParallelism();
}

/** Below this many files per worker, starting workers (each loads the engine) costs more than it saves. */
export const MIN_FILES_PER_WORKER = 16;

/**
 * Whether `files` files are worth spreading over `jobs` worker threads. Workers run the compiled JS
 * (dist/src/worker.js): when this module itself runs from TypeScript sources (a test runner's transform),
 * a worker could not load them, so the files stay on the main thread.
 */
export function useWorkers(jobs: number, files: number): boolean {
  return jobs > 1 && files >= jobs * MIN_FILES_PER_WORKER && !import.meta.url.endsWith('.ts');
}

/** Worker threads that process files (read, engine, write); results come back as values. */
export class FilePool {
  private readonly pool: Tinypool;

  constructor(readonly jobs: number) {
    this.pool = new Tinypool({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: jobs,
      maxThreads: jobs,
      // Reads and writes are asynchronous: a second task per worker keeps its core busy while one waits.
      concurrentTasksPerWorker: 2,
      isolateWorkers: false,
    });
  }

  /** Tasks worth having queued so that no worker waits for the main thread. */
  get inFlight(): number {
    return this.jobs * 4;
  }

  run(task: FileTask): Promise<FileResult> {
    return this.pool.run(task) as Promise<FileResult>;
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
