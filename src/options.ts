import { DEFAULT_OPTIONS, PeakFixError, type FixOptions } from './types.js';
import { HOME_PARENTS, NO_HOME_TREES } from './facts/paths.js';

/**
 * Names end up inside shell lines and Dockerfile instructions; only plain names are accepted so nothing
 * can be injected (no quotes, spaces, `$`, `;`, newlines or `..`).
 */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const HOME_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

/**
 * Variables the uid argument must not be: it is also set with `ENV`, so `PATH=1001` or `LD_PRELOAD=1001`
 * would break or hijack every later step; Docker's predefined proxy and platform arguments are taken too.
 */
const RESERVED_VARIABLES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'HOSTNAME',
  'TERM',
  'LANG',
  'LANGUAGE',
  'TZ',
  'IFS',
  'ENV',
  'BASH_ENV',
  'CDPATH',
  'TMPDIR',
  'MAIL',
  'UID',
  'EUID',
  'GID',
  'PPID',
  'SHLVL',
  'PS1',
  'PS2',
  'PS4',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'FTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'ftp_proxy',
  'no_proxy',
  'all_proxy',
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETARCH',
  'TARGETVARIANT',
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDARCH',
  'BUILDVARIANT',
]);
/** Whole families: the dynamic loader's (`LD_PRELOAD`), the locale's, bash functions, Docker's and BuildKit's own. */
const RESERVED_PREFIXES = ['LD_', 'LC_', 'BASH_FUNC_', 'DOCKER_', 'BUILDKIT_'];

/**
 * Why `home` cannot be the user's home, or undefined when it can: the ownership policy's data (src/facts/paths.ts)
 * says where the user would then own what the system owns.
 */
function homeProblem(home: string): string | undefined {
  const tree = NO_HOME_TREES.find((dir) => home === dir || home.startsWith(dir + '/'));
  if (tree !== undefined) return home === tree ? 'a system directory' : `inside the system directory ${tree}`;
  if (HOME_PARENTS.has(home)) return 'a directory that holds other homes or data';
  return undefined;
}

function reservedVariable(name: string): boolean {
  return RESERVED_VARIABLES.has(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

export function validateOptions(partial: Partial<FixOptions> = {}): FixOptions {
  const options: FixOptions = { ...DEFAULT_OPTIONS, ...stripUndefined(partial) };
  if (options.user === 'root' || /^0+$/.test(options.user)) {
    throw new PeakFixError(`invalid user ${JSON.stringify(options.user)}: the image must run as a non-root user, not root (UID 0)`);
  }
  if (!USER_NAME.test(options.user)) {
    throw new PeakFixError(
      `invalid user name ${JSON.stringify(options.user)}: use lower-case letters, digits, '_' and '-', starting with a letter or '_' (at most 32)`,
    );
  }
  if (!ARG_NAME.test(options.uidArg)) {
    throw new PeakFixError(
      `invalid build argument name ${JSON.stringify(options.uidArg)}: use letters, digits and '_', not starting with a digit`,
    );
  }
  if (reservedVariable(options.uidArg)) {
    throw new PeakFixError(
      `invalid build argument name ${JSON.stringify(options.uidArg)}: a variable the shell, the loader or Docker already uses (it is also set with ENV); use a name of its own such as PEAK_USER_ID`,
    );
  }
  if (!HOME_PATH.test(options.home) || options.home.split('/').some((part) => part === '..' || part === '.')) {
    throw new PeakFixError(
      `invalid home directory ${JSON.stringify(options.home)}: use an absolute path of letters, digits, '.', '_' and '-', without '..'`,
    );
  }
  const problem = homeProblem(options.home.replace(/\/+$/, ''));
  if (problem !== undefined) {
    throw new PeakFixError(
      `invalid home directory ${JSON.stringify(options.home)}: ${problem}, which the user would own; use a directory of its own such as /home/${options.user}`,
    );
  }
  if (options.preset !== 'safe' && options.preset !== 'peak-doc') {
    throw new PeakFixError(`invalid preset ${JSON.stringify(options.preset)}: use safe or peak-doc`);
  }
  if (!['auto', 'always', 'never'].includes(options.workdir)) {
    throw new PeakFixError(`invalid workdir mode ${JSON.stringify(options.workdir)}: use auto, always or never`);
  }
  options.allStages = Boolean(options.allStages);
  options.force = Boolean(options.force);
  return options;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
