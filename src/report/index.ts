import type { FileResult, Summary } from '../runner.js';

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
  /** Under each line a diff adds, say why it is there (`--explain` with files). */
  explain?: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** peak-fix's version, for formats that name the tool (sarif). */
  version?: string;
}

export interface RunEnd {
  summary: Summary;
  interrupted: boolean;
  notStarted: number;
  /** The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), if one did. */
  signal?: string;
}

/**
 * Receives the run as it goes: notices first, then one `file` call per file in output order, then `done`.
 * A reporter may print at once (text) or collect and print at the end (json, sarif).
 */
export interface Reporter {
  notice(message: string): void;
  file(result: FileResult): void;
  done(end: RunEnd): void;
}

export type ReporterFactory = (context: ReporterContext) => Reporter;

/**
 * Output formats by name, each module loaded only when its format is used (start-up time): adding one means
 * one module and one entry here.
 */
export const reporters = {
  text: async () => (await import('./summary.js')).createTextReporter,
  json: async () => (await import('./json.js')).createJsonReporter,
  sarif: async () => (await import('./sarif.js')).createSarifReporter,
} satisfies Record<string, () => Promise<ReporterFactory>>;

export type Format = keyof typeof reporters;

export function isFormat(name: string): name is Format {
  return Object.hasOwn(reporters, name);
}
