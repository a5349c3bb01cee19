import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PeakFixError, type FixOptions } from '../index.js';
import type { FileResult, Summary } from '../report/types.js';
import { readGitInfo, repositoryIdentity, type FleetEnv } from './context.js';
import { renderPrBody } from './pr-body.js';
import { appendResult, fleetFile, outcomeOf, RESULTS_SCHEMA, type FleetFile, type FleetResult } from './results.js';

export interface FleetOutputs {
  /** `--pr-body FILE`: the pull-request description for this repository. */
  prBody?: string;
  /** `--report-file FILE`: one JSON line appended per run. */
  reportFile?: string;
  /** `--guide-url URL` (or PEAK_FIX_GUIDE_URL): where Peak's guide lives for this organisation. */
  guideUrl?: string;
}

export interface FleetRunEnd {
  exitCode: number;
  summary: Summary;
  interrupted: boolean;
}

/**
 * Collects what a run produced for the fleet outputs and writes them once the exit code is known. Files are
 * collected only when an output was asked for, so ordinary runs pay nothing.
 */
export class FleetSession {
  private readonly files: FleetFile[] = [];

  constructor(
    private readonly outputs: FleetOutputs,
    private readonly context: {
      cwd: string;
      env: FleetEnv;
      fix: FixOptions;
      failOn?: string;
      mode: string;
      version: string;
      notice: (message: string) => void;
    },
  ) {}

  get active(): boolean {
    return this.outputs.prBody !== undefined || this.outputs.reportFile !== undefined;
  }

  onResult(result: FileResult): void {
    if (this.active) this.files.push(fleetFile(result));
  }

  /** Writes the pull-request text and the results line; an I/O error becomes a one-line PeakFixError (exit 2). */
  async finish(end: FleetRunEnd): Promise<void> {
    if (!this.active) return;
    try {
      await this.write(end);
    } catch (error) {
      if (error instanceof PeakFixError) throw error;
      const failure = error as NodeJS.ErrnoException;
      throw new PeakFixError(`cannot write ${failure.path ?? 'the fleet outputs'}: ${failure.code ?? failure.message}`);
    }
  }

  private async write(end: FleetRunEnd): Promise<void> {
    const { cwd, env, fix, mode, version } = this.context;
    const git = await readGitInfo(cwd);
    const inside = (file: string): boolean => git.root !== undefined && !path.relative(git.root, file).startsWith('..');
    const dryRun = mode !== 'write';
    const identity = repositoryIdentity(env, git, cwd);
    if (this.outputs.prBody !== undefined) {
      const file = path.resolve(cwd, expandRepository(this.outputs.prBody, identity.repository));
      if (inside(file)) this.context.notice(`--pr-body ${this.outputs.prBody} is inside the repository: a fleet runner would commit it`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, renderPrBody({ files: this.files, options: fix, version, guideUrl: this.outputs.guideUrl, dryRun }));
    }
    if (this.outputs.reportFile !== undefined) {
      const file = path.resolve(cwd, expandRepository(this.outputs.reportFile, identity.repository));
      if (inside(file))
        this.context.notice(`--report-file ${this.outputs.reportFile} is inside the repository: a fleet runner would commit it`);
      const result: FleetResult = {
        schema: RESULTS_SCHEMA,
        repository: identity.repository,
        repositorySource: identity.source,
        ...(env.runner && env.runner !== 'env' ? { runner: env.runner } : {}),
        ...(git.commit ? { commit: git.commit } : {}),
        version,
        time: new Date().toISOString(),
        mode,
        dryRun,
        exitCode: end.exitCode,
        outcome: outcomeOf(this.files, end.exitCode, end.interrupted),
        options: { ...fix, ...(this.context.failOn ? { failOn: this.context.failOn } : {}) },
        summary: end.summary,
        ...(end.interrupted ? { interrupted: true as const } : {}),
        files: this.files,
      };
      appendResult(file, result);
    }
  }
}

/**
 * `{repository}` in an output path becomes the repository's name, so one runner script can give every
 * repository its own file (`--pr-body "$OUT/pr/{repository}.md"` -> `$OUT/pr/acme/api.md`). Each path
 * component keeps only letters, digits, `.`, `_` and `-`, and `.`/`..` components are dropped, so a name can
 * never climb out of the directory.
 */
export function expandRepository(template: string, repository: string): string {
  if (!template.includes('{repository}')) return template;
  const safe = repository
    .split(/[\\/]+/)
    .map((part) => part.replace(/[^A-Za-z0-9._-]/g, '_'))
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .join('/');
  return template.split('{repository}').join(safe || 'repository');
}
