import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from './edits.js';
import { lineOf, type DockerfileModel } from './model/dockerfile.js';
import type { StagePlan } from './model/peak.js';
import type { Renderer } from './render.js';
import { findRule } from './rules.js';
import type { EngineInputs, Finding, FixOptions } from './types.js';

export interface TransformContext {
  model: DockerfileModel;
  options: FixOptions;
  plan: StagePlan;
  render: Renderer;
  /** What the CLI/runner gathered: image facts, build-context files. */
  inputs: EngineInputs;
}

export interface TransformResult {
  edits: TextEdit[];
  findings: Finding[];
}

/** One rule of the migration, eslint-style: metadata plus a fixer that returns edits against the original text. */
export interface Transform {
  id: string;
  summary: string;
  apply(ctx: TransformContext): TransformResult;
}

/** A finding of a catalogued rule (src/rules.ts), which fixes its severity. */
export function finding(rule: string, at: Instruction, message: string, hint?: string): Finding {
  const doc = findRule(rule);
  if (!doc) throw new Error(`rule ${rule} is not in the catalog (src/rules.ts)`);
  const base = { rule, severity: doc.severity, line: lineOf(at), message };
  return hint ? { ...base, hint } : base;
}
