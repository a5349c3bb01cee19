import type { Instruction } from 'dockerfile-ast';
import { endOffset, isRootUser, lineStartOffset, type Stage } from '../src/model/dockerfile.js';
import { envPairs, guardedInChain } from '../src/model/peak.js';
import { can } from '../src/images.js';
import { blockInstructions, uidGuard } from '../src/recipe.js';
import { instruction, type NewInstruction } from '../src/render.js';
import { asRoot, finding, type Transform, type TransformContext } from '../src/transform.js';
import type { Finding } from '../src/types.js';
import type { TextEdit } from '../src/edits.js';

/** Instructions whose meaning depends on the working directory they inherit. */
function reliesOnWorkdir(i: Instruction): boolean {
  switch (i.getKeyword()) {
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
    case 'HEALTHCHECK':
      return true;
    case 'COPY':
    case 'ADD': {
      // The last argument, in plain or JSON form (`COPY ["a b", "/dst/"]`).
      const args = i.getArguments();
      const destination = (args[args.length - 1]?.getValue() ?? '').replace(/^\[?\s*"?/, '');
      return !destination.startsWith('/');
    }
    default:
      return false;
  }
}

/**
 * What uses the inherited working directory before the stage sets its own: an instruction, or `'runtime'` when
 * the stage never sets one, so the container's command (its own or the base image's) starts there.
 */
function inheritedWorkdirUser(instructions: Instruction[]): Instruction | 'runtime' | undefined {
  for (const i of instructions) {
    // A relative WORKDIR is resolved against the inherited directory.
    if (i.getKeyword() === 'WORKDIR') return /^["']?\//.test(i.getArguments()[0]?.getValue() ?? '') ? undefined : i;
    if (reliesOnWorkdir(i)) return i;
  }
  return 'runtime';
}

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
      items.push(instruction('USER', isRootUser(plan.startUser) ? '0' : (plan.startUser as string)));
    }

    // ARG and ENV lines already at the top of the stage are kept; the block goes after them.
    let anchor = stage.from as Instruction;
    let leadingArg = false;
    let leadingEnv = false;
    for (const i of stage.instructions) {
      if (peak.isUidArg(i)) leadingArg = true;
      else if (peak.isUidEnv(i)) leadingEnv = true;
      else break;
      anchor = i;
    }
    const envAnywhere = stage.instructions.some((i) => peak.isUidEnv(i));

    if (plan.existingCreate >= 0) {
      // Migrated by hand: only what is missing, right before the existing user creation.
      const create = stage.instructions[plan.existingCreate];
      const argBefore = stage.instructions.slice(0, plan.existingCreate).some((i) => peak.isUidArg(i));
      const missing: NewInstruction[] = [];
      // The older guide makes the ENV optional, so only the ARG the creation line needs is added.
      if (!argBefore) missing.push(instruction('ARG', options.uidArg));
      // Whatever created the user, an image that ends as the UID must not build without it.
      if (!guardedInChain(plan.stage, peak) && can.run(plan.base.facts)) missing.push(instruction('RUN', uidGuard(options)));
      if (missing.length > 0) edits.push({ offset: lineStartOffset(model, create), remove: 0, insert: render.beforeLine(missing) });
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
      if (!stage.instructions.some((i) => peak.isUidArg(i) || peak.isUidEnv(i))) items.push(instruction('ARG', options.uidArg));
      if (!guardedInChain(plan.stage, peak) && can.run(plan.base.facts)) items.push(instruction('RUN', uidGuard(options)));
    } else {
      if (!leadingArg) items.push(instruction('ARG', options.uidArg));
      if (!leadingEnv && !envAnywhere && plan.declareUidEnv) items.push(instruction('ENV', `${options.uidArg}=$${options.uidArg}`));
      if (!can.run(plan.base.facts)) {
        findings.push(
          finding(
            'distroless-base',
            stage.from,
            `${plan.base.reference} has no shell: no user is created; COPY/ADD get a numeric --chown and the image ends with USER $${options.uidArg}`,
          ),
        );
      } else {
        items.push(...asRoot(plan.startUser, blockInstructions(options, plan.base.facts, plan.baseMigrated), restoredUser(ctx)));
        if (!plan.base.image.known) {
          findings.push(
            finding(
              'unknown-base',
              stage.from,
              `base image ${plan.base.reference} is not in the catalog: the user is created with a line that works with useradd, busybox adduser or neither (the passwd file)`,
              'if its default user is not root, add USER 0 before the inserted RUN and restore the user after it',
            ),
          );
        }
        items.push(...workdirLine(ctx, findings));
      }
    }

    if (items.length > 0) {
      edits.unshift({ offset: endOffset(model, anchor), remove: 0, insert: render.afterLine(items) });
    }
    return { edits, findings };
  },
};

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

function workdirLine(ctx: TransformContext, findings: Finding[]): NewInstruction[] {
  const { options, plan } = ctx;
  const home = instruction('WORKDIR', options.home);
  if (options.preset === 'peak-doc' || options.workdir === 'always') return [home];
  if (options.workdir === 'never') return [];
  const relying = inheritedWorkdirUser(plan.stage.instructions);
  // The stage sets its own WORKDIR before anything uses the directory: WORKDIR <home> would change nothing.
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
