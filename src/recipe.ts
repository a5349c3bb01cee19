import type { ImageFacts } from './facts.js';
import { can } from './images.js';
import { instruction, type NewInstruction } from './render.js';
import type { FixOptions } from './types.js';

/**
 * The shell lines of Peak's recipe, per what the base can do (src/facts.ts) and preset. Names come from validated options
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
 * 1000) or is unknown, `-o` lets the UID be shared; the group gets the same number so `USER <uid>` finds it.
 */
export function createUser(o: FixOptions, facts: ImageFacts): string {
  const uid = `"$${o.uidArg}"`;
  const uidTaken = facts.takenUids.length > 0;
  const useradd = `useradd -l -m -d ${o.home} -u ${uid} ${o.user}`;
  const sharedUseradd = `groupadd -o -g ${uid} ${o.user} && useradd -l -o -m -d ${o.home} -u ${uid} -g ${o.user} ${o.user}`;
  const adduser = `adduser -D -h ${o.home} -u ${uid} ${o.user}`;
  switch (facts.userCreation) {
    case 'busybox':
      // busybox adduser has no -o: a taken UID (node:alpine's 1000) falls back to the passwd file.
      return `(id ${o.user} || ${adduser} || ${passwdFileCreate(o)})`;
    case 'passwd-file':
      return `(id ${o.user} || ${passwdFileCreate(o)})`;
    case 'useradd':
      return `(id ${o.user} || ${uidTaken ? `(${sharedUseradd})` : useradd})`;
    default:
      return `(id ${o.user} || if command -v useradd >/dev/null 2>&1; then ${sharedUseradd}; else ${adduser} || ${passwdFileCreate(o)}; fi)`;
  }
}

/**
 * Owns directories without rewriting files that are already the user's: `chown -R` would copy them all into a new
 * layer. Where `find` may be missing (facts.find not true: the Red Hat family, unknown bases) `chown -R` is the
 * fallback, so the build never fails for want of findutils; no package is installed.
 */
export function ownCommand(o: FixOptions, dirs: string[], facts?: ImageFacts): string {
  const list = dirs.join(' ');
  const find = `find ${list} \\( ! -user ${o.user} -o ! -group ${o.user} \\) -exec chown ${o.user}:${o.user} {} +`;
  if (!facts || facts.find === true) return find;
  return `if command -v find >/dev/null 2>&1; then ${find}; else chown -R ${o.user}:${o.user} ${list}; fi`;
}

export function blockInstructions(o: FixOptions, facts: ImageFacts): NewInstruction[] {
  // The guide's literal useradd line, where useradd may exist; busybox and ubi-minimal get the safe line.
  if (o.preset === 'peak-doc' && (facts.userCreation === 'useradd' || facts.userCreation === 'unknown')) {
    return [instruction('RUN', guideCreateUser(o)), instruction('RUN', guideChownHome(o))];
  }
  return [instruction('RUN', uidGuard(o), `&& ${createUser(o, facts)}`, `&& ${guideChownHome(o)}`)];
}

/** The ownership fix at the end of the stage (and before a VOLUME, with `create`). */
export function ownInstruction(o: FixOptions, dirs: string[], create = false, facts?: ImageFacts): NewInstruction {
  const mkdir = create ? `mkdir -p ${dirs.join(' ')} && ` : '';
  if (o.preset === 'peak-doc') return instruction('RUN', `${mkdir}chown -R ${o.user}:${o.user} ${dirs.join(' ')}`);
  return instruction('RUN', `${mkdir}${ownCommand(o, dirs, facts)}`);
}

export function chownFlagValue(o: FixOptions, facts: ImageFacts): string {
  // Without a shell no user is created (distroless, scratch, chiseled): only numeric ids resolve.
  return can.useNames(facts) ? o.user : `$${o.uidArg}:$${o.uidArg}`;
}
