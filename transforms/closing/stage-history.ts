import { userBefore } from '../../src/model/base.js';
import { MENTIONS } from '../../src/model/run.js';
import type { TransformContext } from '../../src/rewrite/transform.js';

/**
 * What the stage did before the closing, as the pieces of the closing ask it: who ran a step, what was given to the
 * user later, what a later step may remove.
 */

/** The path itself and every directory above it, `/` excluded. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') out.push(p);
  return out;
}

/** The Peak user is in force before `stage.instructions[index]`: what runs there is the user's own. */
export function ranAsPeak(ctx: TransformContext, index: number): boolean {
  return ctx.plan.peak.isPeakUserValue(userBefore(ctx.model, ctx.plan.stage, index));
}

/** Whether a path, or a directory above it, is given to the user at or after an index (by any RUN of the stage). */
export function givenLater({ plan }: TransformContext): (path: string, from: number) => boolean {
  const lastOwned = new Map<string, number>();
  plan.stage.instructions.forEach((i, index) => plan.peak.ownedPaths(i).forEach((path) => lastOwned.set(path, index)));
  return (path, from) => ancestors(path).some((a) => (lastOwned.get(a) ?? -1) >= from);
}

/**
 * Whether a RUN after an index (and before the closing) may remove a path without naming it: `rm -rf "$DIR"`, or a
 * glob over a directory above it (`rm -rf /app/tmp/*` may take /app/tmp/cache; `/var/lib/apt/lists/*` not /app).
 */
export function unknownRemovalAfter({ plan }: TransformContext): (index: number, path: string) => boolean {
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
