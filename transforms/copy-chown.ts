import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { chownFlagValue } from '../src/recipe.js';
import { finding, type Transform } from '../src/transform.js';
import type { Finding } from '../src/types.js';

function chownFlag(i: Instruction) {
  const flags = (i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags();
  return flags.find((f) => f.getName().toLowerCase() === 'chown');
}

export const copyChown: Transform = {
  id: 'copy-chown',
  summary: 'Adds --chown to every COPY and ADD that runs once the user exists, so the user owns what is copied.',
  apply({ model, options, plan }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const value = chownFlagValue(options, plan.base.image.family);
    const ours = new Set([options.user, `$${options.uidArg}`, `\${${options.uidArg}}`]);
    plan.stage.instructions.forEach((i, index) => {
      const keyword = i.getKeyword();
      if (keyword !== 'COPY' && keyword !== 'ADD') return;
      const existing = chownFlag(i);
      if (existing) {
        const owner = (existing.getValue() ?? '').split(':')[0];
        if (!ours.has(owner)) {
          findings.push(
            finding(
              'chown-other-user',
              'warning',
              i,
              `${keyword} --chown=${existing.getValue() ?? ''} gives the files to another user than ${options.user}; it was left as it is`,
              `use --chown=${value} if the application must write to these files`,
            ),
          );
        }
        return;
      }
      // Before the user exists (a hand migration that creates it later) --chown=<name> would fail the build.
      if (index < plan.userReadyIndex) return;
      edits.push({ offset: model.lines.offsetAt(i.getInstructionRange().end), remove: 0, insert: ` --chown=${value}` });
    });
    return { edits, findings };
  },
};
