import { parseReference } from '../../facts/reference.js';
import { readFile } from 'node:fs/promises';
import type { FleetFile, FleetResult, Outcome } from '../results.js';
import { actionable, RESULTS_SCHEMA } from '../results.js';
import type { Severity } from '../../types.js';

/** A results file could not be read or a line is not a peak-fix result: names the file and line. */
export class ResultsError extends Error {}

export const OUTCOMES: readonly Outcome[] = ['failed', 'needs-person', 'migrated', 'compliant'];
export const STATUSES = ['changed', 'unchanged', 'skipped', 'error'] as const;
export type StatusCounts = Record<(typeof STATUSES)[number], number>;

export interface FleetRepository {
  repository: string;
  outcome: Outcome;
  exitCode: number;
  commit?: string;
  runner?: string;
  time: string;
  mode: string;
  files: FleetFile[];
  /** One line: why a person is needed, or why the run failed. */
  reason?: string;
  /** The runner will not have opened a pull request (non-zero exit): run it again. */
  runAgain: boolean;
}

export interface RuleRow {
  rule: string;
  severity: Severity;
  findings: number;
  repositories: number;
}

export interface FleetData {
  /** Latest result per repository, sorted by name. */
  repositories: FleetRepository[];
  lines: number;
  sources: string[];
  totals: {
    repositories: number;
    outcomes: Record<Outcome, number>;
    files: StatusCounts;
    findings: number;
    actionable: number;
  };
  /** Files by base family and status; families sorted by file count. */
  families: { family: string; counts: StatusCounts; total: number }[];
  rules: RuleRow[];
  /**
   * Base images no catalog describes (finding `unknown-base`), by repository without tag, most used first: the rows
   * an organisation's catalog (config "images") should add.
   */
  unknownBases: { image: string; files: number; repositories: number }[];
}

/** Reads JSON-lines results files (`--report-file`); the latest line of each repository wins. */
export async function readResults(files: readonly string[]): Promise<{ results: FleetResult[]; lines: number }> {
  const results: FleetResult[] = [];
  let lines = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ResultsError(
        `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((error as Error).message)}`,
      );
    }
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new ResultsError(`${file}:${index + 1}: not a JSON line`);
      }
      if (!isResult(value)) throw new ResultsError(`${file}:${index + 1}: not a peak-fix result (schema ${RESULTS_SCHEMA})`);
      results.push(value);
      lines++;
    });
  }
  return { results, lines };
}

function isResult(value: unknown): value is FleetResult {
  const v = value as Partial<FleetResult> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.schema === RESULTS_SCHEMA &&
    typeof v.repository === 'string' &&
    typeof v.exitCode === 'number' &&
    typeof v.outcome === 'string' &&
    Array.isArray(v.files)
  );
}

const zero = (): StatusCounts => ({ changed: 0, unchanged: 0, skipped: 0, error: 0 });

type RuleTally = RuleRow & { repos: Set<string> };
type UnknownTally = { files: number; repos: Set<string> };

export function aggregate(results: readonly FleetResult[], lines: number, sources: string[]): FleetData {
  const repositories = latestRepositories(results);
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const files = zero();
  const families = new Map<string, StatusCounts>();
  const rules = new Map<string, RuleTally>();
  const unknown = new Map<string, UnknownTally>();
  for (const repo of repositories) {
    outcomes[repo.outcome]++;
    for (const file of repo.files) {
      files[file.status]++;
      countFamily(families, file);
      countUnknownBase(unknown, file, repo.repository);
      countRules(rules, file, repo.repository);
    }
  }
  const findings = repositories.flatMap((repo) => repo.files.flatMap((file) => file.findings));
  return {
    repositories,
    lines,
    sources,
    totals: {
      repositories: repositories.length,
      outcomes,
      files,
      findings: findings.length,
      actionable: findings.filter(actionable).length,
    },
    families: [...families.entries()]
      .map(([family, counts]) => ({ family, counts, total: STATUSES.reduce((sum, s) => sum + counts[s], 0) }))
      .sort((a, b) => b.total - a.total || (a.family < b.family ? -1 : 1)),
    rules: [...rules.values()]
      .map(({ repos, ...row }) => ({ ...row, repositories: repos.size }))
      .sort((a, b) => b.findings - a.findings || (a.rule < b.rule ? -1 : 1)),
    unknownBases: [...unknown.entries()]
      .map(([image, { files, repos }]) => ({ image, files, repositories: repos.size }))
      .sort((a, b) => b.files - a.files || (a.image < b.image ? -1 : 1)),
  };
}

/** The latest result of each repository, sorted by name: by time, then by position (a re-run after --failed supersedes the failure). */
function latestRepositories(results: readonly FleetResult[]): FleetRepository[] {
  const latest = new Map<string, FleetResult>();
  for (const result of results) {
    const seen = latest.get(result.repository);
    if (!seen || result.time >= seen.time) latest.set(result.repository, result);
  }
  return [...latest.values()]
    .map((result) => toRepository(result))
    .sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
}

/** A file by its base family; one that could not be processed has none. */
function countFamily(families: Map<string, StatusCounts>, file: FleetFile): void {
  const family = file.family ?? (file.status === 'error' ? 'not parsed' : 'unknown');
  const counts = families.get(family) ?? zero();
  counts[file.status]++;
  families.set(family, counts);
}

/** A base no catalog describes (finding `unknown-base`), by repository without tag. */
function countUnknownBase(unknown: Map<string, UnknownTally>, file: FleetFile, repository: string): void {
  if (!file.baseImage || !file.findings.some((f) => f.rule === 'unknown-base')) return;
  const image = parseReference(file.baseImage).repository;
  const seen = unknown.get(image) ?? { files: 0, repos: new Set<string>() };
  seen.files++;
  seen.repos.add(repository);
  unknown.set(image, seen);
}

function countRules(rules: Map<string, RuleTally>, file: FleetFile, repository: string): void {
  for (const finding of file.findings) {
    const row = rules.get(finding.rule) ?? {
      rule: finding.rule,
      severity: finding.severity,
      findings: 0,
      repositories: 0,
      repos: new Set(),
    };
    row.findings++;
    row.repos.add(repository);
    rules.set(finding.rule, row);
  }
}

function toRepository(result: FleetResult): FleetRepository {
  const repo: FleetRepository = {
    repository: result.repository,
    outcome: result.outcome,
    exitCode: result.exitCode,
    time: result.time,
    mode: result.mode,
    files: result.files,
    runAgain: result.exitCode !== 0 || result.outcome === 'failed',
  };
  if (result.commit) repo.commit = result.commit;
  if (result.runner) repo.runner = result.runner;
  const reason = reasonOf(result);
  if (reason) repo.reason = reason;
  return repo;
}

/** Why a repository needs a person: the files that failed, else the rules that fired (with counts). */
export function reasonOf(result: Pick<FleetResult, 'files' | 'exitCode' | 'interrupted' | 'outcome'>): string | undefined {
  const errors = result.files.filter((file) => file.status === 'error');
  if (errors.length > 0) return errors.map((file) => `${file.path}: ${file.error ?? 'could not be processed'}`).join('; ');
  if (result.interrupted) return 'interrupted before every file was processed';
  const counts = new Map<string, number>();
  for (const file of result.files) for (const f of file.findings.filter(actionable)) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  const rules = [...counts.entries()].map(([rule, n]) => (n > 1 ? `${rule} (${n})` : rule)).join(', ');
  if (result.exitCode === 1) return `--fail-on matched${rules ? `: ${rules}` : ''}`;
  if (result.exitCode !== 0) return `exit code ${result.exitCode}`;
  return rules || undefined;
}
