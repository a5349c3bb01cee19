import type { Finding } from '../index.js';
import type { FileResult, FileStatus, Reporter, ReporterContext, RunEnd, Summary } from './types.js';
import { boundedDiff } from './diff.js';
import { createCollectingReporter } from './collect.js';

/**
 * `--format json`: one document on stdout once the run is over. Stable: fields are only ever added.
 *
 * ```json
 * {
 *   "files": [
 *     { "path": "app/Dockerfile", "status": "changed", "findings": [], "diff": "--- a/app/Dockerfile\n+++ b/app/Dockerfile\n@@ ..." },
 *     { "path": "Dockerfile.win", "status": "skipped", "findings": [], "diff": null, "skipped": "Windows base image ..." },
 *     { "path": "missing", "status": "error", "findings": [], "diff": null, "error": "no such file or directory" }
 *   ],
 *   "summary": { "changed": 1, "unchanged": 0, "skipped": 1, "errors": 1 }
 * }
 * ```
 */
export interface JsonReport {
  /** Sorted by path; one entry per file processed (files never started after an interrupt are absent). */
  files: JsonFile[];
  summary: Summary;
  /** Present (true) only when the run was interrupted (SIGINT, SIGTERM, SIGHUP) before every file was started. */
  interrupted?: true;
  /** The signal that stopped the run, when one did; the files listed are complete (in-flight writes finished). */
  signal?: string;
}

export interface JsonFile {
  /** Relative to the cwd when inside it, else absolute; `--stdin-filepath` (or `<stdin>`) for stdin. */
  path: string;
  /** `changed`: would change (dry run, --check) or was rewritten (--write). */
  status: FileStatus;
  findings: Finding[];
  /** Unified diff of the change (uncoloured), or null when the file does not change or the diff was left out. */
  diff: string | null;
  /** Why the diff of a changed file was left out (too large to compute in bounded time). */
  diffOmitted?: string;
  /** Why the file could not be processed (status `error`), one line. */
  error?: string;
  /** Why the file was left alone (status `skipped`). */
  skipped?: string;
}

export function toJsonFile(result: FileResult): JsonFile {
  const bounded =
    result.original !== undefined && result.output !== undefined && result.original !== result.output
      ? boundedDiff(result.path, result.original, result.output)
      : null;
  const diff = bounded !== null && 'patch' in bounded ? bounded.patch : null;
  const file: JsonFile = { path: result.path, status: result.status, findings: result.findings, diff };
  if (bounded !== null && 'omitted' in bounded) file.diffOmitted = bounded.omitted;
  if (result.error !== undefined) file.error = result.error;
  if (result.skipped !== undefined) file.skipped = result.skipped;
  return file;
}

export function createJsonReporter(context: ReporterContext): Reporter {
  return createCollectingReporter(context, (files, end: RunEnd) => {
    const report: JsonReport = { files: files.map(toJsonFile), summary: end.summary };
    if (end.interrupted) report.interrupted = true;
    if (end.signal !== undefined) report.signal = end.signal;
    return report;
  });
}
