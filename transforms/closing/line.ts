import type { RuntimePath } from '../../src/facts/types.js';
import { userBefore } from '../../src/model/base.js';
import { volumePaths } from '../../src/model/dirs.js';
import { isRootUser } from '../../src/model/dockerfile.js';
import { normalisePath } from '../../src/model/peak.js';
import { stageScope } from '../../src/model/scope.js';
import { ownInstruction, runtimePathsPrefix } from '../../src/rewrite/recipe.js';
import { because, instruction, type NewInstruction } from '../../src/rewrite/render.js';
import { asRoot, type TransformContext } from '../../src/rewrite/transform.js';
import { applicationDirs, type Gift } from './application-dirs.js';
import { homeNeedsFix } from './home.js';
import type { OriginalDir } from './original-user-dirs.js';
import { serverPaths } from './server-paths.js';
import { ancestors } from './stage-history.js';

/** What the closing line gives: each source's paths, less those another path on the line covers already. */
export interface ClosingLine {
  /** The home, where a later step may have left something there that is not the user's. */
  home: string[];
  /** What the original gave its runtime user whole (a HOME the image sets). */
  whole: string[];
  /** A server's run-time paths. */
  runtime: RuntimePath[];
  /** The directories given without their files: the application's, and those the original gave its runtime user. */
  dirs: Gift[];
  originalDirs: OriginalDir[];
  /** The paths given with their contents, then the directories listed without their files. */
  give: string[];
  dirsOnly: string[];
  mayBeMissing: boolean;
}

export function closingLine(ctx: TransformContext, originalDirs: OriginalDir[]): ClosingLine {
  const { options } = ctx;
  // A chown after VOLUME is discarded, and find already descends into sub-directories of listed ones.
  const covering = new Set([options.home, ...stageVolumes(ctx)].map(normalisePath));
  const whole = originalDirs.filter((d) => d.whole && !ancestors(d.path).some((a) => covering.has(a))).map((d) => d.path);
  const wholeSet = new Set(whole);
  const dirs = [
    ...applicationDirs(ctx),
    ...originalDirs.filter((d) => !d.whole).map((d) => ({ path: d.path, mayBeMissing: d.mayBeMissing })),
  ];
  // A server's run-time paths go whole (an empty pid file included), whoever the original gave them to.
  const runtime = serverPaths(ctx).filter((p) => !wholeSet.has(p.path));
  const dirsOnly = topmostDirs(dirs, new Set([...covering, ...whole, ...runtime.map((p) => p.path)]));
  const home = homeNeedsFix(ctx) ? [options.home] : [];
  const mayBeMissing =
    dirs.some((d) => d.mayBeMissing && dirsOnly.includes(d.path)) || originalDirs.some((d) => d.mayBeMissing && wholeSet.has(d.path));
  return { home, whole, runtime, dirs, originalDirs, give: [...home, ...whole, ...runtime.map((p) => p.path)], dirsOnly, mayBeMissing };
}

/** The VOLUME paths of the stage, with Docker's ENV and ARG values. */
function stageVolumes({ model, plan }: TransformContext): string[] {
  const scope = stageScope(model, plan.stage);
  return plan.stage.instructions.flatMap((i, index) =>
    i.getKeyword() === 'VOLUME' ? volumePaths(model, i, () => scope.valuesAt(index)) : [],
  );
}

/** The directories to list once each, less those under a path given whole or under another listed directory. */
function topmostDirs(dirs: Gift[], givenWhole: Set<string>): string[] {
  const listed = new Set(dirs.map((d) => d.path));
  return [...listed].filter((path) => !ancestors(path).some((a) => givenWhole.has(a) || (a !== path && listed.has(a))));
}

/** The closing `RUN` (as root where another user is in force), and the stage's own final USER where it must come back. */
export function closingInstructions(ctx: TransformContext, line: ClosingLine): NewInstruction[] {
  const { model, options, plan } = ctx;
  const { stage } = plan;
  const own = ownInstruction(options, line.give, line.dirsOnly, { mayBeMissing: line.mayBeMissing, facts: plan.base.facts });
  // What the stage made or gave away itself exists already: only the rest is made.
  const existing = new Set([...line.originalDirs.map((d) => d.path), ...line.dirs.map((d) => d.path)]);
  const withRuntime = because(
    { ...own, lines: [runtimePathsPrefix(line.runtime, existing) + own.lines[0], ...own.lines.slice(1)] },
    `gives ${options.user} what its program writes, copying no file data: ${reasons(ctx, line).join('; ')}`,
  );
  const inForce = userBefore(model, stage, plan.closingAt);
  const items: NewInstruction[] = asRoot(inForce, [withRuntime], null);
  // Odd order (the user created after its own final USER): the closing goes at the end, and that USER comes back.
  if (plan.endsAsPeak && plan.closingAt === stage.instructions.length && !isRootUser(inForce)) {
    items.push(because(instruction('USER', inForce as string), `back to ${inForce}, the stage's own final user`));
  }
  return items;
}

/** Why each path is on the line, source by source. */
function reasons({ options, plan }: TransformContext, line: ClosingLine): string[] {
  const image = plan.base.reference.split(/[:@]/)[0];
  return [
    ...line.home.map((h) => `${h}: a step after the user block may leave files there that are not ${options.user}'s`),
    ...line.whole.map((p) => `${p}: the original gave it to its own runtime user, so the program writes there`),
    ...line.originalDirs
      .filter((d) => !d.whole && line.dirsOnly.includes(d.path))
      .map((d) => `${d.path}: the original gave the directory to its own runtime user, so the program writes there`),
    ...line.runtime.map((p) => `${p.path}: ${image}'s program writes it at run time (${p.source})`),
    ...(line.dirsOnly.length > 0
      ? [`${line.dirsOnly.join(' ')}: made while root ran the program, which could write there (directories only, not the files)`]
      : []),
  ];
}
