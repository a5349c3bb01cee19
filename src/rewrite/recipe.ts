import type { ImageFacts, RuntimePath } from '../facts/types.js';
import { isSystemDir } from '../facts/paths.js';
import { can } from '../facts/image.js';
import { because, instruction, type NewInstruction } from './render.js';
import type { FixOptions } from '../types.js';

/**
 * The shell lines of Peak's recipe, per what the base can do (src/facts/types.ts) and preset. Names come from validated options
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
 * Writes the user straight into /etc/passwd and /etc/group and makes its home: the way on a base with a shell but
 * no user tool that accepts the UID (ubi-minimal has no shadow-utils; busybox adduser refuses a taken UID). The
 * group gets the UID's number and the user's name, and is only added when no group of that name exists.
 * Never installs a package.
 */
export function passwdFileCreate(o: FixOptions): string {
  const uid = `$${o.uidArg}`;
  return (
    `(echo "${o.user}:x:${uid}:${uid}::${o.home}:/bin/sh" >> /etc/passwd` +
    ` && (grep -q "^${o.user}:" /etc/group || echo "${o.user}:x:${uid}:" >> /etc/group)` +
    ` && mkdir -p ${o.home})`
  );
}

/**
 * How the safe preset creates the user, by how the base can create one. Where the base already owns UIDs (node:
 * 1000), `-o` lets the UID be shared; the group gets the same number so `USER <uid>` finds it.
 */
export function createUser(o: FixOptions, facts: ImageFacts): string {
  const uid = `"$${o.uidArg}"`;
  const uidTaken = can.shareUid(facts);
  const groups = can.joinWriterGroup(facts) ? ` -G ${facts.writerGroup?.gid}` : '';
  const useradd = `useradd -l -m -d ${o.home} -u ${uid}${groups} ${o.user}`;
  const sharedUseradd = `groupadd -o -g ${uid} ${o.user} && useradd -l -o -m -d ${o.home} -u ${uid} -g ${o.user}${groups} ${o.user}`;
  const adduser = `adduser -D -h ${o.home} -u ${uid} ${o.user}`;
  switch (facts.userCreation) {
    case 'busybox':
      // busybox adduser has no -o: where the image uses UIDs of its own (node:alpine's 1000), a taken one falls back
      // to the passwd file.
      return uidTaken ? `(id ${o.user} || ${adduser} || ${passwdFileCreate(o)})` : `(id ${o.user} || ${adduser})`;
    case 'passwd-file':
      return `(id ${o.user} || ${passwdFileCreate(o)})`;
    case 'useradd':
      return `(id ${o.user} || ${uidTaken ? `(${sharedUseradd})` : useradd})`;
    default:
      // Not known: whichever tool the image has, one after the other (shadow's useradd, sharing a UID the image may
      // use; busybox's adduser; else the passwd file), so the build works on any base with a shell.
      return `(id ${o.user} || useradd -l -o -m -d ${o.home} -u ${uid} ${o.user} || ${adduser} || ${passwdFileCreate(o)})`;
  }
}

/**
 * Gives directories to the user without copying file data into a new layer: `find` changes only what is not the
 * user's yet (`chown -R` would rewrite every file). `whole` paths get their files too (the home, volumes, what the
 * original gave its runtime user); `dirsOnly` paths get their directories, so the program can create files where it
 * works without owning what was installed there. Where a start point may be gone by then (`mayBeMissing`: a later
 * step removes what nobody can name), it is passed over instead of failing the build (`find` exits 1 on it). Where
 * `find` may be missing (facts.find not true: the Red Hat family, unknown bases) `chown -R` is the fallback, so the
 * build never fails for want of findutils; no package is installed.
 */
function ownCommands(o: FixOptions, whole: string[], dirsOnly: string[], mayBeMissing: boolean, facts?: ImageFacts): string[] {
  const not = `\\( ! -user ${o.user} -o ! -group ${o.user} \\)`;
  const chown = `${o.user}:${o.user}`;
  const each = (dirs: string[], type: string) =>
    mayBeMissing
      ? `for d in ${dirs.join(' ')}; do [ ! -e "$d" ] || find "$d"${type} ${not} -exec chown ${chown} {} +; done`
      : `find ${dirs.join(' ')}${type} ${not} -exec chown ${chown} {} +`;
  const parts: string[] = [];
  if (whole.length > 0) parts.push(each(whole, ''));
  if (dirsOnly.length > 0) parts.push(each(dirsOnly, ' -type d'));
  if (!facts || facts.find === true) return parts;
  const all = [...whole, ...dirsOnly];
  const fallback = mayBeMissing
    ? `for d in ${all.join(' ')}; do [ ! -e "$d" ] || chown -R ${chown} "$d"; done`
    : `chown -R ${chown} ${all.join(' ')}`;
  return [`if command -v find >/dev/null 2>&1; then ${parts.join(' && ')}; else ${fallback}; fi`];
}

/**
 * On a base that was migrated itself, the user already exists with the UID the base was built with, and
 * `id <user> ||` skips its creation: the user gets this build's UID (and its group the same number), so a child
 * built with another PEAK_USER_ID runs as that UID, as a user that exists. `usermod`/`groupmod` where shadow's tools
 * are (with -o, as useradd shares UIDs), the passwd and group lines themselves elsewhere. What the base gave the
 * user under the old UID goes to the new one: the home whole, and elsewhere its directories and empty files (a
 * server's pid file), so no file data is copied into the child's layer.
 */
export function setUid(o: FixOptions, facts: ImageFacts): string {
  const uid = `"$${o.uidArg}"`;
  const shadow = `groupmod -o -g ${uid} ${o.user} && usermod -o -u ${uid} -g ${uid} ${o.user}`;
  const files =
    `sed -i "s/^${o.user}:\\([^:]*\\):[0-9]*:[0-9]*:/${o.user}:\\1:$${o.uidArg}:$${o.uidArg}:/" /etc/passwd` +
    ` && sed -i "s/^${o.user}:\\([^:]*\\):[0-9]*:/${o.user}:\\1:$${o.uidArg}:/" /etc/group`;
  const change =
    facts.userCreation === 'useradd'
      ? shadow
      : facts.userCreation === 'busybox' || facts.userCreation === 'passwd-file'
        ? files
        : `if command -v usermod >/dev/null 2>&1; then ${shadow}; else ${files}; fi`;
  const owner = `"$${o.uidArg}:$${o.uidArg}"`;
  const regive =
    `find ${o.home} -xdev -user "$old" -exec chown -h ${owner} {} +` +
    ` && find / -xdev -user "$old" \\( -type d -o -empty \\) -exec chown -h ${owner} {} +`;
  return `old="$(id -u ${o.user})" && if [ "$old" != ${uid} ]; then ${change} && ${regive}; fi`;
}

/** Why the block's lines are there, for `--explain`. */
const REASONS = {
  guard: (o: FixOptions) => `an empty ${o.uidArg} fails the build here, instead of giving an image that runs as root`,
  create: (o: FixOptions, facts: ImageFacts): string => {
    switch (facts.userCreation) {
      case 'useradd':
        return (
          (can.shareUid(facts)
            ? `creates ${o.user} with the UID ${o.uidArg} (guide, step 1); -o and a group of its own because the base image's own users already hold ${facts.takenUids.length > 0 ? `UID ${facts.takenUids.join(', ')}` : 'UIDs'}`
            : `creates ${o.user} with the UID ${o.uidArg} and its home (guide, step 1); -l keeps a big UID from filling lastlog`) +
          (can.joinWriterGroup(facts)
            ? `; -G ${facts.writerGroup?.gid}: ${o.user} joins ${facts.writerGroup?.name}, the group the base gives its program's directories to, so the program can write there as any UID`
            : '')
        );
      case 'busybox':
        return `creates ${o.user} with the UID ${o.uidArg} (guide, step 1) with busybox adduser, the tool this base has${can.shareUid(facts) ? `; the passwd file when the UID is one the image uses (busybox cannot share it)` : ''}`;
      case 'passwd-file':
        return `creates ${o.user} with the UID ${o.uidArg} (guide, step 1) by writing the passwd and group entries: this base has no user tool`;
      default:
        return `creates ${o.user} with the UID ${o.uidArg} (guide, step 1) with useradd, busybox adduser or the passwd file, whichever works there: the base's tools are not known`;
    }
  },
  setUid: (o: FixOptions) =>
    `the base was migrated already: ${o.user} takes this build's ${o.uidArg}, and what the base gave it goes to the new UID`,
};

export function blockInstructions(o: FixOptions, facts: ImageFacts, baseHasUser = false): NewInstruction[] {
  // The guide's literal useradd line, where useradd may exist; busybox and ubi-minimal get the safe line.
  if (o.preset === 'peak-doc' && (facts.userCreation === 'useradd' || facts.userCreation === 'unknown')) {
    // The guide's own lines, behind a guard: an empty UID must fail the build, never give a root container.
    const reassign = baseHasUser ? [because(instruction('RUN', setUid(o, facts)), REASONS.setUid(o))] : [];
    return [
      because(instruction('RUN', uidGuard(o)), REASONS.guard(o)),
      because(instruction('RUN', guideCreateUser(o)), `the guide's line: create ${o.user} with the UID ${o.uidArg} and its home (step 1)`),
      ...reassign,
      because(instruction('RUN', guideChownHome(o)), `the guide's line: ${o.user} owns its home (step 1)`),
    ];
  }
  const reassign = baseHasUser ? [`&& ${setUid(o, facts)}`] : [];
  const why = [REASONS.guard(o), REASONS.create(o, facts), ...(baseHasUser ? [REASONS.setUid(o)] : []), `gives ${o.user} its home`];
  return [because(instruction('RUN', uidGuard(o), `&& ${createUser(o, facts)}`, ...reassign, `&& ${guideChownHome(o)}`), why.join('; '))];
}

/**
 * The ownership fix at the end of the stage, or before a VOLUME: `create` makes the paths first (a VOLUME's
 * directory the stage never made).
 */
export function ownInstruction(
  o: FixOptions,
  whole: string[],
  dirsOnly: string[] = [],
  how: { create?: string[]; mayBeMissing?: boolean; facts?: ImageFacts } = {},
): NewInstruction {
  const all = [...whole, ...dirsOnly];
  const mkdir = how.create && how.create.length > 0 ? `mkdir -p ${how.create.join(' ')} && ` : '';
  // Directories this line makes itself hold nothing yet: a plain chown -R gives them, on any base.
  const fresh = how.create !== undefined && dirsOnly.length === 0 && whole.every((p) => how.create?.includes(p));
  if (o.preset === 'peak-doc' || fresh) return instruction('RUN', `${mkdir}chown -R ${o.user}:${o.user} ${all.join(' ')}`);
  // One command a line, joined with `&&`.
  const [first, ...rest] = ownCommands(o, whole, dirsOnly, how.mayBeMissing === true, how.facts);
  return instruction('RUN', `${mkdir}${first}`, ...rest.map((r) => `&& ${r}`));
}

export function chownFlagValue(o: FixOptions, facts: ImageFacts): string {
  // Without a shell no user is created (distroless, scratch, chiseled): only numeric ids resolve.
  return can.useNames(facts) ? o.user : `$${o.uidArg}:$${o.uidArg}`;
}

/**
 * Shell text that makes the run-time paths exist before they are given away: `mkdir -p` for directories, and an
 * empty file (`touch`, after its directory) for pid files the program rewrites. Empty when there is nothing to make.
 */
export function runtimePathsPrefix(paths: readonly RuntimePath[], existing: ReadonlySet<string> = new Set()): string {
  const dirs = paths.filter((p) => p.kind === 'dir' && !existing.has(p.path)).map((p) => p.path);
  const files = paths.filter((p) => p.kind === 'file').map((p) => p.path);
  // A pid file's own directory is made too, unless it is one the system has anyway (/run, /var/run).
  const parents = files.map((f) => f.slice(0, f.lastIndexOf('/')) || '/').filter((d) => !isSystemDir(d) && !dirs.includes(d));
  const mkdir = [...new Set([...dirs, ...parents])];
  const parts: string[] = [];
  if (mkdir.length > 0) parts.push(`mkdir -p ${mkdir.join(' ')}`);
  if (files.length > 0) parts.push(`touch ${files.join(' ')}`);
  return parts.map((p) => `${p} && `).join('');
}
