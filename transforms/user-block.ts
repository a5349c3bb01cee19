import type { Instruction } from 'dockerfile-ast';
import { endOffset, isRootUser, lineOf, lineStartOffset, type Stage } from '../src/model/dockerfile.js';
import { envPairs, guardedInChain } from '../src/model/peak.js';
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
    const { model, options, plan, render } = ctx;
    const { stage, peak } = plan;
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const items: NewInstruction[] = [];

    // A parent rewritten by this run now ends as the Peak user: hand this stage back the user it used to start with,
    // unless the stage sets its own user first (the UID's ARG and ENV lines do not count).
    const first = stage.instructions.find((i) => !peak.isUidArg(i) && !peak.isUidEnv(i));
    // Likewise a base image that was migrated itself (issue 13): the stage's own steps ran as root before.
    if ((plan.parentRewritten || plan.baseMigrated) && first && first.getKeyword() !== 'USER') {
      const user = isRootUser(plan.startUser) ? '0' : (plan.startUser as string);
      items.push(because(instruction('USER', user), `the base now ends as the UID: this stage's own steps run as ${user}, as before`));
    }

    // ARG and ENV lines already at the top of the stage are kept; the block goes after them, or after the stage's
    // own first USER root where the base does not start as root (plan.blockAfter).
    let anchor = stage.from as Instruction;
    let leadingArg = false;
    let leadingEnv = false;
    for (const i of stage.instructions) {
      if (peak.isUidArg(i)) leadingArg = true;
      else if (peak.isUidEnv(i)) leadingEnv = true;
      else break;
      anchor = i;
    }
    const blockItems: NewInstruction[] = [];
    const envAnywhere = stage.instructions.some((i) => peak.isUidEnv(i));

    if (plan.existingCreate >= 0) {
      // Migrated by hand: only what is missing, right before the existing user creation.
      const create = stage.instructions[plan.existingCreate];
      const argBefore = stage.instructions.slice(0, plan.existingCreate).some((i) => peak.isUidArg(i));
      const missing: NewInstruction[] = [];
      // The older guide makes the ENV optional, so only the ARG the creation line needs is added.
      if (!argBefore)
        missing.push(because(instruction('ARG', options.uidArg), `the creation line below reads the build argument ${options.uidArg}`));
      // Whatever created the user, an image that ends as the UID must not build without it.
      if (!guardedInChain(plan.stage, peak) && can.run(plan.base.facts))
        missing.push(because(instruction('RUN', uidGuard(options)), guardWhy(options)));
      if (missing.length > 0) edits.push(render.insertBefore(lineStartOffset(model, create), missing));
      const uid = peak.userCreation(create)?.uid ?? null;
      if (!peak.isUidWord(uid)) {
        findings.push(
          finding(
            'fixed-uid',
            create,
            uid === null
              ? `${options.user} is created without -u: it gets whatever UID is free, not ${options.uidArg}`
              : `${options.user} is created with UID ${uid.raw}, not the build argument ${options.uidArg}`,
            `create it with -u "$${options.uidArg}"`,
            uid === null ? 'no-uid' : 'fixed-value',
          ),
        );
      }
    } else if (plan.userFromParent) {
      // The user comes from the parent stage; the final USER still needs the UID in scope, and a guard of its own.
      if (!stage.instructions.some((i) => peak.isUidArg(i) || peak.isUidEnv(i)))
        items.push(
          because(instruction('ARG', options.uidArg), `USER $${options.uidArg} at the end needs the build argument in this stage`),
        );
      if (!guardedInChain(plan.stage, peak) && can.run(plan.base.facts))
        items.push(because(instruction('RUN', uidGuard(options)), guardWhy(options)));
    } else {
      const atFrom = plan.blockAfter < 0;
      const before = stage.instructions.slice(0, plan.blockAfter + 1);
      if (!(atFrom ? leadingArg : before.some((i) => peak.isUidArg(i))))
        blockItems.push(
          because(instruction('ARG', options.uidArg), `Peak passes the UID as the build argument ${options.uidArg} (guide, step 1)`),
        );
      if (!(leadingEnv && atFrom) && !envAnywhere && plan.declareUidEnv)
        blockItems.push(
          because(instruction('ENV', `${options.uidArg}=$${options.uidArg}`), `keeps the UID in the image's environment (guide, step 1)`),
        );
      if (!can.run(plan.base.facts)) {
        findings.push(
          finding(
            'distroless-base',
            stage.from,
            `${plan.base.reference} has no shell: no user is created; COPY/ADD get a numeric --chown and the image ends with USER $${options.uidArg}`,
          ),
        );
      } else {
        // After the stage's own USER root the original is root already; at FROM, the user the base starts with.
        const inForce = atFrom ? plan.startUser : null;
        blockItems.push(
          ...asRoot(
            inForce,
            blockInstructions(options, plan.base.facts, plan.baseMigrated),
            atFrom && !nextStepIsUser(ctx) ? restoredUser(ctx) : null,
          ),
        );
        if (plan.base.facts.userCreation === 'unknown') {
          const where = plan.base.image.known
            ? 'its user is known from the catalog'
            : atFrom
              ? 'it is taken to start as root'
              : `the block goes after the stage's own USER on line ${lineOf(stage.instructions[plan.blockAfter])}, where the original becomes root`;
          const what = plan.base.image.known
            ? `base image ${plan.base.reference} is in the catalog, but not which tool creates users in it`
            : `base image ${plan.base.reference} is not in the catalog`;
          findings.push(
            finding(
              'unknown-base',
              stage.from,
              `${what}: the user is created with useradd, busybox adduser or the passwd file, whichever works there, and ${where}`,
              atFrom && !plan.base.image.known
                ? 'if its default user is not root, add USER 0 before the inserted RUN and restore the user after it, or describe the image in the config "images" (or run with --inspect-images)'
                : 'describe the image in the config "images" (or run with --inspect-images) so its facts are known',
            ),
          );
        }
        blockItems.push(...workdirLine(ctx, findings));
      }
      if (!atFrom) {
        edits.push(render.insertAfter(endOffset(model, stage.instructions[plan.blockAfter]), blockItems));
      } else items.push(...blockItems);
    }

    if (items.length > 0) {
      edits.unshift(render.insertAfter(endOffset(model, anchor), items));
    }
    return { edits, findings };
  },
};

/**
 * The stage's first instruction that a user matters to (RUN, WORKDIR, COPY, ADD, USER) is its own USER: restoring
 * the base's user before it would change nothing (`USER 101` right before the original `USER 101`).
 */
function nextStepIsUser({ plan }: TransformContext): boolean {
  const next = plan.stage.instructions.find(
    (i) => !plan.peak.isPeakManaged(i) && ['RUN', 'WORKDIR', 'COPY', 'ADD', 'USER'].includes(i.getKeyword()),
  );
  return next?.getKeyword() === 'USER';
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
