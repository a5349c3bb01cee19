import type { Instruction } from 'dockerfile-ast';
import { copyTarget } from '../../src/model/copy.js';
import { chownFlag, instructionText } from '../../src/model/dockerfile.js';
import { normalisePath } from '../../src/model/peak.js';
import { normalise, stageScope } from '../../src/model/scope.js';
import type { TransformContext } from '../../src/rewrite/transform.js';
import { ranAsPeak } from './stage-history.js';

/**
 * Whether a step after the point where the user got its home may leave something there that is not the user's:
 * a RUN as root working in the home (the inserted `WORKDIR <home>`, or its own) or naming it, a COPY/ADD into it
 * that does not end up the user's (another `--chown`, an unpacked archive, a copy made before the user exists).
 * Both presets ask the same question (the guide's own preset always inserts WORKDIR <home>, so its RUN steps work in
 * the home and it usually closes with the guide's chown), so each recognises the other's output as complete.
 */
export function homeNeedsFix(ctx: TransformContext): boolean {
  const { plan } = ctx;
  const { stage, peak } = plan;
  const home = normalisePath(ctx.options.home);
  const cwd = workingDirectory(ctx, home);
  for (let k = homeGivenAt(ctx) + 1; k < plan.closingAt; k++) {
    const i = stage.instructions[k];
    if (ranAsPeak(ctx, k) || peak.isPeakManaged(i)) continue;
    const keyword = i.getKeyword();
    if ((keyword === 'COPY' || keyword === 'ADD') && copyLeavesOthersFiles(ctx, k, home, cwd(k))) return true;
    if (keyword === 'RUN' && runTouchesHome(ctx, i, home, cwd(k))) return true;
  }
  return false;
}

function isUnder(home: string, path: string | null): boolean {
  return path !== null && (path === home || path.startsWith(home + '/'));
}

/** Where the user got its home last: the user block gives it; so does a hand migration's creation and chown. */
function homeGivenAt({ plan }: TransformContext): number {
  let from = plan.existingCreate >= 0 ? plan.existingCreate : plan.userFromParent ? -1 : plan.blockAfter;
  plan.stage.instructions.slice(0, plan.closingAt).forEach((i, k) => {
    if (plan.peak.ownsHome(i)) from = Math.max(from, k);
  });
  return from;
}

/**
 * The working directory before an instruction, as far as the home goes. The WORKDIR <home> this run inserts is in
 * force after the block until the stage's own WORKDIR. A WORKDIR <home> already in the text (an earlier run's, here
 * or in a parent stage) is not taken for one: the second run must see what the first saw.
 */
function workingDirectory({ model, plan }: TransformContext, home: string): (k: number) => string | null {
  const scope = stageScope(model, plan.stage);
  const ownWorkdirAt = plan.stage.instructions.findIndex((i, k) => k > plan.blockAfter && i.getKeyword() === 'WORKDIR');
  return (k) => {
    if (plan.homeWorkdir && k > plan.blockAfter && (ownWorkdirAt < 0 || k < ownWorkdirAt)) return home;
    const dir = scope.workdirAt(k);
    return dir !== null && isUnder(home, dir) ? null : dir;
  };
}

/** A COPY/ADD into the home whose files do not end up the user's. */
function copyLeavesOthersFiles({ model, plan }: TransformContext, k: number, home: string, cwd: string | null): boolean {
  const i = plan.stage.instructions[k];
  const target = copyTarget(model, plan.stage, k);
  // `$HOME` takes its value from ENV lines, which a rewritten parent stage may add (ENV HOME=<home>): the same
  // text would land elsewhere on a second run, so such a destination is not read at all.
  if (target?.variables.includes('HOME')) return false;
  const relative = target?.expanded !== null && target?.expanded !== undefined && !target.expanded.startsWith('/');
  const where = relative ? (cwd !== null ? normalise(`${cwd}/${target?.expanded}`) : null) : (target?.path ?? null);
  if (!isUnder(home, where)) return false;
  const chown = chownFlag(i);
  const unpacked = i.getKeyword() === 'ADD' && (target?.sources ?? []).some((s) => /\.(tar|tgz|tbz2?|txz|tar\.\w+)$/i.test(s));
  return unpacked || (chown ? !plan.peak.isPeakOwner(chown.getValue() ?? '') : k < plan.userReadyIndex);
}

/** A RUN working in the home, or naming it. */
function runTouchesHome({ model, options }: TransformContext, i: Instruction, home: string, cwd: string | null): boolean {
  if (isUnder(home, cwd)) return true;
  const text = instructionText(model, i);
  // `$HOME` is not read: its value is root's, or one an ENV HOME this run adds to a parent stage would change.
  return text.includes(home) || text.includes(`~${options.user}`);
}
