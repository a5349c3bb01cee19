import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Finding, FixOptions } from '../index.js';
import type { FileResult, FileStatus, Summary } from '../report/types.js';
import type { RepositoryIdentity } from './context.js';

/** Bumped only when a field changes meaning; fields are only ever added. */
export const RESULTS_SCHEMA = 'peak-fix/fleet-result@1';

/**
 * One line of `--report-file`: one run of peak-fix in one repository.
 *
 * ```json
 * {"schema":"peak-fix/fleet-result@1","repository":"acme/api","repositorySource":"git-xargs","runner":"git-xargs",
 *  "commit":"3f2c…","version":"1.0.0","time":"2026-11-30T23:01:02.000Z","mode":"write","dryRun":false,"exitCode":0,
 *  "outcome":"migrated","options":{"user":"peak-user",…},"summary":{"changed":1,"unchanged":0,"skipped":0,"errors":0},
 *  "files":[{"path":"Dockerfile","status":"changed","baseImage":"python:3.12-slim","family":"debian","findings":[]}]}
 * ```
 */
export interface FleetResult {
  schema: typeof RESULTS_SCHEMA;
  repository: string;
  repositorySource: RepositoryIdentity['source'];
  /** The fleet runner whose variables were set (`multi-gitter`, `git-xargs`), if any. */
  runner?: string;
  /** HEAD of the clone before peak-fix ran, when it is a git repository with a commit. */
  commit?: string;
  version: string;
  time: string;
  /** `write`, `dry-run`, `check` or `list-different`, after a runner's dry-run variable was applied. */
  mode: string;
  dryRun: boolean;
  exitCode: number;
  outcome: Outcome;
  options: FixOptions & { failOn?: string };
  summary: Summary;
  /** The run was interrupted before every file was started. */
  interrupted?: true;
  files: FleetFile[];
}

export interface FleetFile {
  path: string;
  status: FileStatus;
  /** The final stage's base image and its family, as the engine resolved them (the facts and --arg values it had). */
  baseImage?: string;
  family?: string;
  findings: Finding[];
  error?: string;
  skipped?: string;
}

/**
 * What the repository needs next:
 * - `failed`: a file could not be processed or the run was interrupted: no pull request; run it again.
 * - `needs-person`: the pull request is worth opening, but a finding (warning or error) needs someone to act.
 * - `migrated`: files were (or would be) changed and nothing needs a person.
 * - `compliant`: nothing to change (already migrated, skipped on purpose, or no Dockerfile at all).
 */
export type Outcome = 'failed' | 'needs-person' | 'migrated' | 'compliant';

export function fleetFile(result: FileResult): FleetFile {
  const file: FleetFile = { path: result.path, status: result.status, findings: result.findings };
  // The engine's own reading of the base, with the facts and --arg values it was given.
  if (result.base) {
    file.baseImage = result.base.reference;
    file.family = result.base.family;
  }
  if (result.error !== undefined) file.error = result.error;
  if (result.skipped !== undefined) file.skipped = result.skipped;
  return file;
}

export function actionable(finding: Finding): boolean {
  return finding.severity === 'warning' || finding.severity === 'error';
}

export function outcomeOf(files: readonly FleetFile[], exitCode: number, interrupted: boolean): Outcome {
  if (interrupted || files.some((file) => file.status === 'error') || exitCode === 2 || exitCode === 130) return 'failed';
  if (files.some((file) => file.findings.some(actionable))) return 'needs-person';
  if (files.some((file) => file.status === 'changed')) return 'migrated';
  return 'compliant';
}

/**
 * Appends one JSON line with a single `write(2)` on a descriptor opened with O_APPEND. POSIX makes the
 * positioning atomic, and Linux holds the file's lock for the whole write on local filesystems, so lines from
 * runs in parallel (multi-gitter -C, git-xargs' goroutines) never interleave. Network filesystems (NFS) do
 * not promise this: give each machine its own file there and pass them all to `peak-fix report`.
 */
export function appendResult(file: string, result: FleetResult): void {
  const line = Buffer.from(JSON.stringify(result) + '\n', 'utf8');
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a', 0o644);
  try {
    const written = writeSync(fd, line, 0, line.length, null);
    if (written !== line.length) throw new Error(`${file}: short write (${written} of ${line.length} bytes)`);
  } finally {
    closeSync(fd);
  }
}
