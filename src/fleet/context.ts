import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * Where a run happens: which fleet runner started peak-fix, for which repository, and whether that runner
 * is in a dry run. Read from the variables each runner documents for the scripts it runs; peak-fix never
 * clones or opens pull requests itself.
 *
 * - multi-gitter (`multi-gitter run --help`, cmd/cmd-run.go): "REPOSITORY will be set to the name of the
 *   repository currently being executed" and "DRY_RUN will be set =true, when running in with the --dry-run
 *   flag, otherwise it's absent". The script runs in the clone; exit 0 with changes opens a pull request.
 * - git-xargs (gruntwork-io/git-xargs#127): `XARGS_REPO_NAME`, `XARGS_REPO_OWNER` and `XARGS_DRY_RUN`
 *   (`true`/`false`). The command runs in the clone; changes are committed and a pull request is opened.
 * - turbolift (`turbolift foreach -- COMMAND`, cmd/foreach/foreach.go): runs COMMAND in `work/<org>/<repo>`
 *   with no variables of its own; the repository comes from the clone's git remote. A non-zero exit puts the
 *   repository in the foreach's failed list (`turbolift foreach --failed`).
 * - Sourcegraph batch changes (batch spec `steps[].run`, `steps[].env`): the step runs in the repository's
 *   workspace; a spec passes `PEAK_FIX_REPOSITORY: ${{ repository.name }}` in `env` (contrib/sourcegraph).
 * - anything else: `PEAK_FIX_REPOSITORY` names the repository; else the git remote; else the path.
 */
export type RunnerName = 'multi-gitter' | 'git-xargs' | 'env';

export interface FleetEnv {
  /** The runner whose variables were found, if any. */
  runner?: RunnerName;
  /** `owner/name` (or whatever the runner calls it), when a variable names it. */
  repository?: string;
  /** The runner is in a dry run: `--write` must not write. */
  dryRun: boolean;
  /** The variable that asked for the dry run, for the notice (`DRY_RUN=true`). */
  dryRunVariable?: string;
}

const TRUE = new Set(['true', '1', 'yes']);

function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE.has(value.trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function readFleetEnv(env: Record<string, string | undefined>): FleetEnv {
  const result: FleetEnv = { dryRun: false };
  const xargsName = nonEmpty(env.XARGS_REPO_NAME);
  const multiGitterRepo = nonEmpty(env.REPOSITORY);
  if (xargsName !== undefined) {
    const owner = nonEmpty(env.XARGS_REPO_OWNER);
    result.runner = 'git-xargs';
    result.repository = owner ? `${owner}/${xargsName}` : xargsName;
    if (isTrue(env.XARGS_DRY_RUN)) {
      result.dryRun = true;
      result.dryRunVariable = `XARGS_DRY_RUN=${env.XARGS_DRY_RUN}`;
    }
  } else if (multiGitterRepo !== undefined) {
    // DRY_RUN alone is too common a name to trust: it counts only with multi-gitter's REPOSITORY beside it.
    result.runner = 'multi-gitter';
    result.repository = multiGitterRepo;
    if (isTrue(env.DRY_RUN)) {
      result.dryRun = true;
      result.dryRunVariable = `DRY_RUN=${env.DRY_RUN}`;
    }
  }
  const explicit = nonEmpty(env.PEAK_FIX_REPOSITORY);
  if (explicit !== undefined) {
    result.repository = explicit;
    result.runner ??= 'env';
  }
  return result;
}

export interface GitInfo {
  /** `git rev-parse HEAD`, when the directory is in a repository with a commit. */
  commit?: string;
  /** The repository named by the `origin` remote (`owner/name`, GitLab groups kept), without host or `.git`. */
  remoteRepository?: string;
  /** The top of the work tree. */
  root?: string;
}

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 10_000, windowsHide: true }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim() || undefined);
    });
  });
}

export async function readGitInfo(cwd: string): Promise<GitInfo> {
  const [commit, remote, root] = await Promise.all([
    git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']),
    git(cwd, ['config', '--get', 'remote.origin.url']),
    git(cwd, ['rev-parse', '--show-toplevel']),
  ]);
  const info: GitInfo = {};
  if (commit) info.commit = commit;
  if (root) info.root = root;
  const repository = remote === undefined ? undefined : repositoryFromRemote(remote);
  if (repository) info.remoteRepository = repository;
  return info;
}

/**
 * `https://host/acme/api.git`, `git@host:acme/api.git`, `ssh://git@host:22/acme/api` -> `acme/api`;
 * a local path keeps its last two components. Credentials never survive.
 */
export function repositoryFromRemote(url: string): string | undefined {
  let rest = url.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  if (scheme) {
    rest = rest.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    rest = slash >= 0 ? rest.slice(slash + 1) : '';
    if (scheme[0].toLowerCase() === 'file://') rest = lastTwo(rest);
  } else if (/^[^/]+@[^/:]+:/.test(rest) || /^[a-z0-9.-]+:[^/]/i.test(rest)) {
    rest = rest.slice(rest.indexOf(':') + 1); // scp-like: [user@]host:path
  } else {
    rest = lastTwo(rest);
  }
  rest = rest
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/^\/+/, '');
  return rest || undefined;
}

function lastTwo(localPath: string): string {
  const parts = localPath.split(/[\\/]+/).filter(Boolean);
  return parts.slice(-2).join('/');
}

export interface RepositoryIdentity {
  repository: string;
  /** Where the name came from: a runner's variable, the git remote, or the path. */
  source: RunnerName | 'git-remote' | 'path';
}

export function repositoryIdentity(fleet: FleetEnv, gitInfo: GitInfo, cwd: string): RepositoryIdentity {
  if (fleet.repository !== undefined) return { repository: fleet.repository, source: fleet.runner ?? 'env' };
  if (gitInfo.remoteRepository !== undefined) return { repository: gitInfo.remoteRepository, source: 'git-remote' };
  return { repository: path.resolve(gitInfo.root ?? cwd), source: 'path' };
}
