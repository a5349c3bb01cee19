import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { classifyPath, isPlainAbsolute, normaliseAbsolute, volumePaths, writableDirs, type PathClass } from '../src/model/dirs.js';
import { chownFlag, endOffset, isRootUser, lastUserIndex, lineStartOffset, userBefore, userValue } from '../src/model/dockerfile.js';
import { envPairs, normalisePath } from '../src/model/peak.js';
import { MENTIONS } from '../src/model/run.js';
import type { Word } from '../src/model/shell.js';
import { can } from '../src/images.js';
import { stageServer } from '../src/model/server.js';
import { runtimePathsPrefix } from '../src/servers.js';
import { ownInstruction } from '../src/recipe.js';
import { instruction, type NewInstruction } from '../src/render.js';
import { refusedFinding } from '../src/policy.js';
import { asRoot, finding, type Transform } from '../src/transform.js';
import type { Finding } from '../src/types.js';

/** Instructions that can leave files the user does not own. */
function addsFiles(i: Instruction): boolean {
  return ['RUN', 'COPY', 'ADD'].includes(i.getKeyword());
}

export const closing: Transform = {
  id: 'closing',
  summary: 'Ends the stage by giving the user its home and writable directories, then USER $PEAK_USER_ID.',
  apply({ model, options, plan, render, inputs }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const { stage, peak } = plan;
    const runs = can.run(plan.base.facts);
    const instructions = stage.instructions;
    const last = instructions[instructions.length - 1] ?? stage.from;

    const runsAsPeak = (index: number) => peak.isPeakUserValue(userBefore(model, stage, index));
    // Where the stage already ends as the Peak user, what follows that USER runs as the user: the fix goes before it.
    const finalUser = lastUserIndex(stage);
    const endsAsPeak = finalUser >= 0 && peak.isPeakUser(instructions[finalUser]);
    // ...unless the user is only created after that USER (a hand migration in odd order): then at the end.
    const beforeUser = endsAsPeak && plan.userReadyIndex <= finalUser;
    const insertAt = beforeUser ? finalUser : instructions.length;

    // A closing ownership fix counts when nothing between it and the insertion point adds files it did not cover.
    let homeOwned = false;
    for (let k = insertAt - 1; k >= 0; k--) {
      const i = instructions[k];
      if (peak.ownsHome(i)) {
        homeOwned = true;
        break;
      }
      // COPY/ADD once the user exists carry --chown after this run, and a RUN as the user makes the user's files:
      // neither leaves anything to fix.
      const ownedCopy = i.getKeyword() !== 'RUN' && (k >= plan.userReadyIndex || peak.isPeakOwner(chownFlag(i)?.getValue() ?? ''));
      if (addsFiles(i) && !peak.isPeakManaged(i) && !ownedCopy && !runsAsPeak(k)) break;
    }

    const { dirs, refused } = writableDirs(model, stage, peak, options.home);
    for (const dir of refused) {
      if (dir.madeAt >= insertAt) continue;
      const keyword = dir.madeBy.getKeyword();
      // A WORKDIR under /root is reported by the root-home-path check, with what it does to the start-up.
      if (keyword === 'WORKDIR' && dir.kind === 'root-home') continue;
      if (keyword === 'WORKDIR' || dir.kind === 'root-home' || dir.kind === 'other-home' || dir.kind === 'kernel') {
        findings.push(refusedFinding(dir.madeBy, `${keyword === 'WORKDIR' ? 'WORKDIR' : 'mkdir'} ${dir.path}`, dir.kind, options.user));
      }
    }
    // A chown after VOLUME is discarded, and find already descends into sub-directories of listed ones.
    const volumes = instructions.filter((i) => i.getKeyword() === 'VOLUME').flatMap((v) => volumePaths(model, v));
    const covering = new Set([options.home, ...volumes].map(normalisePath));
    // The last instruction that gives each path to the user: a directory is done if it, or a directory above it,
    // was given after it was made.
    const lastOwned = new Map<string, number>();
    instructions.forEach((i, index) => peak.ownedPaths(i).forEach((path) => lastOwned.set(path, index)));
    const ownedLater = (path: string, from: number) => ancestors(path).some((a) => (lastOwned.get(a) ?? -1) >= from);

    // Directories the original gave to another user are the ones its program writes: they go to the user that now
    // runs it, files included. Root keeps what the original gave root.
    const wholeCandidates: { path: string; at: number }[] = [];
    instructions.slice(0, insertAt).forEach((i, index) => {
      if (i.getKeyword() !== 'RUN' || peak.isPeakManaged(i)) return;
      for (const chown of peak.mentioning(i, MENTIONS.chowns).chowns) {
        if (peak.isPeakOwner(chown.owner.raw) || isRootOwner(chown.owner)) continue;
        for (const raw of chown.paths) {
          if (!raw.startsWith('/') || !isPlainAbsolute(raw)) continue;
          const path = normaliseAbsolute(raw);
          const kind = classifyPath(path, options.home);
          if (kind === 'app') {
            wholeCandidates.push({ path, at: index });
            findings.push(
              finding(
                'other-user-dir',
                i,
                `${path} was given to ${chown.owner.raw}, the original's runtime user: its program writes there, so it goes to ${options.user} at the end of the stage`,
              ),
            );
          } else findings.push(refusedFinding(i, `chown ${chown.owner.raw} ${path}`, kind, options.user));
        }
      }
    });
    // A HOME the image sets on purpose stays its HOME, and the program must be able to write there.
    const envHome = stageEnvHome(instructions.slice(0, insertAt));
    if (envHome && normalisePath(envHome.value) !== normalisePath(options.home)) {
      const kind = classifyPath(envHome.value, options.home);
      if (kind === 'app' && isPlainAbsolute(envHome.value))
        wholeCandidates.push({ path: normaliseAbsolute(envHome.value), at: envHome.at });
    }
    const whole = [...new Set(wholeCandidates.filter((c) => !runsAsPeak(c.at) && !ownedLater(c.path, c.at + 1)).map((c) => c.path))].filter(
      (path) => !ancestors(path).some((a) => covering.has(a)),
    );
    const wholeSet = new Set(whole);

    // Directories made after the final USER, or while the Peak user is in force, are the user's own (mkdir) or
    // beyond this fix's reach (WORKDIR).
    const candidates = dirs.filter((d) => d.madeAt < insertAt && !runsAsPeak(d.madeAt) && !ownedLater(d.path, d.madeAt)).map((d) => d.path);
    const listed = new Set(candidates);
    const missingDirs = candidates.filter(
      (path) => !ancestors(path).some((a) => covering.has(a) || wholeSet.has(a) || (a !== path && listed.has(a))),
    );
    // Servers (src/servers.ts): the paths the base image's program writes at run time, e.g. nginx's cache and pid
    // file, as its copied configuration sets them; an empty pid file is made so the user can rewrite it.
    const server = runs ? stageServer(model, stage, plan.base.reference, inputs) : undefined;
    const givenToUser = new Set(instructions.filter((i) => peak.isPeakManaged(i)).flatMap((i) => [...peak.ownedPaths(i)]));
    const runtime = (server?.paths ?? []).filter((p) => !givenToUser.has(p.path) && !missingDirs.includes(p.path) && !wholeSet.has(p.path));
    const wholeOwn = [...(homeOwned ? [] : [options.home]), ...whole, ...runtime.map((p) => p.path)];

    if (finalUser >= 0 && !endsAsPeak) {
      const other = instructions[finalUser];
      findings.push(
        finding(
          isRootUser(userValue(other)) ? 'final-user-root' : 'user-overridden',
          other,
          `USER ${userValue(other)} is followed by USER $${options.uidArg} at the end of the stage`,
        ),
      );
    }

    const items: NewInstruction[] = [];
    const inForce = userBefore(model, stage, insertAt);
    if (wholeOwn.length + missingDirs.length > 0 && runs && plan.userReadyIndex <= insertAt) {
      const own = ownInstruction(options, wholeOwn, missingDirs, false, plan.base.facts);
      const withRuntime = { ...own, lines: [runtimePathsPrefix(runtime) + own.lines[0], ...own.lines.slice(1)] };
      items.push(...asRoot(inForce, [withRuntime], null));
    } else if (missingDirs.length > 0 && !runs) {
      findings.push(
        finding(
          'dir-not-owned',
          stage.from,
          `the base has no shell to chown ${missingDirs.join(' ')}; they stay owned by root`,
          'create them in a builder stage and COPY them with --chown',
        ),
      );
    }
    if (endsAsPeak && !beforeUser && items.length > 0) {
      items.push(instruction('USER', userValue(instructions[finalUser])));
    } else if (!endsAsPeak) {
      const sharesUid = can.needHomeEnv(plan.base.facts);
      const hasHome = stageEnvHome(instructions) !== null;
      // With a shared UID, Docker takes HOME from the first passwd entry of that UID (node's /home/node).
      if (options.preset === 'safe' && sharesUid && !hasHome && runs) items.push(instruction('ENV', `HOME=${options.home}`));
      // Without a shell there is no RUN to refuse an empty UID; the builder's own ${VAR:?} check does it.
      const uid = !runs ? `\${${options.uidArg}:?build argument ${options.uidArg} is required}` : `$${options.uidArg}`;
      items.push(instruction('USER', uid));
    }
    if (items.length === 0) return { edits, findings };
    if (beforeUser) {
      edits.push({ offset: lineStartOffset(model, instructions[finalUser]), remove: 0, insert: render.beforeLine(items) });
    } else {
      edits.push({ offset: endOffset(model, last), remove: 0, insert: render.afterLine(items) });
    }
    return { edits, findings };
  },
};

/** `chown root …`, `chown 0:0 …`: the original keeps root's files root's. */
function isRootOwner(owner: Word): boolean {
  const user = (owner.literal ?? '').split(/[:.]/)[0];
  return user === 'root' || user === '0';
}

/** The stage's own `ENV HOME` (either form) and where it is set, or null. */
function stageEnvHome(instructions: Instruction[]): { value: string; at: number } | null {
  let found: { value: string; at: number } | null = null;
  instructions.forEach((i, at) => {
    if (i.getKeyword() !== 'ENV') return;
    for (const [name, value] of envPairs(i)) if (name === 'HOME') found = { value: value.replace(/^["']|["']$/g, ''), at };
  });
  return found;
}

/** The path itself and every directory above it, `/` excluded. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') out.push(p);
  return out;
}
