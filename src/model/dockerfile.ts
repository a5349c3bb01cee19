import { DockerfileParser, type Dockerfile, type From, type Instruction } from 'dockerfile-ast';
import { LineIndex } from '../edits.js';
import type { FactsLookup } from '../facts.js';
import { PeakFixError, type EngineInputs } from '../types.js';
import { stageBase } from './base.js';

export interface Stage {
  index: number;
  from: From;
  /** Lower-cased `AS` name, or null. */
  name: string | null;
  /** The stage's instructions after its FROM, in order. */
  instructions: Instruction[];
  /** Earlier stage this one is built `FROM`, or null when it starts from an image. */
  parent: Stage | null;
  isFinal: boolean;
}

export interface DockerfileModel {
  text: string;
  ast: Dockerfile;
  lines: LineIndex;
  stages: Stage[];
  /** Instructions are emitted upper case unless the file writes its own in lower case. */
  lowercase: boolean;
  /** Line-continuation character: `\` unless a `# escape=` directive says otherwise. */
  escape: string;
  /** Facts about base images from outside the built-in catalog (organisation, inspection); they come first. */
  facts?: FactsLookup;
  /** Values for the variables of FROM lines (`--arg NAME=VALUE`), before the ARG defaults. */
  buildArgs?: Readonly<Record<string, string>>;
}

export function parseDockerfile(text: string, inputs: EngineInputs = {}): DockerfileModel {
  const ast = DockerfileParser.parse(text);
  const froms = ast.getFROMs();
  if (froms.length === 0) throw new PeakFixError('no FROM instruction: this is not a Dockerfile that builds an image');
  const stages: Stage[] = [];
  const byName = new Map<string, Stage>();
  let current: Stage | null = null;
  for (const instruction of ast.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      const name = from.getBuildStage()?.toLowerCase() ?? null;
      const imageName = from.getImage()?.toLowerCase() ?? '';
      current = { index: stages.length, from, name, instructions: [], parent: byName.get(imageName) ?? null, isFinal: false };
      stages.push(current);
      if (name) byName.set(name, current);
    } else if (current) {
      current.instructions.push(instruction);
    }
  }
  stages[stages.length - 1].isFinal = true;
  const lines = new LineIndex(text);
  rejectUnterminated(text, ast, lines);
  const keywords = ast.getInstructions().map((i) => i.getInstruction());
  const lower = keywords.filter((k) => k === k.toLowerCase() && k !== k.toUpperCase()).length;
  return {
    text,
    ast,
    lines,
    stages,
    lowercase: lower * 2 > keywords.length,
    escape: ast.getEscapeCharacter(),
    ...(inputs.facts ? { facts: inputs.facts } : {}),
    ...(inputs.buildArgs ? { buildArgs: inputs.buildArgs } : {}),
  };
}

/**
 * An instruction that runs to the end of the file (a heredoc without its delimiter, a line continuation on the
 * last line) would swallow every line appended after it, so such files are refused rather than rewritten.
 */
function rejectUnterminated(text: string, ast: Dockerfile, lines: LineIndex): void {
  const instructions = ast.getInstructions();
  for (const instruction of instructions) {
    const heredocs =
      (instruction as unknown as { getHeredocs?: () => { getName(): string; getDelimiterRange(): unknown }[] }).getHeredocs?.() ?? [];
    const open = heredocs.find((h) => h.getDelimiterRange() === null);
    if (open) {
      throw new PeakFixError(`unterminated heredoc: <<${open.getName()} has no closing ${open.getName()} line`, lineOf(instruction));
    }
  }
  const last = instructions[instructions.length - 1];
  if (!last) return;
  const body = text
    .slice(lines.offsetAt(last.getRange().start), lines.offsetAt(last.getRange().end))
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '' && !/^\s*#/.test(line));
  const escape = ast.getEscapeCharacter();
  if (body.length > 0 && body[body.length - 1].trimEnd().endsWith(escape)) {
    throw new PeakFixError(
      `unterminated line continuation: the file ends after the '${escape}' that continues this ${last.getKeyword()}`,
      lineOf(last),
    );
  }
}

export function startOffset(model: DockerfileModel, instruction: Instruction): number {
  return model.lines.offsetAt(instruction.getRange().start);
}

/** Start of the line an instruction begins on: text inserted there leaves the instruction's indentation with it. */
export function lineStartOffset(model: DockerfileModel, instruction: Instruction): number {
  return model.lines.starts[instruction.getRange().start.line];
}

export function endOffset(model: DockerfileModel, instruction: Instruction): number {
  return model.lines.offsetAt(instruction.getRange().end);
}

/** Source text of one instruction, continuations and heredoc bodies included. */
export function instructionText(model: DockerfileModel, instruction: Instruction): string {
  return model.text.slice(startOffset(model, instruction), endOffset(model, instruction));
}

/** The instruction's text with its line continuations folded into spaces, for pattern matching. */
export function foldedText(model: DockerfileModel, instruction: Instruction): string {
  return instructionText(model, instruction)
    .split(new RegExp(`\\${model.escape}\\r?\\n`))
    .join(' ');
}

/** Index of the stage's last USER instruction, or -1. */
export function lastUserIndex(stage: Stage): number {
  return stage.instructions.findLastIndex((i) => i.getKeyword() === 'USER');
}

/** 1-based line of an instruction, for findings. */
export function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

// Base resolution lives in base.ts; re-exported so 1.0 callers keep compiling.
export { resolveImageReference, stageBase, type StageBase } from './base.js';

/** The user part of a USER value (`app:grp` -> `app`). */
function userPart(value: string): string {
  return value.split(':')[0];
}

/** True when a USER value means root; null and undefined (no USER at all) mean root too. */
export function isRootUser(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return true;
  const user = userPart(value.trim());
  return user === '' || user === 'root' || user === '0';
}

export function userValue(instruction: Instruction): string {
  return instruction
    .getArguments()
    .map((a) => a.getValue())
    .join(' ');
}

const usersInForce = new WeakMap<Stage, (string | null)[]>();

/** The user in force right before `instructions[index]` of `stage` (null: root); computed once per stage. */
export function userBefore(model: DockerfileModel, stage: Stage, index: number): string | null {
  if (!usersInForce.has(stage)) {
    // Parents first, iteratively: a chain of 20,000 stages must not recurse.
    const pending: Stage[] = [];
    for (let s: Stage | null = stage; s && !usersInForce.has(s); s = s.parent) pending.push(s);
    for (const s of pending.reverse()) {
      const parentUsers = s.parent ? usersInForce.get(s.parent) : undefined;
      let user = parentUsers ? parentUsers[parentUsers.length - 1] : (stageBase(model, s).image.defaultUser ?? null);
      const users = [user];
      for (const instruction of s.instructions) {
        if (instruction.getKeyword() === 'USER') user = userValue(instruction);
        users.push(user);
      }
      usersInForce.set(s, users);
    }
  }
  const users = usersInForce.get(stage) as (string | null)[];
  return users[Math.min(Math.max(index, 0), users.length - 1)];
}

interface Flagged {
  getFlags(): { getName(): string; getValue(): string | null }[];
}

/** The `--chown` flag of a COPY or ADD (`undefined` when it has none, or for other instructions). */
export function chownFlag(instruction: Instruction): { getName(): string; getValue(): string | null } | undefined {
  const keyword = instruction.getKeyword();
  if (keyword !== 'COPY' && keyword !== 'ADD') return undefined;
  return (instruction as unknown as Flagged).getFlags().find((f) => f.getName().toLowerCase() === 'chown');
}
