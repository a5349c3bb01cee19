import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fullName, type FleetRepo } from './fleet-fixtures.js';

/** The checkout under test (its bin/peak-fix.js runs the built CLI; `npm run test:fleet` builds it first). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONTRIB = path.join(ROOT, 'contrib');

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program the way a runner's exec does: no shell, a directory, an environment. */
export function exec(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const IDENTITY = ['-c', 'user.name=Fleet Bot', '-c', 'user.email=fleet-bot@example.invalid', '-c', 'init.defaultBranch=main'];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * The organisation: one bare repository per fleet member under `<dir>/origins/<owner>/<name>.git`, each with
 * one commit on `main`.
 */
export function makeOrigins(dir: string, fleet: readonly FleetRepo[]): string {
  const origins = path.join(dir, 'origins');
  for (const repo of fleet) {
    const seed = path.join(dir, 'seed', repo.owner, repo.name);
    mkdirSync(seed, { recursive: true });
    for (const [name, content] of Object.entries(repo.files)) {
      mkdirSync(path.dirname(path.join(seed, name)), { recursive: true });
      writeFileSync(path.join(seed, name), content);
    }
    git(seed, 'init', '-q', '-b', 'main');
    git(seed, 'config', 'core.autocrlf', 'false');
    git(seed, 'add', '-A');
    git(seed, 'commit', '-qm', `${repo.name}: initial commit`);
    const bare = path.join(origins, repo.owner, `${repo.name}.git`);
    mkdirSync(path.dirname(bare), { recursive: true });
    git(dir, 'clone', '-q', '--bare', seed, bare);
  }
  rmSync(path.join(dir, 'seed'), { recursive: true, force: true });
  return origins;
}

export function copyOrigins(origins: string, to: string): string {
  cpSync(origins, to, { recursive: true });
  return to;
}

/** A `peak-fix` on PATH that runs this checkout, as a global install would. */
export function installShim(dir: string): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const shim = path.join(bin, 'peak-fix');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'bin/peak-fix.js')}" "$@"\n`);
  chmodSync(shim, 0o755);
  // The Sourcegraph step, installed in the image as /usr/local/bin/peak-fix-sourcegraph-step.
  symlinkSync(path.join(CONTRIB, 'sourcegraph/step.sh'), path.join(bin, 'peak-fix-sourcegraph-step'));
  return bin;
}

/** A clean environment for the runner's children: no variables of another runner leak in. */
export function baseEnv(bin: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    ...extra,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** What a runner did in one repository: the script's exit, whether it committed and "opened a pull request". */
export interface RepoRun {
  repository: string;
  exit: Exec;
  committed: boolean;
  /** The branch pushed to the origin (the pull request's head), when one was. */
  branch?: string;
  /** The pull request's description, as the runner (or the recipe's follow-up) would give it. */
  prBody?: string;
}

const COMMIT_MESSAGE = "Run container images as Peak's non-root user";

/** What every runner does after the script: commit everything that changed, push a branch. */
function commitAndPush(clone: string, branch: string): boolean {
  if (git(clone, 'status', '--porcelain') === '') return false;
  git(clone, 'checkout', '-q', '-b', branch);
  git(clone, 'add', '-A');
  git(clone, 'commit', '-qm', COMMIT_MESSAGE);
  git(clone, 'push', '-q', 'origin', branch);
  return true;
}

function readBody(out: string, repository: string): string | undefined {
  const file = path.join(out, 'pr', `${repository}.md`);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/**
 * multi-gitter run SCRIPT (cmd/cmd-run.go): clone each repository, run the script in it with REPOSITORY
 * (and DRY_RUN=true under --dry-run); "If the script finished with a zero exit code, and the script resulted
 * in file changes, a pull request will be created". Under --dry-run nothing is pushed.
 */
export async function multiGitter(
  origins: string,
  fleet: readonly FleetRepo[],
  options: { work: string; out: string; bin: string; dryRun?: boolean; concurrent?: number },
): Promise<RepoRun[]> {
  const script = path.join(CONTRIB, 'multi-gitter/peak-fix.sh');
  const one = async (repo: FleetRepo): Promise<RepoRun> => {
    const repository = fullName(repo);
    const clone = path.join(options.work, 'multi-gitter', repository);
    mkdirSync(path.dirname(clone), { recursive: true });
    git(options.work, 'clone', '-q', path.join(origins, repo.owner, `${repo.name}.git`), clone);
    const env = baseEnv(options.bin, { REPOSITORY: repository, PEAK_FIX_OUT: options.out, ...(options.dryRun ? { DRY_RUN: 'true' } : {}) });
    const exit = await exec(script, [], { cwd: clone, env });
    const committed = exit.code === 0 && !options.dryRun && commitAndPush(clone, 'peak-non-root');
    return { repository, exit, committed, ...(committed ? { branch: 'peak-non-root', prBody: readBody(options.out, repository) } : {}) };
  };
  return inBatches(fleet, options.concurrent ?? 1, one);
}

/**
 * git-xargs COMMAND (gruntwork-io/git-xargs#127): clones in parallel goroutines, runs the command in each
 * clone with XARGS_REPO_OWNER, XARGS_REPO_NAME and XARGS_DRY_RUN, commits what changed and opens a pull
 * request; a failing command is reported and gets none.
 */
export async function gitXargs(
  origins: string,
  fleet: readonly FleetRepo[],
  options: { work: string; out: string; bin: string; dryRun?: boolean; concurrent?: number },
): Promise<RepoRun[]> {
  const script = path.join(CONTRIB, 'git-xargs/peak-fix.sh');
  const one = async (repo: FleetRepo): Promise<RepoRun> => {
    const repository = fullName(repo);
    const clone = path.join(options.work, 'git-xargs', `${repo.owner}-${repo.name}-${Date.now()}`);
    mkdirSync(path.dirname(clone), { recursive: true });
    git(options.work, 'clone', '-q', path.join(origins, repo.owner, `${repo.name}.git`), clone);
    const env = baseEnv(options.bin, {
      XARGS_REPO_OWNER: repo.owner,
      XARGS_REPO_NAME: repo.name,
      XARGS_DRY_RUN: options.dryRun ? 'true' : 'false',
      PEAK_FIX_OUT: options.out,
    });
    const exit = await exec(script, [], { cwd: clone, env });
    const committed = exit.code === 0 && !options.dryRun && commitAndPush(clone, 'peak-non-root');
    return { repository, exit, committed, ...(committed ? { branch: 'peak-non-root', prBody: readBody(options.out, repository) } : {}) };
  };
  return inBatches(fleet, options.concurrent ?? 8, one);
}

/**
 * turbolift (cmd/foreach, cmd/commit, cmd/create_prs): `clone` forks each repository (origin = the fork,
 * upstream = the organisation's) into work/<org>/<repo>; `foreach -- COMMAND` runs COMMAND there with no
 * variables of its own and writes the failed repositories to a repos.txt that `foreach --failed` (or
 * `--repos FILE`) reruns; `commit` commits all changes; `create-prs` pushes the campaign branch to the fork.
 */
export class Turbolift {
  readonly campaign: string;
  readonly failedFile: string;
  readonly successfulFile: string;

  constructor(
    private readonly origins: string,
    private readonly forks: string,
    private readonly options: { work: string; out: string; bin: string },
  ) {
    this.campaign = path.join(options.work, 'turbolift', 'peak-non-root');
    this.failedFile = path.join(this.campaign, '.results', 'failed', 'repos.txt');
    this.successfulFile = path.join(this.campaign, '.results', 'successful', 'repos.txt');
  }

  clone(fleet: readonly FleetRepo[]): void {
    mkdirSync(this.campaign, { recursive: true });
    writeFileSync(path.join(this.campaign, 'repos.txt'), fleet.map((r) => `${fullName(r)}\n`).join(''));
    for (const repo of fleet) {
      const fork = path.join(this.forks, repo.owner, `${repo.name}.git`); // your fork of owner/name
      mkdirSync(path.dirname(fork), { recursive: true });
      git(this.options.work, 'clone', '-q', '--bare', path.join(this.origins, repo.owner, `${repo.name}.git`), fork);
      const workCopy = path.join(this.campaign, 'work', repo.owner, repo.name);
      mkdirSync(path.dirname(workCopy), { recursive: true });
      git(this.options.work, 'clone', '-q', fork, workCopy);
      git(workCopy, 'remote', 'add', 'upstream', path.join(this.origins, repo.owner, `${repo.name}.git`));
      git(workCopy, 'checkout', '-q', '-b', 'peak-non-root');
    }
  }

  /** `turbolift foreach [--repos FILE] -- COMMAND...` */
  async foreach(command: string[], reposFile = path.join(this.campaign, 'repos.txt')): Promise<RepoRun[]> {
    const repos = readFileSync(reposFile, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const runs: RepoRun[] = [];
    const failed: string[] = [];
    const successful: string[] = [];
    for (const repository of repos) {
      const workCopy = path.join(this.campaign, 'work', repository);
      const exit = await exec(command[0], command.slice(1), {
        cwd: workCopy,
        env: baseEnv(this.options.bin, { PEAK_FIX_OUT: this.options.out }),
      });
      (exit.code === 0 ? successful : failed).push(repository);
      runs.push({ repository, exit, committed: false });
    }
    for (const [file, list] of [
      [this.failedFile, failed],
      [this.successfulFile, successful],
    ] as const) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `# repositories from turbolift foreach\n${list.map((r) => `${r}\n`).join('')}`);
    }
    return runs;
  }

  /** `turbolift commit --message M` then `turbolift create-prs`: commit (with --all) where something changed, push to the fork. */
  commitAndCreatePrs(runs: RepoRun[]): RepoRun[] {
    return runs.map((run) => {
      const workCopy = path.join(this.campaign, 'work', run.repository);
      if (git(workCopy, 'status', '--porcelain') === '') return run;
      git(workCopy, 'commit', '-q', '--all', '-m', COMMIT_MESSAGE);
      git(workCopy, 'push', '-q', 'origin', 'peak-non-root');
      return { ...run, committed: true, branch: 'peak-non-root', prBody: readBody(this.options.out, run.repository) };
    });
  }
}

/**
 * Sourcegraph batch changes (batch spec reference: steps.run, steps.env, steps.outputs; changesetTemplate):
 * each repository's files are laid out as a workspace without git history (src-cli downloads an archive),
 * the step runs there with its `env` (`PEAK_FIX_REPOSITORY: ${{ repository.name }}`), its stdout becomes
 * `outputs.prBody` and the changeset's body; the files it changed are the changeset's diff. A failing step
 * fails the workspace: no changeset.
 */
export async function sourcegraph(
  origins: string,
  fleet: readonly FleetRepo[],
  options: { work: string; bin: string; host: string },
): Promise<RepoRun[]> {
  const step = path.join(CONTRIB, 'sourcegraph/step.sh');
  const runs: RepoRun[] = [];
  for (const repo of fleet) {
    const repository = fullName(repo);
    const workspace = path.join(options.work, 'sourcegraph', repository);
    mkdirSync(path.dirname(workspace), { recursive: true });
    git(options.work, 'clone', '-q', path.join(origins, repo.owner, `${repo.name}.git`), workspace);
    const history = `${workspace}.git-history`;
    renameSync(path.join(workspace, '.git'), history); // the step sees an archive, not a clone
    const env = baseEnv(options.bin, { PEAK_FIX_REPOSITORY: `${options.host}/${repository}` });
    const exit = await exec('/bin/sh', ['-c', 'peak-fix-sourcegraph-step'], { cwd: workspace, env });
    renameSync(history, path.join(workspace, '.git'));
    const committed = exit.code === 0 && commitAndPush(workspace, 'peak-fix/non-root');
    runs.push({ repository, exit, committed, ...(committed ? { branch: 'peak-fix/non-root', prBody: exit.stdout } : {}) });
  }
  return runs;
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}
