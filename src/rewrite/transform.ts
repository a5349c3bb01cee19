import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../edits.js';
import { isRootUser, lineOf, type DockerfileModel } from '../model/dockerfile.js';
import type { StagePlan } from '../model/peak.js';
import { because, instruction, type NewInstruction, type Renderer } from './render.js';
import { findRule } from './rules.js';
import type { EngineInputs, Finding, FixOptions } from '../types.js';

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

/** A finding of a catalogued rule (src/rewrite/rules.ts), which fixes its severity. */
export function finding(rule: string, at: Instruction, message: string, hint?: string, messageId: string = rule): Finding {
  const doc = findRule(rule);
  if (!doc) throw new Error(`rule ${rule} is not in the catalog (src/rewrite/rules.ts)`);
  const base = { rule, messageId, severity: doc.severity, line: lineOf(at), message };
  return hint ? { ...base, hint } : base;
}

/**
 * The recipe's `useradd` and `chown` need root. Where another user is in force at that point, `USER 0` goes before
 * the inserted lines and, with `restore`, that user comes back after them, so every original step runs as the
 * same user as before. `USER 0` rather than `USER root`: images without /etc/passwd know no names.
 */
export function asRoot(inForce: string | null, items: NewInstruction[], restore: string | null): NewInstruction[] {
  if (isRootUser(inForce)) return items;
  const root = because(instruction('USER', '0'), `the lines below need root, and ${inForce} is in force here`);
  const back = (user: string) =>
    because(instruction('USER', user), `back to ${user}, so every original step runs as the same user as before`);
  return [root, ...items, ...(restore === null ? [] : [back(restore)])];
}

/** A transform that only reports: it edits nothing, and its findings are `findingsOf` the stage. */
export function reportOnly(id: string, summary: string, findingsOf: (ctx: TransformContext) => Finding[]): Transform {
  return { id, summary, apply: (ctx) => ({ edits: [], findings: findingsOf(ctx) }) };
}
