import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from './edits.js';
import { lineOf, type DockerfileModel } from './model/dockerfile.js';
import type { StagePlan } from './model/peak.js';
import type { Renderer } from './render.js';
import type { Finding, FixOptions, Severity } from './types.js';

export interface TransformContext {
  model: DockerfileModel;
  options: FixOptions;
  plan: StagePlan;
  render: Renderer;
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

export function finding(rule: string, severity: Severity, at: Instruction, message: string, hint?: string): Finding {
  return hint ? { rule, severity, line: lineOf(at), message, hint } : { rule, severity, line: lineOf(at), message };
}
