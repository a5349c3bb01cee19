import { applyEdits, type LineIndex, type TextEdit } from './edits.js';
import { parseDockerfile, stageBase, type Stage } from './model/dockerfile.js';
import { planStage } from './model/peak.js';
import { validateOptions } from './options.js';
import { Renderer } from './render.js';
import { finding } from './transform.js';
import { transforms } from '../transforms/index.js';
import type { EngineInputs, Finding, FixOptions, FixResult } from './types.js';

/** A `# peak-fix-disable` comment among the first lines leaves the whole file as it is. */
const DISABLE = /^\uFEFF?(?:[ \t]*(?:#.*)?(?:\r\n|\r|\n))*?[ \t]*#[ \t]*peak-fix-disable\b/;

/**
 * Migrates one Dockerfile's text. Pure: no disk, no clock. Throws PeakFixError for input that cannot be
 * migrated (no FROM, a base image that cannot be known, an unterminated heredoc or line continuation).
 */
export function fixDockerfile(text: string, partialOptions: Partial<FixOptions> = {}, inputs: EngineInputs = {}): FixResult {
  const options = validateOptions(partialOptions);
  if (DISABLE.test(text)) return unchanged(text, [], 'disabled by a # peak-fix-disable comment');
  const model = parseDockerfile(text);
  const final = model.stages[model.stages.length - 1];
  const findings: Finding[] = [];

  const finalBase = stageBase(model, final);
  if (finalBase.image.family === 'windows') {
    const reason = `Windows base image ${finalBase.reference}: Linux user management does not apply`;
    return unchanged(text, [finding('windows-base', final.from, `skipped: ${reason}`)], reason);
  }

  const targets = new Set<Stage>(options.allStages ? model.stages.filter((s) => stageBase(model, s).image.family !== 'windows') : [final]);
  const render = new Renderer(model);
  const edits: TextEdit[] = [];
  for (const stage of model.stages) {
    if (!targets.has(stage)) continue;
    const plan = planStage(model, stage, options, targets);
    for (const transform of transforms) {
      const result = transform.apply({ model, options, plan, render, inputs });
      edits.push(...result.edits);
      findings.push(...result.findings);
    }
  }
  const output = applyEdits(text, edits);
  const kept = findings.filter((f) => !ignoredByComment(model.lines, f)).sort((a, b) => a.line - b.line);
  return { output, changed: output !== text, edits, findings: kept };
}

const IGNORE = /^\s*#\s*peak-fix-ignore\b(.*)$/;

/**
 * eslint-style `# peak-fix-ignore [RULE...]` in the comment lines right above an instruction silences its
 * findings (all of them when no rule is named).
 */
function ignoredByComment(lines: LineIndex, f: Finding): boolean {
  for (let line = f.line - 2; line >= 0; line--) {
    const content = lines.text.slice(lines.starts[line], lines.lineContentEnd(line)).replace(/^\uFEFF/, '');
    if (!/^\s*#/.test(content)) return false;
    const match = IGNORE.exec(content);
    if (match) {
      const rules = match[1].split(/[\s,]+/).filter(Boolean);
      if (rules.length === 0 || rules.includes(f.rule)) return true;
    }
  }
  return false;
}

function unchanged(text: string, findings: Finding[], skipped: string): FixResult {
  return { output: text, changed: false, edits: [], findings, skipped };
}
