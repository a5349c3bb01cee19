import type { Family } from './images.js';
import { instruction, type NewInstruction } from './render.js';
import type { FixOptions } from './types.js';

/**
 * The shell lines of Peak's recipe, per base family and preset. Names come from validated options
 * (see validateNames), so they can be pasted into shell text as they are.
 */

/** Fails the build, naming the build argument, when the UID is empty: never a root container by accident. */
export function uidGuard(o: FixOptions): string {
  return `: "\${${o.uidArg}:?build argument ${o.uidArg} is required: docker build --build-arg ${o.uidArg}=<uid>}"`;
}

/** The guide's own line, with the guide's `-l` (no lastlog fill for big UIDs on shadow < 4.13). */
export function guideCreateUser(o: FixOptions): string {
  return `id ${o.user} || useradd -l -m -d ${o.home} -u $${o.uidArg} ${o.user}`;
}

export function guideChownHome(o: FixOptions): string {
  return `chown -R ${o.user}:${o.user} ${o.home}`;
}

/**
 * How the safe preset creates the user on each family. Where the base already owns UIDs (node: 1000) or is
 * unknown, `-o` lets the UID be shared; the group gets the same number so `USER <uid>` finds it.
 */
export function createUser(o: FixOptions, family: Family, uidTaken: boolean): string {
  const uid = `"$${o.uidArg}"`;
  const useradd = `useradd -l -m -d ${o.home} -u ${uid} ${o.user}`;
  const sharedUseradd = `groupadd -o -g ${uid} ${o.user} && useradd -l -o -m -d ${o.home} -u ${uid} -g ${o.user} ${o.user}`;
  const adduser = `adduser -D -h ${o.home} -u ${uid} ${o.user}`;
  switch (family) {
    case 'alpine':
      return `(id ${o.user} || ${adduser})`;
    case 'debian':
    case 'rhel':
      return `(id ${o.user} || ${uidTaken ? `(${sharedUseradd})` : useradd})`;
    default:
      return `(id ${o.user} || if command -v useradd >/dev/null 2>&1; then ${sharedUseradd}; else ${adduser}; fi)`;
  }
}

/**
 * Gives directories to the user without copying file data into a new layer: `find` changes only what is not the
 * user's yet (`chown -R` would rewrite every file), and a start point that is missing at this step is passed
 * over instead of failing the build (`find` exits 1 on it). `whole` paths get their files too (the home, volumes,
 * what the original gave its runtime user); `dirsOnly` paths get their directories, so the program can create
 * files where it works without owning what was installed there.
 */
export function ownCommand(o: FixOptions, whole: string[], dirsOnly: string[] = [], mayBeMissing = true): string {
  const not = `\\( ! -user ${o.user} -o ! -group ${o.user} \\)`;
  // The home is made by the user block, so it is there; other directories may have been removed since.
  const loop = (dirs: string[], type: string) =>
    !mayBeMissing || (dirs.length === 1 && dirs[0] === o.home)
      ? `find ${dirs.join(' ')}${type} ${not} -exec chown ${o.user}:${o.user} {} +`
      : `for d in ${dirs.join(' ')}; do [ ! -e "$d" ] || find "$d"${type} ${not} -exec chown ${o.user}:${o.user} {} +; done`;
  const parts: string[] = [];
  if (whole.length > 0) parts.push(loop(whole, ''));
  if (dirsOnly.length > 0) parts.push(loop(dirsOnly, ' -type d'));
  return parts.join(' && ');
}

/**
 * On a base that was migrated itself, the user already exists with the UID the base was built with, and
 * `id <user> ||` skips its creation: the user gets this build's UID (and its group the same number), so a child
 * built with another PEAK_USER_ID runs as that UID, as a user that exists and owns its home. `usermod`/`groupmod`
 * where shadow's tools are (with -o, as useradd shares UIDs), the passwd and group lines themselves on busybox.
 */
export function setUid(o: FixOptions, family: Family): string {
  const uid = `"$${o.uidArg}"`;
  const shadow = `groupmod -o -g ${uid} ${o.user} && usermod -o -u ${uid} -g ${uid} ${o.user}`;
  const files =
    `sed -i "s/^${o.user}:\\([^:]*\\):[0-9]*:[0-9]*:/${o.user}:\\1:$${o.uidArg}:$${o.uidArg}:/" /etc/passwd` +
    ` && sed -i "s/^${o.user}:\\([^:]*\\):[0-9]*:/${o.user}:\\1:$${o.uidArg}:/" /etc/group`;
  const change =
    family === 'debian' || family === 'rhel'
      ? shadow
      : family === 'alpine'
        ? files
        : `if command -v usermod >/dev/null 2>&1; then ${shadow}; else ${files}; fi`;
  return `if [ "$(id -u ${o.user})" != ${uid} ]; then ${change}; fi`;
}

export function blockInstructions(o: FixOptions, family: Family, uidTaken: boolean, baseHasUser = false): NewInstruction[] {
  if (o.preset === 'peak-doc' && family !== 'alpine') {
    // The guide's own lines, behind a guard: an empty UID must fail the build, never give a root container.
    const reassign = baseHasUser ? [instruction('RUN', setUid(o, family))] : [];
    return [instruction('RUN', uidGuard(o)), instruction('RUN', guideCreateUser(o)), ...reassign, instruction('RUN', guideChownHome(o))];
  }
  const reassign = baseHasUser ? [`&& ${setUid(o, family)}`] : [];
  return [instruction('RUN', uidGuard(o), `&& ${createUser(o, family, uidTaken)}`, ...reassign, `&& ${guideChownHome(o)}`)];
}

/** The ownership fix at the end of the stage (and before a VOLUME, with `create`). */
export function ownInstruction(o: FixOptions, whole: string[], dirsOnly: string[] = [], create = false): NewInstruction {
  const all = [...whole, ...dirsOnly];
  const mkdir = create ? `mkdir -p ${all.join(' ')} && ` : '';
  if (o.preset === 'peak-doc') return instruction('RUN', `${mkdir}chown -R ${o.user}:${o.user} ${all.join(' ')}`);
  const own = ownCommand(o, whole, dirsOnly, !create);
  if (!own.includes(' && ')) return instruction('RUN', `${mkdir}${own}`);
  const [first, ...rest] = own.split(' && ');
  return instruction('RUN', `${mkdir}${first}`, ...rest.map((r) => `&& ${r}`));
}

export function chownFlagValue(o: FixOptions, family: Family): string {
  // Without /etc/passwd (distroless, scratch) only numeric ids resolve.
  return family === 'distroless' ? `$${o.uidArg}:$${o.uidArg}` : o.user;
}
