// Files on a worker thread of the pool (src/runner/pool.ts), a batch per task: the same read and engine as on the main
// thread (runner.ts's prepareTarget), so a file's result does not depend on where it ran. The write itself is the
// main thread's (commitTarget): only there can a second signal remove the temporary files of writes in flight.
import type { Target } from './discover.js';
import { prepareTarget, withoutTexts, type PreparedFile } from './job.js';
import type { EngineInputs, FixOptions } from '../types.js';

export interface FileTask {
  target: Target;
  fix: Partial<FixOptions>;
  /** The main thread will write changed files: their migrated text and snapshot come back whatever `texts` says. */
  write: boolean;
  /** Send the original and migrated texts back (diffs need them); otherwise they are not copied at all. */
  texts: boolean;
  /** What the engine is given besides the options, as data (no functions cross to a worker). */
  inputs: Pick<EngineInputs, 'buildArgs'>;
}

/** Results in the tasks' order; prepareTarget turns every failure into an error result, so one never stops the rest. */
export default async function processFiles(tasks: FileTask[]): Promise<PreparedFile[]> {
  return Promise.all(
    tasks.map(async (task) => {
      const prepared = await prepareTarget(task.target, { fix: task.fix, inputs: task.inputs });
      if (task.texts) return prepared;
      if (task.write && prepared.snapshot !== undefined) {
        // Only the migrated text is needed to write; the original goes back as the snapshot's bytes.
        const { original: _original, ...result } = prepared.result;
        return { result, snapshot: prepared.snapshot };
      }
      return { result: withoutTexts(prepared.result) };
    }),
  );
}
