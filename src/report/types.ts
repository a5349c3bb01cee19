import type { Explanation } from '../edits.js';
import type { FinalBase, Finding } from '../types.js';

/**
 * What a run produces and who receives it: the values the runner hands out (one FileResult per file, a Summary)
 * and the Reporter interface the output formats implement. Types only, so reporters and runner share them
 * without importing each other.
 */

export type FileStatus = 'changed' | 'unchanged' | 'skipped' | 'error';

/** The outcome for one file. A value: the runner never prints. */
export interface FileResult {
  /** As shown to the user (relative to the cwd when inside it). */
  path: string;
  status: FileStatus;
  findings: Finding[];
  /** The text read, when it was read and decoded. */
  original?: string;
  /** The migrated text, when the engine ran. */
  output?: string;
  /** Why each added line is there (`--explain`), by line of `output`. */
  explanations?: Explanation[];
  /** One line, without the path. */
  error?: string;
  /** Stack trace of an unexpected error (a bug), for --debug. */
  stack?: string;
  /** Why the file was left alone. */
  skipped?: string;
  /** The new text was written to disk. */
  written?: boolean;
  /** The final stage's base image as the engine resolved it (the fleet outputs name it), when the engine ran. */
  base?: FinalBase;
}

export interface Summary {
  changed: number;
  unchanged: number;
  skipped: number;
  errors: number;
}

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
