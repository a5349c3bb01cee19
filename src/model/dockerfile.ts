import { DockerfileParser, type Argument, type Dockerfile, type From, type Instruction } from 'dockerfile-ast';
import { LineIndex } from '../edits.js';
import type { FactsLookup } from '../facts/types.js';
import { PeakFixError, type EngineInputs } from '../types.js';

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
  rejectLoneCarriageReturn(text);
  const ast = DockerfileParser.parse(text);
  rejectMisreadEscape(text, ast);
  rejectUnicodeIndentation(text, ast);
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
  const mayHaveHeredoc = text.includes('<<');
  for (const instruction of instructions) {
    // BuildKit reads heredocs only in RUN, COPY and ADD (and ONBUILD of those), and only where a shell word
    // is `<<NAME` with a non-empty NAME (`reHeredoc = ^(\d*)<<(-?)([^<]*)$`, `heredocFromMatch` returns nil for an
    // empty rest; moby/buildkit frontend/dockerfile/parser/parser.go, parser_heredoc.go). So `$(( 1 << 2 ))` and
    // `CMD cat <<EOF` are not heredocs, and the lines after them are instructions, as dockerfile-ast reads them too.
    if (!HEREDOC_KEYWORDS.has(instruction.getKeyword())) continue;
    // Reading heredocs costs dockerfile-ast a full argument parse: only where `<<` is written at all.
    if (
      !mayHaveHeredoc ||
      !text.slice(lines.offsetAt(instruction.getRange().start), lines.offsetAt(instruction.getRange().end)).includes('<<')
    ) {
      continue;
    }
    const heredocs =
      (instruction as unknown as { getHeredocs?: () => { getName(): string; getDelimiterRange(): unknown }[] }).getHeredocs?.() ?? [];
    const open = heredocs.find((h) => h.getName() !== '' && h.getDelimiterRange() === null);
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

const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD', 'ONBUILD']);

/**
 * BuildKit splits lines on LF only (`scanLines`) and strips trailing CR/LF (`trimNewline`), so a CR that is
 * not followed by LF is part of the line for Docker; dockerfile-ast (and editors) break the line there. A
 * rewrite would then insert text into what Docker reads as the middle of an instruction (even after a final CR:
 * the closing lines would be appended to the last instruction): refused.
 */
function rejectLoneCarriageReturn(text: string): void {
  const lone = /\r(?!\n)/g;
  for (let match = lone.exec(text); match; match = lone.exec(text)) {
    const line = text.slice(0, match.index).split('\n').length;
    throw new PeakFixError(
      'a carriage return (CR) without a line feed: Docker reads it as part of the line, other tools as a line break; use LF or CRLF line ends',
      line,
    );
  }
}

/** Go's `unicode.IsSpace`, minus the space, tab and line breaks that both parsers agree on. */
const OTHER_SPACE = /[\v\f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * BuildKit strips any Unicode space before an instruction (`trimLeadingWhitespace`, `unicode.IsSpace`), so
 * `\u00a0COPY` or a vertical tab before `COPY` is a COPY to Docker; dockerfile-ast reads an unknown
 * instruction there and the rewrite would miss it (no `--chown`): refused, naming the character.
 */
function rejectUnicodeIndentation(text: string, ast: Dockerfile): void {
  // Continuation lines and heredoc bodies keep their leading characters for Docker too (`processLine` strips
  // only a line that starts an instruction), so both parsers agree there: only the other lines are checked.
  const inside = new Set<number>();
  for (const instruction of ast.getInstructions()) {
    const { start, end } = instruction.getRange();
    for (let line = start.line + 1; line <= end.line; line++) inside.add(line);
  }
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    if (inside.has(index)) continue;
    const indentation = /^[\s\uFEFF]*/.exec(lines[index])?.[0] ?? '';
    const odd = OTHER_SPACE.exec(indentation);
    if (odd) {
      const code = odd[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      throw new PeakFixError(
        `indented with U+${code} (${SPACE_NAMES[odd[0]] ?? 'a Unicode space'}): Docker skips it and reads the instruction, other tools do not; indent with spaces or tabs`,
        index + 1,
      );
    }
  }
}

const SPACE_NAMES: Record<string, string> = {
  '\v': 'vertical tab',
  '\f': 'form feed',
  '\u00a0': 'no-break space',
  '\u3000': 'ideographic space',
};

/** What Go's `unicode.IsSpace` strips at the start of a line. */
const GO_LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** BuildKit's parser directive line (`reDirectives`; Go's `\s` is `[\t\n\f\r ]`). */
const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

/**
 * The escape character as Docker takes it from the parser directives: they end at the first line that is not
 * a directive Docker knows (`possibleParserDirective` sets `done`; known: syntax, escape, and check since
 * BuildKit 1.8: moby/buildkit frontend/dockerfile/parser/parser.go, directives.go). So `# foo=bar` or a blank
 * line before `# escape=\`` leaves the escape at `\` for Docker, while dockerfile-ast takes the backtick: the
 * two would split the instructions differently, so the file is refused. Older Docker does not know `check`:
 * an escape directive after `# check=` is refused too, since which escape applies depends on the version.
 */
function rejectMisreadEscape(text: string, ast: Dockerfile): void {
  const parsed = ast.getEscapeCharacter();
  for (const known of [
    ['syntax', 'escape', 'check'],
    ['syntax', 'escape'],
  ]) {
    const docker = dockerEscape(text, new Set(known));
    if (docker.escape !== parsed) {
      throw new PeakFixError(
        `Docker reads the escape character as '${docker.escape}' here, not '${parsed}': parser directives end at the first line that is not one (${docker.stopped}); put # escape= on the first line`,
        docker.line,
      );
    }
  }
}

function dockerEscape(text: string, known: Set<string>): { escape: string; line: number; stopped: string } {
  let escape = '\\';
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].replace(/[\r\n]+$/, '').replace(GO_LEADING_SPACE, '');
    const match = DIRECTIVE.exec(line);
    const key = match?.[1].toLowerCase();
    if (!match || key === undefined || !known.has(key)) {
      const who = known.has('check') ? 'Docker' : 'older Docker';
      const stopped = match ? `# ${match[1]}= on line ${index + 1} is not a directive ${who} knows` : `line ${index + 1}`;
      return { escape, line: index + 1, stopped };
    }
    // A second escape directive: Docker refuses the file ("only one escape parser directive can be used"); which
    // escape would apply is undefined, so the file is refused here too. (A second `syntax` is Docker's to refuse.)
    if (key === 'escape' && seen.has(key))
      throw new PeakFixError(`a second # ${key}= directive: Docker refuses the file (only one is allowed)`, index + 1);
    seen.add(key);
    if (key === 'escape' && (match[2] === '`' || match[2] === '\\')) escape = match[2];
  }
  return { escape, line: lines.length, stopped: 'end of file' };
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

/** The instruction's text after its keyword, continuation breaks folded into spaces. */
export function argumentsText(model: DockerfileModel, instruction: Instruction): string {
  return foldedText(model, instruction).slice(instruction.getInstruction().length);
}

/** Index of the stage's last USER instruction, or -1. */
export function lastUserIndex(stage: Stage): number {
  return stage.instructions.findLastIndex((i) => i.getKeyword() === 'USER');
}

/** 1-based line of an instruction, for findings. */
export function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

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
  return argumentsOf(instruction)
    .map((a) => a.getValue())
    .join(' ');
}

const argumentLists = new WeakMap<Instruction, readonly Argument[]>();

/** An instruction's arguments, read once: dockerfile-ast splits the instruction's text again on every call. */
export function argumentsOf(instruction: Instruction): readonly Argument[] {
  let found = argumentLists.get(instruction);
  if (!found) {
    found = instruction.getArguments();
    argumentLists.set(instruction, found);
  }
  return found;
}

export interface Flag {
  getName(): string;
  getValue(): string | null;
}

const flags = new WeakMap<Instruction, readonly Flag[]>();

/**
 * The flags of an instruction (`--chown`, `--from`, `--link`), read once: dockerfile-ast re-reads the arguments
 * on every `getFlags()`, and the transforms ask for a COPY's flags many times.
 */
export function flagsOf(instruction: Instruction): readonly Flag[] {
  let found = flags.get(instruction);
  if (!found) {
    const flagged = instruction as unknown as { getFlags?: () => Flag[] };
    found = flagged.getFlags ? flagged.getFlags() : [];
    flags.set(instruction, found);
  }
  return found;
}

/** The `--chown` flag of a COPY or ADD (`undefined` when it has none, or for other instructions). */
export function chownFlag(instruction: Instruction): Flag | undefined {
  const keyword = instruction.getKeyword();
  if (keyword !== 'COPY' && keyword !== 'ADD') return undefined;
  return flagsOf(instruction).find((f) => f.getName().toLowerCase() === 'chown');
}
