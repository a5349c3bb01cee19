import type { FileResult, Summary } from '../runner.js';
import { createJsonReporter } from './json.js';
import { createTextReporter } from './summary.js';

export { unifiedDiff, colorizeDiff } from './diff.js';
export { formatFinding, formatSummary } from './summary.js';
export type { JsonFile, JsonReport } from './json.js';

/** What the run does with changed files; it decides the exit code and the text layout. */
export type Mode = 'dry-run' | 'write' | 'check' | 'list-different';

export interface ReporterContext {
  mode: Mode;
  color: boolean;
  /** List unchanged files and every finding. */
  verbose: boolean;
  /** Print stack traces of unexpected errors. */
  debug: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface RunEnd {
  summary: Summary;
  interrupted: boolean;
  notStarted: number;
}

/**
 * Receives the run as it goes: notices first, then one `file` call per file in output order, then `done`.
 * A reporter may print at once (text) or collect and print at the end (json; a sarif reporter would too).
 */
export interface Reporter {
  notice(message: string): void;
  file(result: FileResult): void;
  done(end: RunEnd): void;
}

export type ReporterFactory = (context: ReporterContext) => Reporter;

/** Output formats by name: adding one (sarif) means one module and one entry here. */
export const reporters = {
  text: createTextReporter,
  json: createJsonReporter,
} satisfies Record<string, ReporterFactory>;

export type Format = keyof typeof reporters;

export function isFormat(name: string): name is Format {
  return Object.hasOwn(reporters, name);
}
