import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { volumePaths, writableDirs } from '../src/model/dirs.js';
import { chownFlag, endOffset, isRootUser, lastUserIndex, lineStartOffset, userBefore, userValue } from '../src/model/dockerfile.js';
import { normalisePath } from '../src/model/peak.js';
import { stageServer } from '../src/model/server.js';
import { runtimePathsPrefix } from '../src/servers.js';
import { ownInstruction } from '../src/recipe.js';
import { instruction, type NewInstruction } from '../src/render.js';
import { finding, type Transform } from '../src/transform.js';
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
    const family = plan.base.image.family;
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

    const { dirs, system } = writableDirs(model, stage, options.home);
    for (const dir of system) {
      if (dir.madeBy.getKeyword() === 'WORKDIR') {
        findings.push(
          finding('system-dir-not-owned', dir.madeBy, `WORKDIR ${dir.path} is a system directory; it was not given to ${options.user}`),
        );
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
    // Directories made after the final USER, or while the Peak user is in force, are the user's own (mkdir) or
    // beyond this fix's reach (WORKDIR).
    const candidates = dirs.filter((d) => d.madeAt < insertAt && !runsAsPeak(d.madeAt) && !ownedLater(d.path, d.madeAt)).map((d) => d.path);
    const listed = new Set(candidates);
    const missingDirs = candidates.filter((path) => !ancestors(path).some((a) => covering.has(a) || (a !== path && listed.has(a))));
    // Servers (src/servers.ts): the paths the base image's program writes at run time, e.g. nginx's cache and pid
    // file, as its copied configuration sets them; an empty pid file is made so the user can rewrite it.
    const server = family === 'distroless' ? undefined : stageServer(model, stage, plan.base.reference, inputs);
    const givenToUser = new Set(instructions.filter((i) => peak.isPeakManaged(i)).flatMap((i) => [...peak.ownedPaths(i)]));
    const runtime = (server?.paths ?? []).filter((p) => !givenToUser.has(p.path) && !missingDirs.includes(p.path));
    const toOwn = [...(homeOwned ? [] : [options.home]), ...missingDirs, ...runtime.map((p) => p.path)];

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
    if (toOwn.length > 0 && family !== 'distroless' && plan.userReadyIndex <= insertAt) {
      if (!isRootUser(inForce)) items.push(instruction('USER', '0'));
      const own = ownInstruction(options, toOwn);
      items.push({ ...own, lines: [runtimePathsPrefix(runtime) + own.lines[0], ...own.lines.slice(1)] });
    } else if (missingDirs.length > 0 && family === 'distroless') {
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
      const sharesUid = (plan.base.image.takenUids?.length ?? 0) > 0 || !plan.base.image.known;
      const hasHome = instructions.some((i) => i.getKeyword() === 'ENV' && i.getArguments().some((a) => a.getValue().startsWith('HOME=')));
      // With a shared UID, Docker takes HOME from the first passwd entry of that UID (node's /home/node).
      if (options.preset === 'safe' && sharesUid && !hasHome && family !== 'distroless')
        items.push(instruction('ENV', `HOME=${options.home}`));
      // Without a shell there is no RUN to refuse an empty UID; the builder's own ${VAR:?} check does it.
      const uid = family === 'distroless' ? `\${${options.uidArg}:?build argument ${options.uidArg} is required}` : `$${options.uidArg}`;
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

/** The path itself and every directory above it, `/` excluded. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') out.push(p);
  return out;
}
