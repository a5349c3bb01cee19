import { visible } from './visible.js';
import type { FileResult, Reporter, ReporterContext, RunEnd } from './types.js';

/** A reporter that prints one document once the run is over (json, sarif): notices go to stderr at once. */
export function createCollectingReporter(context: ReporterContext, render: (files: FileResult[], end: RunEnd) => unknown): Reporter {
  const files: FileResult[] = [];
  return {
    notice(message) {
      context.stderr(`peak-fix: ${message}\n`);
    },
    file(result) {
      files.push(result);
      if (context.debug && result.stack) context.stderr(`${visible(result.stack)}\n`);
    },
    done(end) {
      context.stdout(JSON.stringify(render(files, end), null, 2) + '\n');
    },
  };
}
