import type { Instruction } from 'dockerfile-ast';
import { endOffset, isRootUser, lineOf, lineStartOffset, type Stage } from '../src/model/dockerfile.js';
import { envPairs, firstUserStep, guardedInChain, type PeakLines } from '../src/model/peak.js';
import type { Word } from '../src/model/shell.js';
import { can } from '../src/facts/image.js';
import { blockInstructions, uidGuard } from '../src/rewrite/recipe.js';
import { because, instruction, type NewInstruction } from '../src/rewrite/render.js';
import { asRoot, finding, type Transform, type TransformContext } from '../src/rewrite/transform.js';
import type { Finding, FixOptions } from '../src/types.js';
import type { TextEdit } from '../src/edits.js';

export const userBlock: Transform = {
  id: 'user-block',
  summary: 'Declares the UID build argument, creates the user with its home and moves into it, right after FROM.',
  apply(ctx: TransformContext) {
    const { model, plan, render } = ctx;
    const leading = leadingLines(ctx);
    const part = plan.existingCreate >= 0 ? handMigrated(ctx) : plan.userFromParent ? userFromParent(ctx) : newBlock(ctx, leading);
    const items = [...handBackStartUser(ctx), ...part.items];
    if (items.length === 0) return { edits: part.edits, findings: part.findings };
    return { edits: [render.insertAfter(endOffset(model, leading.anchor), items), ...part.edits], findings: part.findings };
  },
};

/** What one case of the block adds: lines right after the stage's leading ARG and ENV lines, other edits, findings. */
interface BlockPart {
  items: NewInstruction[];
  edits: TextEdit[];
  findings: Finding[];
}

/**
 * A parent rewritten by this run now ends as the Peak user: hand this stage back the user it used to start with,
 * unless the stage sets its own user first (the UID's ARG and ENV lines do not count). Likewise a base image that was
 * migrated itself (issue 13): the stage's own steps ran as root before.
 */
function handBackStartUser({ plan }: TransformContext): NewInstruction[] {
  const first = plan.stage.instructions.find((i) => !plan.peak.isUidArg(i) && !plan.peak.isUidEnv(i));
  if (!(plan.parentRewritten || plan.baseMigrated) || !first || first.getKeyword() === 'USER') return [];
  const user = isRootUser(plan.startUser) ? '0' : (plan.startUser as string);
  return [because(instruction('USER', user), `the base now ends as the UID: this stage's own steps run as ${user}, as before`)];
}

/** The UID's ARG and ENV lines already at the top of the stage: they are kept, and the block goes after them. */
interface LeadingLines {
  anchor: Instruction;
  arg: boolean;
  env: boolean;
}

function leadingLines({ plan }: TransformContext): LeadingLines {
  const leading: LeadingLines = { anchor: plan.stage.from, arg: false, env: false };
  for (const i of plan.stage.instructions) {
    if (plan.peak.isUidArg(i)) leading.arg = true;
    else if (plan.peak.isUidEnv(i)) leading.env = true;
    else break;
    leading.anchor = i;
  }
  return leading;
}

/** Migrated by hand: only what is missing, right before the existing user creation. */
function handMigrated({ model, options, plan, render }: TransformContext): BlockPart {
  const { stage, peak } = plan;
  const create = stage.instructions[plan.existingCreate];
  const argBefore = stage.instructions.slice(0, plan.existingCreate).some((i) => peak.isUidArg(i));
  const missing: NewInstruction[] = [];
  // The older guide makes the ENV optional, so only the ARG the creation line needs is added.
  if (!argBefore)
    missing.push(because(instruction('ARG', options.uidArg), `the creation line below reads the build argument ${options.uidArg}`));
  // Whatever created the user, an image that ends as the UID must not build without it.
  if (!guardedInChain(plan.stage, peak) && can.run(plan.base.facts))
    missing.push(because(instruction('RUN', uidGuard(options)), guardWhy(options)));
  const edits = missing.length > 0 ? [render.insertBefore(lineStartOffset(model, create), missing)] : [];
  return { items: [], edits, findings: fixedUidFindings(options, create, peak.userCreation(create)?.uid ?? null, peak) };
}

/** The hand migration creates the user with another UID than the build argument's, or none. */
function fixedUidFindings(options: FixOptions, create: Instruction, uid: Word | null, peak: PeakLines): Finding[] {
  if (peak.isUidWord(uid)) return [];
  return [
    finding(
      'fixed-uid',
      create,
      uid === null
        ? `${options.user} is created without -u: it gets whatever UID is free, not ${options.uidArg}`
        : `${options.user} is created with UID ${uid.raw}, not the build argument ${options.uidArg}`,
      `create it with -u "$${options.uidArg}"`,
      uid === null ? 'no-uid' : 'fixed-value',
    ),
  ];
}

/** The user comes from the parent stage; the final USER still needs the UID in scope, and a guard of its own. */
function userFromParent({ options, plan }: TransformContext): BlockPart {
  const items: NewInstruction[] = [];
  if (!plan.stage.instructions.some((i) => plan.peak.isUidArg(i) || plan.peak.isUidEnv(i)))
    items.push(because(instruction('ARG', options.uidArg), `USER $${options.uidArg} at the end needs the build argument in this stage`));
  if (!guardedInChain(plan.stage, plan.peak) && can.run(plan.base.facts))
    items.push(because(instruction('RUN', uidGuard(options)), guardWhy(options)));
  return { items, edits: [], findings: [] };
}

/**
 * The whole block: the UID's ARG and ENV, the RUN that creates the user, WORKDIR. At FROM (with the stage's leading
 * lines), or after the stage's own first USER root where the base does not start as root (plan.blockAfter).
 */
function newBlock(ctx: TransformContext, leading: LeadingLines): BlockPart {
  const { model, plan, render } = ctx;
  const atFrom = plan.blockAfter < 0;
  const findings: Finding[] = [];
  const blockItems = uidLines(ctx, leading, atFrom);
  if (!can.run(plan.base.facts)) {
    findings.push(
      finding(
        'distroless-base',
        plan.stage.from,
        `${plan.base.reference} has no shell: no user is created; COPY/ADD get a numeric --chown and the image ends with USER $${ctx.options.uidArg}`,
      ),
    );
  } else {
    // After the stage's own USER root the original is root already; at FROM, the user the base starts with.
    const restore = atFrom && !plan.blockLeavesRoot && !nextStepIsUser(ctx) ? restoredUser(ctx) : null;
    blockItems.push(...asRoot(atFrom ? plan.startUser : null, blockInstructions(ctx.options, plan.base.facts, plan.baseMigrated), restore));
    findings.push(...unknownBaseFindings(ctx, atFrom));
    blockItems.push(...workdirLine(ctx, findings));
  }
  if (atFrom) return { items: blockItems, edits: [], findings };
  return { items: [], edits: [render.insertAfter(endOffset(model, plan.stage.instructions[plan.blockAfter]), blockItems)], findings };
}

/** The UID's ARG and ENV lines the block needs, where the stage does not have them already. */
function uidLines({ options, plan }: TransformContext, leading: LeadingLines, atFrom: boolean): NewInstruction[] {
  const { stage, peak } = plan;
  const items: NewInstruction[] = [];
  const argBefore = atFrom ? leading.arg : stage.instructions.slice(0, plan.blockAfter + 1).some((i) => peak.isUidArg(i));
  if (!argBefore)
    items.push(because(instruction('ARG', options.uidArg), `Peak passes the UID as the build argument ${options.uidArg} (guide, step 1)`));
  const envAnywhere = stage.instructions.some((i) => peak.isUidEnv(i));
  if (!(leading.env && atFrom) && !envAnywhere && plan.declareUidEnv)
    items.push(
      because(instruction('ENV', `${options.uidArg}=$${options.uidArg}`), `keeps the UID in the image's environment (guide, step 1)`),
    );
  return items;
}

/** The base's user creation tool is not known: the block uses whichever works, and says so. */
function unknownBaseFindings({ plan }: TransformContext, atFrom: boolean): Finding[] {
  if (plan.base.facts.userCreation !== 'unknown') return [];
  const known = plan.base.image.known;
  const where = known
    ? 'its user is known from the catalog'
    : atFrom
      ? 'it is taken to start as root'
      : `the block goes after the stage's own USER on line ${lineOf(plan.stage.instructions[plan.blockAfter])}, where the original becomes root`;
  const what = known
    ? `base image ${plan.base.reference} is in the catalog, but not which tool creates users in it`
    : `base image ${plan.base.reference} is not in the catalog`;
  return [
    finding(
      'unknown-base',
      plan.stage.from,
      `${what}: the user is created with useradd, busybox adduser or the passwd file, whichever works there, and ${where}`,
      atFrom && !known
        ? 'if its default user is not root, add USER 0 before the inserted RUN and restore the user after it, or describe the image in the config "images" (or run with --inspect-images)'
        : 'describe the image in the config "images" (or run with --inspect-images) so its facts are known',
    ),
  ];
}

/**
 * The stage's first instruction that a user matters to (RUN, WORKDIR, COPY, ADD, USER) is its own USER: restoring
 * the base's user before it would change nothing (`USER 101` right before the original `USER 101`).
 */
function nextStepIsUser({ plan }: TransformContext): boolean {
  return firstUserStep(plan.stage, plan.peak)?.getKeyword() === 'USER';
}

/**
 * The user in force at the start of the stage, written so that it means the same user here: a variable that is
 * only an ARG of a parent stage (or of the global scope) is not in scope in this stage, so its value is used.
 */
function restoredUser(ctx: TransformContext): string | null {
  const value = ctx.plan.startUser;
  if (value === null || !value.includes('$')) return value;
  const defaults = new Map<string, string>();
  const envs = new Set<string>();
  const chain: Stage[] = [];
  for (let s = ctx.plan.stage.parent; s; s = s.parent) chain.unshift(s);
  for (const arg of ctx.model.ast.getInitialARGs()) {
    const p = arg.getProperty();
    if (p?.getValue()) defaults.set(p.getName(), p.getValue() as string);
  }
  for (const s of chain) {
    for (const i of s.instructions) {
      if (i.getKeyword() === 'ENV') envPairs(i).forEach(([name]) => envs.add(name));
      if (i.getKeyword() === 'ARG') {
        const p = (i as unknown as { getProperty(): { getName(): string; getValue(): string | null } | null }).getProperty();
        if (p?.getValue()) defaults.set(p.getName(), p.getValue() as string);
      }
    }
  }
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) =>
    envs.has(name) ? whole : (defaults.get(name) ?? whole),
  );
}

function guardWhy(options: FixOptions): string {
  return `an empty ${options.uidArg} fails the build here, instead of giving an image that runs as root`;
}

function workdirLine(ctx: TransformContext, findings: Finding[]): NewInstruction[] {
  const { options, plan } = ctx;
  if (plan.homeWorkdir) {
    const why =
      options.workdir === 'always' || options.preset === 'peak-doc'
        ? `moves into the user's home (guide, step 1; --workdir=always or the peak-doc preset)`
        : `moves into the user's home (guide, step 1): nothing after it relies on the directory the stage inherits`;
    return [because(instruction('WORKDIR', options.home), why)];
  }
  const relying = plan.workdirReliance;
  // The stage sets its own WORKDIR before anything uses the directory, or the options ask for none.
  if (!relying) return [];
  const why =
    relying === 'runtime'
      ? 'the stage sets no WORKDIR of its own, so the container starts in the directory it inherits'
      : `${relying.getKeyword()} on line ${relying.getRange().start.line + 1} runs in the working directory the stage inherits`;
  findings.push(
    finding(
      'workdir-kept',
      relying === 'runtime' ? plan.stage.from : relying,
      `WORKDIR ${options.home} was not inserted: ${why}, and moving it would change what the image does`,
      'set WORKDIR explicitly, or pass --workdir=always to insert it anyway',
    ),
  );
  return [];
}
