// Files on a worker thread of the pool (src/pool.ts), a batch per task: the same read, engine and atomic write
// as on the main thread (runner.ts's processTarget), so a file's result does not depend on where it ran.
import type { Target } from './discover.js';
import { processTarget, withoutTexts, type FileResult } from './runner.js';
import type { EngineInputs, FixOptions } from './types.js';

export interface FileTask {
  target: Target;
  fix: Partial<FixOptions>;
  write: boolean;
  /** Send the original and migrated texts back (diffs need them); otherwise they are not copied at all. */
  texts: boolean;
  /** What the engine is given besides the options, as data (no functions cross to a worker). */
  inputs: Pick<EngineInputs, 'buildArgs'>;
}

/** Results in the tasks' order; processTarget turns every failure into an error result, so one never stops the rest. */
export default async function processFiles(tasks: FileTask[]): Promise<FileResult[]> {
  return Promise.all(
    tasks.map(async (task) => {
      const result = await processTarget(task.target, { fix: task.fix, write: task.write, inputs: task.inputs });
      return task.texts ? result : withoutTexts(result);
    }),
  );
}
