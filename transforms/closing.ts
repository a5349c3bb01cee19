import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import type { RuntimePath } from '../src/facts/types.js';
import { can } from '../src/facts/image.js';
import { copyTarget } from '../src/model/copy.js';
import { volumePaths, writableDirs } from '../src/model/dirs.js';
import { classifyPath, isPlainAbsolute, normaliseAbsolute } from '../src/facts/paths.js';
import { chownFlag, endOffset, instructionText, isRootUser, lineStartOffset, userValue } from '../src/model/dockerfile.js';
import { userBefore } from '../src/model/base.js';
import { envPairs, normalisePath } from '../src/model/peak.js';
import { MENTIONS } from '../src/model/run.js';
import { expandWord, normalise, stageScope } from '../src/model/scope.js';
import { stageServer } from '../src/model/server.js';
import type { Word } from '../src/model/shell.js';
import { PACKAGE_DATA_TREES } from '../src/facts/paths.js';
import { refusedFinding } from '../src/rewrite/policy.js';
import { ownInstruction } from '../src/rewrite/recipe.js';
import { because, instruction, type NewInstruction } from '../src/rewrite/render.js';
import { runtimePathsPrefix } from '../src/rewrite/recipe.js';
import { asRoot, finding, type Transform, type TransformContext } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';

/**
 * The closing ownership step: at the end of the stage (before a final `USER` of the Peak user), one `RUN` gives
 * the user what its program writes and nothing else: its home, where a step after the user block may have left
 * something there that is not the user's; the application directories the stage made (the directories, not the
 * files in them); what the original gave its own runtime user; a HOME the image sets; a server's run-time paths.
 * Each piece is one function below; the line is added only when one of them has something to give.
 */
export const closing: Transform = {
  id: 'closing',
  summary:
    "Gives the user, at the end of the stage, what its program writes: the application's directories, a server's run-time paths, and its home where a later step may have left files there.",
  apply(ctx) {
    const { model, options, plan, render } = ctx;
    const { stage } = plan;
    const findings: Finding[] = [];
    const runs = can.run(plan.base.facts);
    // The user the original's program runs as (a final USER of the Peak user, which the closing goes before, aside):
    // where it was another user, the directories root made were never its to write, and still are not.
    const runtimeUser = originalRuntimeUser(ctx);
    const ranAsRoot = isRootUser(runtimeUser) || plan.peak.isPeakUserValue(runtimeUser);

    findings.push(...refusedDirFindings(ctx));
    const originalDirs = originalUserDirs(ctx, findings);
    const scope = stageScope(model, stage);
    const volumes = stage.instructions.flatMap((i, index) =>
      i.getKeyword() === 'VOLUME' ? volumePaths(model, i, scope.valuesAt(index)) : [],
    );
    // A chown after VOLUME is discarded, and find already descends into sub-directories of listed ones.
    const covering = new Set([options.home, ...volumes].map(normalisePath));
    const whole = originalDirs.filter((d) => d.whole && !ancestors(d.path).some((a) => covering.has(a))).map((d) => d.path);
    const wholeSet = new Set(whole);
    const dirs = [
      ...(ranAsRoot ? applicationDirs(ctx) : []),
      ...originalDirs.filter((d) => !d.whole).map((d) => ({ path: d.path, mayBeMissing: d.mayBeMissing })),
    ];
    // A server's run-time paths go whole (an empty pid file included), whoever the original gave them to.
    const runtime = serverPaths(ctx).filter((p) => !wholeSet.has(p.path));
    const runtimeSet = new Set(runtime.map((p) => p.path));
    const listed = new Set(dirs.map((d) => d.path));
    const dirsOnly = [...new Set(dirs.map((d) => d.path))].filter(
      (path) => !ancestors(path).some((a) => covering.has(a) || wholeSet.has(a) || runtimeSet.has(a) || (a !== path && listed.has(a))),
    );
    const home = homeNeedsFix(ctx) ? [options.home] : [];
    const give = [...home, ...whole, ...runtime.map((p) => p.path)];

    if (give.length + dirsOnly.length === 0) return { edits: [], findings };
    if (!runs) {
      if (dirsOnly.length > 0) {
        findings.push(
          finding(
            'dir-not-owned',
            stage.from,
            `the base has no shell to chown ${dirsOnly.join(' ')}; they stay owned by root`,
            'create them in a builder stage and COPY them with --chown',
          ),
        );
      }
      return { edits: [], findings };
    }
    if (plan.userReadyIndex > plan.closingAt) return { edits: [], findings };
    const mayBeMissing =
      dirs.some((d) => d.mayBeMissing && dirsOnly.includes(d.path)) || originalDirs.some((d) => d.mayBeMissing && wholeSet.has(d.path));
    const own = ownInstruction(options, give, dirsOnly, { mayBeMissing, facts: plan.base.facts });
    const why = [
      ...home.map((h) => `${h}: a step after the user block may leave files there that are not ${options.user}'s`),
      ...whole.map((p) => `${p}: the original gave it to its own runtime user, so the program writes there`),
      ...originalDirs
        .filter((d) => !d.whole && dirsOnly.includes(d.path))
        .map((d) => `${d.path}: the original gave the directory to its own runtime user, so the program writes there`),
      ...runtime.map((p) => `${p.path}: ${plan.base.reference.split(/[:@]/)[0]}'s program writes it at run time (${p.source})`),
      ...(dirsOnly.length > 0
        ? [`${dirsOnly.join(' ')}: made while root ran the program, which could write there (directories only, not the files)`]
        : []),
    ];
    const withRuntime = because(
      {
        ...own,
        // What the stage made or gave away itself exists already: only the rest is made.
        lines: [
          runtimePathsPrefix(runtime, new Set([...originalDirs.map((d) => d.path), ...dirs.map((d) => d.path)])) + own.lines[0],
          ...own.lines.slice(1),
        ],
      },
      `gives ${options.user} what its program writes, copying no file data: ${why.join('; ')}`,
    );
    const inForce = userBefore(model, stage, plan.closingAt);
    const items: NewInstruction[] = asRoot(inForce, [withRuntime], null);
    // Odd order (the user created after its own final USER): the closing goes at the end, and that USER comes back.
    if (plan.endsAsPeak && plan.closingAt === stage.instructions.length && !isRootUser(inForce)) {
      items.push(because(instruction('USER', inForce as string), `back to ${inForce}, the stage's own final user`));
    }
    const edits: TextEdit[] =
      plan.closingAt < stage.instructions.length
        ? [render.insertBefore(lineStartOffset(model, stage.instructions[plan.closingAt]), items)]
        : [render.insertAfter(endOffset(model, stage.instructions[stage.instructions.length - 1] ?? stage.from), items)];
    return { edits, findings };
  },
};

/**
 * The user the original's program runs as: the user in force where the closing goes, looking past the recipe's own
 * lines before it (its `USER 0` and ownership `RUN` of an earlier run), so a second run sees what the first saw.
 */
function originalRuntimeUser({ model, plan }: TransformContext): string | null {
  const { stage, peak } = plan;
  let k = plan.closingAt - 1;
  for (; k >= 0; k--) {
    const i = stage.instructions[k];
    if (peak.isPeakManaged(i) && (i.getKeyword() === 'RUN' || i.getKeyword() === 'ENV')) continue;
    const next = stage.instructions[k + 1];
    const switchesForRecipe = i.getKeyword() === 'USER' && isRootUser(userValue(i)) && next !== undefined && k + 1 < plan.closingAt;
    if (switchesForRecipe && peak.isPeakManaged(next) && next.getKeyword() === 'RUN') continue;
    break;
  }
  return userBefore(model, stage, k + 1);
}

/** The Peak user is in force before `stage.instructions[index]`: what runs there is the user's own. */
function ranAsPeak(ctx: TransformContext, index: number): boolean {
  return ctx.plan.peak.isPeakUserValue(userBefore(ctx.model, ctx.plan.stage, index));
}

/**
 * Whether a step after the point where the user got its home may leave something there that is not the user's:
 * a RUN as root working in the home (the inserted `WORKDIR <home>`, or its own) or naming it, a COPY/ADD into it
 * that does not end up the user's (another `--chown`, an unpacked archive, a copy made before the user exists).
 * Both presets ask the same question (the guide's own preset always inserts WORKDIR <home>, so its RUN steps work in
 * the home and it usually closes with the guide's chown), so each recognises the other's output as complete.
 */
function homeNeedsFix(ctx: TransformContext): boolean {
  const { model, options, plan } = ctx;
  const { stage, peak } = plan;
  const home = normalisePath(options.home);
  const underHome = (path: string | null) => path !== null && (path === home || path.startsWith(home + '/'));
  // The user block gives the home; so does a hand migration's creation and chown.
  let from = plan.existingCreate >= 0 ? plan.existingCreate : plan.userFromParent ? -1 : plan.blockAfter;
  stage.instructions.slice(0, plan.closingAt).forEach((i, k) => {
    if (peak.ownsHome(i)) from = Math.max(from, k);
  });
  const scope = stageScope(model, stage);
  // The WORKDIR <home> this run inserts is in force after the block until the stage's own WORKDIR. A WORKDIR <home>
  // already in the text (an earlier run's, here or in a parent stage) is not taken for one: the second run must
  // see what the first saw.
  const ownWorkdirAt = stage.instructions.findIndex((i, k) => k > plan.blockAfter && i.getKeyword() === 'WORKDIR');
  const cwd = (k: number) => {
    if (plan.homeWorkdir && k > plan.blockAfter && (ownWorkdirAt < 0 || k < ownWorkdirAt)) return home;
    const dir = scope.workdirAt(k);
    return dir !== null && underHome(dir) ? null : dir;
  };
  for (let k = from + 1; k < plan.closingAt; k++) {
    const i = stage.instructions[k];
    if (ranAsPeak(ctx, k) || peak.isPeakManaged(i)) continue;
    const keyword = i.getKeyword();
    if (keyword === 'COPY' || keyword === 'ADD') {
      const target = copyTarget(model, stage, k);
      // `$HOME` takes its value from ENV lines, which a rewritten parent stage may add (ENV HOME=<home>): the same
      // text would land elsewhere on a second run, so such a destination is not read at all.
      if (target?.variables.includes('HOME')) continue;
      const relative = target?.expanded !== null && target?.expanded !== undefined && !target.expanded.startsWith('/');
      const dir = cwd(k);
      const where = relative ? (dir !== null ? normalise(`${dir}/${target?.expanded}`) : null) : (target?.path ?? null);
      if (!underHome(where)) continue;
      const chown = chownFlag(i);
      const unpacked = keyword === 'ADD' && (target?.sources ?? []).some((s) => /\.(tar|tgz|tbz2?|txz|tar\.\w+)$/i.test(s));
      if (unpacked || (chown ? !peak.isPeakOwner(chown.getValue() ?? '') : k < plan.userReadyIndex)) return true;
    } else if (keyword === 'RUN') {
      if (underHome(cwd(k))) return true;
      const text = instructionText(model, i);
      // `$HOME` is not read: its value is root's, or one an ENV HOME this run adds to a parent stage would change.
      if (text.includes(home) || text.includes(`~${options.user}`)) return true;
    }
  }
  return false;
}

/** WORKDIR and mkdir directories the policy refuses, reported where they are made (a mkdir of /etc/… quietly). */
function refusedDirFindings({ model, options, plan }: TransformContext): Finding[] {
  const findings: Finding[] = [];
  for (const dir of writableDirs(model, plan.stage, plan.peak, options.home).refused) {
    if (dir.madeAt >= plan.closingAt) continue;
    const keyword = dir.madeBy.getKeyword();
    // A WORKDIR under /root is reported by the root-home-path check, with what it does to the start-up.
    if (keyword === 'WORKDIR' && dir.kind === 'root-home') continue;
    if (keyword === 'WORKDIR' || dir.kind === 'root-home' || dir.kind === 'other-home' || dir.kind === 'kernel') {
      findings.push(refusedFinding(dir.madeBy, `${keyword === 'WORKDIR' ? 'WORKDIR' : 'mkdir'} ${dir.path}`, dir.kind, options.user));
    }
  }
  return findings;
}

/**
 * Directories the original gave its own runtime user (`chown -R www-data /var/www`) are the ones its program
 * writes: their directories go to the user that now runs it (not their files: that would copy the files' data into a
 * new layer). Root keeps what the original gave root. A HOME the image sets on purpose stays its HOME, files
 * included, and the program must be able to write there.
 */
function originalUserDirs(ctx: TransformContext, findings: Finding[]): { path: string; mayBeMissing: boolean; whole: boolean }[] {
  const { model, options, plan } = ctx;
  const { stage, peak } = plan;
  const candidates: { path: string; at: number; whole: boolean }[] = [];
  const copiedToUser = (path: string, before: number) =>
    stage.instructions.slice(plan.userReadyIndex, before).some((i, k) => {
      const index = plan.userReadyIndex + k;
      const flag = chownFlag(i);
      if ((i.getKeyword() !== 'COPY' && i.getKeyword() !== 'ADD') || (flag && !peak.isPeakOwner(flag.getValue() ?? ''))) return false;
      const dest = copyTarget(model, stage, index)?.path;
      return dest != null && classifyPath(dest, options.home) === 'app' && ancestors(path).includes(dest);
    });
  stage.instructions.slice(0, plan.closingAt).forEach((i, index) => {
    if (peak.isPeakManaged(i)) return;
    const keyword = i.getKeyword();
    if (keyword === 'COPY' || keyword === 'ADD') {
      // `COPY --chown=nextjs:nodejs /app/.next/standalone ./`: the application, given to the original's runtime user.
      const owner = chownFlag(i)?.getValue() ?? '';
      const target = copyTarget(model, stage, index);
      const into = target?.path && (target.intoDirectory || target.intoExistingDirectory) ? target.path : null;
      if (!owner || !into || peak.isPeakOwner(owner) || /^(root|0)([:.]|$)/.test(owner) || owner.includes('$')) return;
      const path = normaliseAbsolute(into);
      if (classifyPath(path, options.home) !== 'app') return;
      candidates.push({ path, at: index, whole: false });
      findings.push(
        finding(
          'other-user-dir',
          i,
          `${keyword} --chown=${owner} gives ${path} to the original's runtime user: its program writes there, so its directories go to ${options.user} at the end of the stage (the files stay ${owner}'s: no file data is copied)`,
        ),
      );
      return;
    }
    if (keyword !== 'RUN') return;
    const values = stageScope(model, stage).valuesAt(index);
    for (const chown of peak.mentioning(i, MENTIONS.chowns).chowns) {
      if (peak.isPeakOwner(chown.owner.raw) || isRootOwner(chown.owner)) continue;
      // `chown -R app "$DATA_DIR"`: what Docker's ENV and ARG values make of it.
      const expanded = chown.rawPaths.map((raw) => expandWord(raw.replace(/^"|"$/g, ''), values)).filter((p): p is string => p !== null);
      for (const raw of [...chown.paths, ...expanded]) {
        if (!raw.startsWith('/') || !isPlainAbsolute(raw)) continue;
        const path = normaliseAbsolute(raw);
        const kind = classifyPath(path, options.home);
        // `chown app /app/instrument.sh` after `COPY . /app`: the copy, given to the user now, brought it.
        if (kind === 'app' && !chown.recursive && copiedToUser(path, index)) continue;
        if (kind === 'app' || (kind === 'system' && PACKAGE_DATA_TREES.test(path))) {
          // Its directories, not its files: giving files would copy their data into a new layer (a whole node_modules),
          // and the program creates what it writes.
          candidates.push({ path, at: index, whole: false });
          findings.push(
            finding(
              'other-user-dir',
              i,
              `${path} was given to ${chown.owner.raw}, the original's runtime user: its program writes there, so its directories go to ${options.user} at the end of the stage (the files in it stay ${chown.owner.raw}'s: no file data is copied)`,
            ),
          );
        } else findings.push(refusedFinding(i, `chown ${chown.owner.raw} ${path}`, kind, options.user));
      }
    }
  });
  const removedUnseen = unknownRemovalAfter(ctx);
  const out = new Map<string, { mayBeMissing: boolean; whole: boolean }>();
  const given = givenLater(ctx);
  for (const c of candidates) {
    if (ranAsPeak(ctx, c.at) || given(c.path, c.at + 1)) continue;
    const seen = out.get(c.path);
    out.set(c.path, {
      mayBeMissing: (seen?.mayBeMissing ?? false) || removedUnseen(c.at, c.path),
      whole: (seen?.whole ?? false) || c.whole,
    });
  }
  // An ENV HOME need not exist: the line passes over it when it does not.
  const envHome = stageEnvHome(stage.instructions.slice(0, plan.closingAt));
  if (envHome && normalisePath(envHome.value) !== normalisePath(options.home)) {
    const path = normaliseAbsolute(envHome.value);
    if (
      classifyPath(envHome.value, options.home) === 'app' &&
      isPlainAbsolute(envHome.value) &&
      !ranAsPeak(ctx, envHome.at) &&
      !given(path, envHome.at + 1)
    ) {
      out.set(path, { mayBeMissing: true, whole: true });
    }
  }
  return [...out].map(([path, how]) => ({ path, ...how }));
}

/** Whether a path, or a directory above it, is given to the user at or after an index (by any RUN of the stage). */
function givenLater({ plan }: TransformContext): (path: string, from: number) => boolean {
  const lastOwned = new Map<string, number>();
  plan.stage.instructions.forEach((i, index) => plan.peak.ownedPaths(i).forEach((path) => lastOwned.set(path, index)));
  return (path, from) => ancestors(path).some((a) => (lastOwned.get(a) ?? -1) >= from);
}

/**
 * WORKDIR and mkdir directories of the application, made while root was in force and not given to the user since:
 * the program ran as root and could write there. (Where the original ran as another user, it could not: see
 * `ranAsRoot` in the transform.) `mayBeMissing`: a later step removes something nobody can name.
 */
function applicationDirs(ctx: TransformContext): { path: string; mayBeMissing: boolean }[] {
  const { model, options, plan } = ctx;
  const { stage, peak } = plan;
  const given = givenLater(ctx);
  const removedUnseen = unknownRemovalAfter(ctx);
  const own = writableDirs(model, stage, peak, options.home)
    .dirs.filter((d) => d.madeAt < plan.closingAt && !ranAsPeak(ctx, d.madeAt) && !given(d.path, d.madeAt))
    .map((d) => ({ path: d.path, mayBeMissing: removedUnseen(d.madeAt, d.path) }));
  // `FROM base AS development`: the WORKDIR and the copies of the stages it is built from are the application's
  // as much (the original's program ran as root there too), unless a migrated parent gave them already.
  if (plan.userFromParent) return own;
  const inherited: { path: string; mayBeMissing: boolean }[] = [];
  for (let parent = stage.parent; parent; parent = parent.parent) {
    for (const d of writableDirs(model, parent, peak, options.home).dirs) {
      if (!given(d.path, 0)) inherited.push({ path: d.path, mayBeMissing: removedUnseen(-1, d.path) });
    }
  }
  return [...inherited, ...own];
}

/**
 * Whether a RUN after an index (and before the closing) may remove a path without naming it: `rm -rf "$DIR"`, or a
 * glob over a directory above it (`rm -rf /app/tmp/*` may take /app/tmp/cache; `/var/lib/apt/lists/*` not /app).
 */
function unknownRemovalAfter({ plan }: TransformContext): (index: number, path: string) => boolean {
  const removals = plan.stage.instructions.slice(0, plan.closingAt).flatMap((i, index) => {
    if (i.getKeyword() !== 'RUN') return [];
    const facts = plan.peak.mentioning(i, MENTIONS.removes);
    return facts.removesUnknown || facts.removesUnder.length > 0 ? [{ index, facts }] : [];
  });
  return (index, path) =>
    removals.some(
      ({ index: k, facts }) => k > index && (facts.removesUnknown || facts.removesUnder.some((dir) => path.startsWith(dir + '/'))),
    );
}

/**
 * A server's run-time paths (src/facts/servers.ts): what the base image's program writes, e.g. nginx's cache and pid
 * file, as its copied configuration sets them; less what the recipe's lines give the user already.
 */
function serverPaths({ model, plan, inputs }: TransformContext): RuntimePath[] {
  if (!can.run(plan.base.facts)) return [];
  const server = stageServer(model, plan.stage, plan.base.reference, inputs);
  const managed = plan.stage.instructions.filter((i) => plan.peak.isPeakManaged(i));
  const givenToUser = new Set(managed.flatMap((i) => [...plan.peak.ownedPaths(i)]));
  return (server?.paths ?? []).filter((p) => !givenToUser.has(p.path));
}

/** `chown root …`, `chown 0:0 …`: the original keeps root's files root's. */
function isRootOwner(owner: Word): boolean {
  const user = (owner.literal ?? '').split(/[:.]/)[0];
  return user === 'root' || user === '0';
}

/** The stage's own `ENV HOME` (either form) and where it is set, or null. */
export function stageEnvHome(instructions: Instruction[]): { value: string; at: number } | null {
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

/**
 * Ends the stage as the UID: `USER $PEAK_USER_ID` (the guide's line; without a shell, `${PEAK_USER_ID:?…}` so the
 * builder itself refuses an empty UID), after `ENV HOME=<home>` where Docker would not take the home from the
 * passwd entry: a UID the base already uses (Docker takes HOME from the first entry of that UID, node's
 * /home/node) or a base that sets a HOME of its own. A stage that already ends as the Peak user is left as it is.
 */
export const finalUser: Transform = {
  id: 'final-user',
  summary: 'Ends the stage with USER $PEAK_USER_ID, with ENV HOME where the passwd entry would not give the home.',
  apply({ model, options, plan, render }) {
    const { stage } = plan;
    if (plan.endsAsPeak) return { edits: [], findings: [] };
    const findings: Finding[] = [];
    const runs = can.run(plan.base.facts);
    const last = stage.instructions[stage.instructions.length - 1] ?? stage.from;
    if (plan.finalUserIndex >= 0) {
      const other = stage.instructions[plan.finalUserIndex];
      const value = userValue(other);
      const inARow = plan.finalUserIndex === stage.instructions.length - 1;
      findings.push(
        finding(
          isRootUser(value) ? 'final-user-root' : 'user-overridden',
          other,
          inARow
            ? `USER ${value} is kept, since peak-fix removes no line, but USER $${options.uidArg} right after it decides who runs the image`
            : `USER ${value} is followed by USER $${options.uidArg} at the end of the stage`,
          inARow ? `delete USER ${value} if the image is only built for Peak` : undefined,
          isRootUser(value) ? 'final-user-root' : inARow ? 'kept-in-a-row' : 'user-overridden',
        ),
      );
    }
    const items: NewInstruction[] = [];
    if (options.preset === 'safe' && runs && can.needHomeEnv(plan.base.facts) && stageEnvHome(stage.instructions) === null) {
      const facts = plan.base.facts;
      const why =
        facts.takenUids.length > 0
          ? `the base already uses UID ${facts.takenUids.join(', ')}: where ${options.uidArg} is one of them, Docker would take HOME from that user's passwd entry`
          : facts.home !== undefined
            ? `the base has a home of its own user (${facts.home}): HOME would be that one, not ${options.user}'s`
            : `the base is not in the catalog: where it already uses ${options.uidArg}, Docker would take HOME from that user's passwd entry`;
      items.push(because(instruction('ENV', `HOME=${options.home}`), why));
    }
    // Without a shell there is no RUN to refuse an empty UID; the builder's own ${VAR:?} check does it.
    const user = runs ? `$${options.uidArg}` : `\${${options.uidArg}:?build argument ${options.uidArg} is required}`;
    const why = runs
      ? `the image runs as the UID Peak passes (guide, step 3)`
      : `the image runs as the UID Peak passes (guide, step 3); without a shell, the builder itself refuses an empty ${options.uidArg}`;
    items.push(because(instruction('USER', user), why));
    return { edits: [render.insertAfter(endOffset(model, last), items)], findings };
  },
};
