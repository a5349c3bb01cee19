import type { Instruction } from 'dockerfile-ast';
import { endOffset, isRootUser, lineStartOffset } from '../src/model/dockerfile.js';
import { can } from '../src/images.js';
import { blockInstructions } from '../src/recipe.js';
import { instruction, type NewInstruction } from '../src/render.js';
import { finding, type Transform, type TransformContext } from '../src/transform.js';
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
    if (plan.parentRewritten && first && first.getKeyword() !== 'USER') {
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
      if (missing.length > 0) edits.push({ offset: lineStartOffset(model, create), remove: 0, insert: render.beforeLine(missing) });
    } else if (plan.userFromParent) {
      // The user comes from the parent stage; the final USER still needs the UID in scope.
      if (!stage.instructions.some((i) => peak.isUidArg(i) || peak.isUidEnv(i))) items.push(instruction('ARG', options.uidArg));
    } else {
      if (!leadingArg) items.push(instruction('ARG', options.uidArg));
      if (!leadingEnv && !envAnywhere) items.push(instruction('ENV', `${options.uidArg}=$${options.uidArg}`));
      if (!can.run(plan.base.facts)) {
        findings.push(
          finding(
            'distroless-base',
            stage.from,
            `${plan.base.reference} has no shell: no user is created; COPY/ADD get a numeric --chown and the image ends with USER $${options.uidArg}`,
          ),
        );
      } else {
        const needsRoot = !isRootUser(plan.startUser);
        if (needsRoot) items.push(instruction('USER', '0'));
        items.push(...blockInstructions(options, plan.base.facts));
        if (needsRoot) items.push(instruction('USER', plan.startUser as string));
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

function workdirLine(ctx: TransformContext, findings: Finding[]): NewInstruction[] {
  const { options, plan } = ctx;
  const home = instruction('WORKDIR', options.home);
  if (options.preset === 'peak-doc' || options.workdir === 'always') return [home];
  if (options.workdir === 'never') return [];
  const relying = inheritedWorkdirUser(plan.stage.instructions);
  if (!relying) return [home];
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
