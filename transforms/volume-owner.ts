import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { volumePaths, writableDirs, type WritableDir } from '../src/model/dirs.js';
import { classifyPath, isPlainAbsolute } from '../src/facts/paths.js';
import { refusedFinding } from '../src/rewrite/policy.js';
import { isRootUser, lineStartOffset } from '../src/model/dockerfile.js';
import { userBefore } from '../src/model/base.js';
import { normalisePath } from '../src/model/peak.js';
import { stageScope } from '../src/model/scope.js';
import { can } from '../src/facts/image.js';
import { ownInstruction } from '../src/rewrite/recipe.js';
import { because, type NewInstruction } from '../src/rewrite/render.js';
import { asRoot, finding, type Transform, type TransformContext } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';

export const volumeOwner: Transform = {
  id: 'volume-owner',
  summary: 'Gives the user each VOLUME directory before the VOLUME instruction (a chown after it is discarded).',
  apply(ctx) {
    const firstOwned = firstOwnedAt(ctx);
    // The stage's directories, computed once for all its VOLUME lines (20,000 of them must not walk it 20,000 times).
    const madeDirs = writableDirs(ctx.model, ctx.plan.stage, ctx.plan.peak, ctx.options.home).dirs;
    const results = ctx.plan.stage.instructions.flatMap((volume, index) =>
      volume.getKeyword() === 'VOLUME' ? [giveVolume(ctx, volume, index, firstOwned, madeDirs)] : [],
    );
    return { edits: results.flatMap((r) => r.edits), findings: results.flatMap((r) => r.findings) };
  },
};

/** Where each path is first given to the user, computed once: a VOLUME after that needs nothing. */
function firstOwnedAt({ plan }: TransformContext): Map<string, number> {
  const firstOwned = new Map<string, number>();
  plan.stage.instructions.forEach((i, index) => {
    if (i.getKeyword() !== 'RUN') return;
    for (const path of plan.peak.ownedPaths(i)) if (!firstOwned.has(path)) firstOwned.set(path, index);
  });
  return firstOwned;
}

/** The line that gives one VOLUME's directories to the user, or the findings that say why it cannot. */
function giveVolume(
  ctx: TransformContext,
  volume: Instruction,
  index: number,
  firstOwned: Map<string, number>,
  madeDirs: readonly WritableDir[],
): { edits: TextEdit[]; findings: Finding[] } {
  const { options, plan } = ctx;
  const { wanted, findings } = wantedPaths(ctx, volume, index, firstOwned);
  if (wanted.length === 0) return { edits: [], findings };
  if (!can.run(plan.base.facts)) {
    const message = `the base has no shell to chown ${wanted.join(' ')}; the volume stays owned by root`;
    return { edits: [], findings: [...findings, finding('volume-not-owned', volume, message, undefined, 'no-shell')] };
  }
  if (index < plan.userReadyIndex) {
    const message = `VOLUME ${wanted.join(' ')} comes before ${options.user} is created, so it cannot be given to the user`;
    return {
      edits: [],
      findings: [...findings, finding('volume-not-owned', volume, message, 'create the user before the VOLUME', 'before-user')],
    };
  }
  return { edits: [ownBeforeVolume(ctx, volume, index, wanted, madeDirs)], findings };
}

/** The VOLUME's paths the user should get and does not have yet, and findings for those it may not get. */
function wantedPaths(
  { model, options, plan }: TransformContext,
  volume: Instruction,
  index: number,
  firstOwned: Map<string, number>,
): { wanted: string[]; findings: Finding[] } {
  const wanted: string[] = [];
  const findings: Finding[] = [];
  for (const raw of volumePaths(model, volume, () => stageScope(model, plan.stage).valuesAt(index))) {
    const path = normalisePath(raw);
    if (!isPlainAbsolute(path)) {
      const message = `VOLUME ${raw} is not a literal absolute path, so it was not given to ${options.user}`;
      findings.push(finding('volume-not-owned', volume, message, undefined, 'not-literal'));
    } else if (classifyPath(path, options.home) !== 'app') {
      findings.push(refusedFinding(volume, `VOLUME ${path}`, classifyPath(path, options.home), options.user));
    } else if ((firstOwned.get(path) ?? Infinity) >= index) {
      wanted.push(path);
    }
  }
  return { wanted, findings };
}

/** The ownership RUN before the VOLUME (as root where another user is in force, then back to that user). */
function ownBeforeVolume(
  { model, options, plan, render }: TransformContext,
  volume: Instruction,
  index: number,
  wanted: string[],
  madeDirs: readonly WritableDir[],
): TextEdit {
  const inForce = userBefore(model, plan.stage, index);
  // A directory the stage made already (an original `RUN mkdir /data`, a WORKDIR) is not made again.
  const made = new Set(madeDirs.filter((d) => d.madeAt < index).map((d) => d.path));
  const own = because(
    ownInstruction(options, wanted, [], { create: wanted.filter((path) => !made.has(path)), facts: plan.base.facts }),
    `the program writes to the VOLUME ${wanted.join(' ')}: it goes to ${options.user} before the VOLUME line, since a change of owner after it is discarded`,
  );
  const items: NewInstruction[] = asRoot(inForce, [own], isRootUser(inForce) ? null : (inForce as string));
  return render.insertBefore(lineStartOffset(model, volume), items);
}
