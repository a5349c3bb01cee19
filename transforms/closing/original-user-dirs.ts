import type { Instruction } from 'dockerfile-ast';
import { classifyPath, isPlainAbsolute, normaliseAbsolute, PACKAGE_DATA_TREES } from '../../src/facts/paths.js';
import { userBefore } from '../../src/model/base.js';
import { copyTarget } from '../../src/model/copy.js';
import { writableDirs } from '../../src/model/dirs.js';
import { chownFlag, isRootUser } from '../../src/model/dockerfile.js';
import { isRootOwner, MENTIONS } from '../../src/model/run.js';
import { expandQuoted, stageScope } from '../../src/model/scope.js';
import { refusedFinding } from '../../src/rewrite/policy.js';
import { finding, type TransformContext } from '../../src/rewrite/transform.js';
import type { Finding } from '../../src/types.js';
import { originalRuntimeUser, type Gift } from './application-dirs.js';
import { envHomeDir } from './env-home.js';
import { ancestors, givenLater, ranAsPeak, unknownRemovalAfter } from './stage-history.js';

/** A directory the original gave its runtime user; `whole`: with its files (a HOME the image sets). */
export interface OriginalDir extends Gift {
  whole: boolean;
}

/** A path an instruction gives the original's runtime user, and the instruction's index. */
interface Candidate {
  path: string;
  at: number;
}

interface Given {
  candidates: Candidate[];
  findings: Finding[];
}

/**
 * Directories the original gave its own runtime user (`chown -R www-data /var/www`) are the ones its program
 * writes: their directories go to the user that now runs it (not their files: that would copy the files' data into a
 * new layer). Root keeps what the original gave root. A HOME the image sets on purpose goes whole (see env-home.ts).
 * With the findings that say so, in the order of the instructions.
 */
export function originalUserDirs(ctx: TransformContext): { dirs: OriginalDir[]; findings: Finding[] } {
  const { plan } = ctx;
  const given = [...plan.stage.instructions.slice(0, plan.closingAt).map((i, index) => givenBy(ctx, i, index)), madeByRuntimeUser(ctx)];
  const givenToUser = givenLater(ctx);
  const removedUnseen = unknownRemovalAfter(ctx);
  const out = new Map<string, { mayBeMissing: boolean; whole: boolean }>();
  for (const c of given.flatMap((g) => g.candidates)) {
    if (ranAsPeak(ctx, c.at) || givenToUser(c.path, c.at + 1)) continue;
    const seen = out.get(c.path);
    out.set(c.path, { mayBeMissing: (seen?.mayBeMissing ?? false) || removedUnseen(c.at, c.path), whole: false });
  }
  // An ENV HOME need not exist: the line passes over it when it does not.
  const envHome = envHomeDir(ctx, givenToUser);
  if (envHome !== null) out.set(envHome, { mayBeMissing: true, whole: true });
  return { dirs: [...out].map(([path, how]) => ({ path, ...how })), findings: given.flatMap((g) => g.findings) };
}

function givenBy(ctx: TransformContext, i: Instruction, index: number): Given {
  if (ctx.plan.peak.isPeakManaged(i)) return { candidates: [], findings: [] };
  const keyword = i.getKeyword();
  if (keyword === 'COPY' || keyword === 'ADD') return givenByCopy(ctx, i, index);
  if (keyword === 'RUN') return givenByChown(ctx, i, index);
  return { candidates: [], findings: [] };
}

/**
 * Directories the stage made while the original's runtime user was in force: its own mkdir, and a missing WORKDIR,
 * which BuildKit makes for the user in force (moby/buildkit#1002; `USER node` then `WORKDIR /app`). They are that
 * user's, so its program writes there.
 */
function madeByRuntimeUser(ctx: TransformContext): Given {
  const { model, options, plan } = ctx;
  const runtimeUser = originalRuntimeUser(ctx);
  if (isRootUser(runtimeUser) || plan.peak.isPeakUserValue(runtimeUser)) return { candidates: [], findings: [] };
  const made = writableDirs(model, plan.stage, plan.peak, options.home).dirs.filter(
    (d) => d.madeAt < plan.closingAt && userBefore(model, plan.stage, d.madeAt) === runtimeUser,
  );
  return {
    candidates: made.map((d) => ({ path: d.path, at: d.madeAt })),
    findings: made.map((d) =>
      finding(
        'other-user-dir',
        d.madeBy,
        `${d.madeBy.getKeyword() === 'WORKDIR' ? 'WORKDIR' : 'mkdir'} ${d.path} is made for ${runtimeUser}, the original's runtime user: its program writes there, so its directories go to ${options.user} at the end of the stage`,
      ),
    ),
  };
}

/**
 * `COPY --chown=nextjs:nodejs /app/.next/standalone ./`, `COPY --from=deps --chown=app /prod/worker ./worker`: the
 * application, given to the original's runtime user. A destination that may be a file is given too: its directories
 * are none, so nothing changes there.
 */
function givenByCopy({ model, options, plan }: TransformContext, i: Instruction, index: number): Given {
  const owner = chownFlag(i)?.getValue() ?? '';
  const into = copyTarget(model, plan.stage, index)?.path ?? null;
  if (!owner || !into || plan.peak.isPeakOwner(owner) || /^(root|0)([:.]|$)/.test(owner) || owner.includes('$')) {
    return { candidates: [], findings: [] };
  }
  const path = normaliseAbsolute(into);
  if (classifyPath(path, options.home) !== 'app') return { candidates: [], findings: [] };
  const message = `${i.getKeyword()} --chown=${owner} gives ${path} to the original's runtime user: its program writes there, so its directories go to ${options.user} at the end of the stage (the files stay ${owner}'s: no file data is copied)`;
  return { candidates: [{ path, at: index }], findings: [finding('other-user-dir', i, message)] };
}

/** `chown -R app /app/data` in a RUN, to another user than root and the Peak user. */
function givenByChown(ctx: TransformContext, i: Instruction, index: number): Given {
  const { model, options, plan } = ctx;
  const values = stageScope(model, plan.stage).valuesAt(index);
  const given: Given = { candidates: [], findings: [] };
  for (const chown of plan.peak.mentioning(i, MENTIONS.chowns).chowns) {
    // The original keeps root's files root's.
    if (plan.peak.isPeakOwner(chown.owner.raw) || isRootOwner(chown.owner)) continue;
    // `chown -R app "$DATA_DIR"`: what Docker's ENV and ARG values make of it.
    const expanded = chown.rawPaths.map((raw) => expandQuoted(raw, values)).filter((p): p is string => p !== null);
    for (const raw of [...chown.paths, ...expanded]) {
      if (!raw.startsWith('/') || !isPlainAbsolute(raw)) continue;
      const path = normaliseAbsolute(raw);
      const kind = classifyPath(path, options.home);
      // `chown app /app/instrument.sh` after `COPY . /app`: the copy, given to the user now, brought it.
      if (kind === 'app' && !chown.recursive && copiedToUser(ctx, path, index)) continue;
      if (kind === 'app' || (kind === 'system' && PACKAGE_DATA_TREES.test(path))) {
        // Its directories, not its files: giving files would copy their data into a new layer (a whole node_modules),
        // and the program creates what it writes.
        given.candidates.push({ path, at: index });
        given.findings.push(
          finding(
            'other-user-dir',
            i,
            `${path} was given to ${chown.owner.raw}, the original's runtime user: its program writes there, so its directories go to ${options.user} at the end of the stage (the files in it stay ${chown.owner.raw}'s: no file data is copied)`,
          ),
        );
      } else given.findings.push(refusedFinding(i, `chown ${chown.owner.raw} ${path}`, kind, options.user));
    }
  }
  return given;
}

/** A COPY/ADD after the user exists and before `before` brought the path into an application directory of the user's. */
function copiedToUser({ model, options, plan }: TransformContext, path: string, before: number): boolean {
  return plan.stage.instructions.slice(plan.userReadyIndex, before).some((i, k) => {
    const index = plan.userReadyIndex + k;
    const flag = chownFlag(i);
    if ((i.getKeyword() !== 'COPY' && i.getKeyword() !== 'ADD') || (flag && !plan.peak.isPeakOwner(flag.getValue() ?? ''))) return false;
    const dest = copyTarget(model, plan.stage, index)?.path;
    return dest != null && classifyPath(dest, options.home) === 'app' && ancestors(path).includes(dest);
  });
}
