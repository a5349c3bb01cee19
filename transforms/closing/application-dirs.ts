import { userBefore } from '../../src/model/base.js';
import { writableDirs } from '../../src/model/dirs.js';
import { isRootUser, userValue } from '../../src/model/dockerfile.js';
import { refusedFinding } from '../../src/rewrite/policy.js';
import type { TransformContext } from '../../src/rewrite/transform.js';
import type { Finding } from '../../src/types.js';
import { givenLater, ranAsPeak, unknownRemovalAfter } from './stage-history.js';

/** A directory for the closing line: `mayBeMissing`, a later step removes something nobody can name. */
export interface Gift {
  path: string;
  mayBeMissing: boolean;
}

/**
 * WORKDIR and mkdir directories of the application, made while root was in force and not given to the user since:
 * the program ran as root and could write there. Where the original's program ran as another user (a final USER of
 * the Peak user, which the closing goes before, aside), the directories root made were never its to write, and
 * still are not: none.
 */
export function applicationDirs(ctx: TransformContext): Gift[] {
  const runtimeUser = originalRuntimeUser(ctx);
  if (!isRootUser(runtimeUser) && !ctx.plan.peak.isPeakUserValue(runtimeUser)) return [];
  const { model, options, plan } = ctx;
  const given = givenLater(ctx);
  const removedUnseen = unknownRemovalAfter(ctx);
  const own = writableDirs(model, plan.stage, plan.peak, options.home)
    .dirs.filter((d) => d.madeAt < plan.closingAt && !ranAsPeak(ctx, d.madeAt) && !given(d.path, d.madeAt))
    .map((d) => ({ path: d.path, mayBeMissing: removedUnseen(d.madeAt, d.path) }));
  // `FROM base AS development`: the WORKDIR and the copies of the stages it is built from are the application's
  // as much (the original's program ran as root there too), unless a migrated parent gave them already.
  if (plan.userFromParent) return own;
  const inherited: Gift[] = [];
  for (let parent = plan.stage.parent; parent; parent = parent.parent) {
    for (const d of writableDirs(model, parent, plan.peak, options.home).dirs) {
      if (!given(d.path, 0)) inherited.push({ path: d.path, mayBeMissing: removedUnseen(-1, d.path) });
    }
  }
  return [...inherited, ...own];
}

/**
 * The user the original's program runs as: the user in force where the closing goes, looking past the recipe's own
 * lines before it (its `USER 0` and ownership `RUN` of an earlier run), so a second run sees what the first saw.
 */
export function originalRuntimeUser({ model, plan }: TransformContext): string | null {
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

/** WORKDIR and mkdir directories the policy refuses, reported where they are made (a mkdir of /etc/… quietly). */
export function refusedDirFindings({ model, options, plan }: TransformContext): Finding[] {
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
