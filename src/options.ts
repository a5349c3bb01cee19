import { DEFAULT_OPTIONS, PeakFixError, type FixOptions } from './types.js';

/**
 * Names end up inside shell lines and Dockerfile instructions; only plain names are accepted so nothing
 * can be injected (no quotes, spaces, `$`, `;`, newlines or `..`).
 */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const HOME_PATH = /^(\/[A-Za-z0-9._-]+)+$/;

export function validateOptions(partial: Partial<FixOptions> = {}): FixOptions {
  const options: FixOptions = { ...DEFAULT_OPTIONS, ...stripUndefined(partial) };
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
  if (!HOME_PATH.test(options.home) || options.home.split('/').some((part) => part === '..' || part === '.')) {
    throw new PeakFixError(
      `invalid home directory ${JSON.stringify(options.home)}: use an absolute path of letters, digits, '.', '_' and '-', without '..'`,
    );
  }
  if (options.preset !== 'safe' && options.preset !== 'peak-doc') {
    throw new PeakFixError(`invalid preset ${JSON.stringify(options.preset)}: use safe or peak-doc`);
  }
  if (!['auto', 'always', 'never'].includes(options.workdir)) {
    throw new PeakFixError(`invalid workdir mode ${JSON.stringify(options.workdir)}: use auto, always or never`);
  }
  options.allStages = Boolean(options.allStages);
  return options;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
