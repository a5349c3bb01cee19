import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { chownFlag } from '../src/model/dockerfile.js';
import { chownFlagValue } from '../src/recipe.js';
import { finding, type Transform } from '../src/transform.js';
import type { Finding } from '../src/types.js';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$/i;

/** ADD extracts local tar archives (not URLs): --chown does not reach what it extracts. */
function addsLocalArchive(add: Instruction): boolean {
  const sources = add
    .getArguments()
    .slice(0, -1)
    .map((a) => a.getValue());
  return sources.some((source) => !/^[a-z]+:\/\//i.test(source) && ARCHIVE.test(source));
}

export const copyChown: Transform = {
  id: 'copy-chown',
  summary: 'Adds --chown to every COPY and ADD that runs once the user exists, so the user owns what is copied.',
  apply({ model, options, plan }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const value = chownFlagValue(options, plan.base.facts);
    plan.stage.instructions.forEach((i, index) => {
      const keyword = i.getKeyword();
      if (keyword !== 'COPY' && keyword !== 'ADD') return;
      const existing = chownFlag(i);
      const willOwn = existing !== undefined || index >= plan.userReadyIndex;
      if (keyword === 'ADD' && willOwn && addsLocalArchive(i)) {
        findings.push(
          finding(
            'add-archive-chown',
            i,
            'ADD unpacks this local archive and ignores --chown for the extracted files, which stay owned by root',
            `add RUN chown -R ${options.user}:${options.user} <destination> after it if the user must write there`,
          ),
        );
      }
      if (existing) {
        if (!plan.peak.isPeakOwner(existing.getValue() ?? '')) {
          findings.push(
            finding(
              'chown-other-user',
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
