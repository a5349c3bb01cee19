import type { TextEdit } from '../src/edits.js';
import { chownFlag } from '../src/model/dockerfile.js';
import { chownFlagValue } from '../src/recipe.js';
import { finding, type Transform } from '../src/transform.js';
import type { Finding } from '../src/types.js';

export const copyChown: Transform = {
  id: 'copy-chown',
  summary: 'Adds --chown to every COPY and ADD that runs once the user exists, so the user owns what is copied.',
  apply({ model, options, plan }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const value = chownFlagValue(options, plan.base.image.family);
    plan.stage.instructions.forEach((i, index) => {
      const keyword = i.getKeyword();
      if (keyword !== 'COPY' && keyword !== 'ADD') return;
      const existing = chownFlag(i);
      if (existing) {
        if (!plan.peak.isPeakOwner(existing.getValue() ?? '')) {
          findings.push(
            finding('chown-other-user', i,
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
