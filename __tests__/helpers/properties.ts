import { describe, expect, test } from '@jest/globals';
import { DockerfileParser } from 'dockerfile-ast';
import fc from 'fast-check';
import { fixModel } from '../../src/engine.js';
import { fixDockerfile, PeakFixError, validateOptions } from '../../src/index.js';
import { volumePaths, writableDirs } from '../../src/model/dirs.js';
import { classifyPath, isPlainAbsolute, normaliseAbsolute } from '../../src/facts/paths.js';
import {
  chownFlag,
  isRootUser,
  lineOf,
  parseDockerfile,
  startOffset,
  type DockerfileModel,
  type Stage,
} from '../../src/model/dockerfile.js';
import { stageBase, userBefore } from '../../src/model/base.js';
import { PeakLines } from '../../src/model/peak.js';
import type { FixOptions, FixResult } from '../../src/index.js';
import { caseArb, namesOf, type Case } from '../arbitraries.js';

/**
 * Property-based tests of fixDockerfile over generated Dockerfiles (see arbitraries.ts). Every property runs
 * NUM_RUNS cases generated once from the same seed, so the engine runs once per case (results are memoised) and each
 * property is checked on the same NUM_RUNS inputs. PROPERTY_SEED=<int> replays another sequence; on failure the test
 * prints the seed and the counterexample.
 */
const NUM_RUNS = 2000;
const SEED = seedFromEnv(process.env.PROPERTY_SEED, 0x5eed_fa11);
/** The generated Dockerfiles: made once, checked by every property (fast-check's generator, with a fixed seed). */
const GENERATED: Case[] = fc.sample(caseArb, { numRuns: NUM_RUNS, seed: SEED });

function seedFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const seed = Number(value);
  if (!Number.isInteger(seed)) throw new Error(`PROPERTY_SEED must be an integer, got ${JSON.stringify(value)}`);
  return seed | 0;
}

// ------------------------------------------------------------------------------------------------ helpers

type Outcome = { ok: true; result: FixResult } | { ok: false; error: unknown };

const memo = new Map<string, Outcome>();

/** fixDockerfile, memoised: every property sees the same cases, so each case is migrated once. */
function run(text: string, options: Partial<FixOptions>): Outcome {
  const key = JSON.stringify([text, options]);
  let outcome = memo.get(key);
  if (!outcome) {
    try {
      // The model the properties read is the one the engine migrates: each text is parsed once.
      const model = modelOf(text);
      outcome = { ok: true, result: model ? fixModel(model, validateOptions(options)) : fixDockerfile(text, options) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    memo.set(key, outcome);
  }
  return outcome;
}

/** The result, or undefined when the input is one peak-fix refuses (property 1 checks those). */
function resultOf(c: Case): FixResult | undefined {
  const outcome = run(c.text, c.options);
  return outcome.ok ? outcome.result : undefined;
}

/** What the tests need to know of a text, from one parse (memoised: parsing is the slow part of these tests). */
interface Facts {
  instructions: Span[];
  froms: { line: number; image: string }[];
  /** Global ARGs (before the first FROM) with a non-empty default: the variables a FROM can be resolved with. */
  globalDefaults: Set<string>;
  /** The value of the final stage's last USER, or undefined when it has none. */
  finalUser: string | undefined;
  escape: string;
  /** Working directory at the end of each stage (see Span.cwd). */
  stageEnds: string[];
}

interface Span {
  keyword: string;
  /** 1-based line of the keyword. */
  line: number;
  start: number;
  end: number;
  /** Working directory the instruction runs in (for WORKDIR: the one it sets), relative to what the stage inherits. */
  cwd: string;
  /** Whether what it does depends on that directory. */
  usesCwd: boolean;
}

const factsMemo = new Map<string, Facts>();

function factsOf(text: string): Facts {
  let facts = factsMemo.get(text);
  if (facts) return facts;
  const ast = modelOf(text)?.ast ?? DockerfileParser.parse(text);
  const starts = lineStarts(text);
  const at = (p: { line: number; character: number }) => Math.min(starts[Math.min(p.line, starts.length - 1)] + p.character, text.length);
  const escape = ast.getEscapeCharacter();
  const instructions: Span[] = [];
  const stageEnds: string[] = [];
  let finalUser: string | undefined;
  let cwd: string | null = null;
  for (const i of ast.getInstructions()) {
    const keyword = i.getKeyword();
    const range = i.getRange();
    const start = at(range.start);
    const end = at(range.end);
    const args = i.getArguments().map((a) => a.getValue());
    let usesCwd = false;
    if (keyword === 'FROM') {
      if (cwd !== null) stageEnds.push(cwd);
      cwd = INHERITED;
      finalUser = undefined;
    } else if (keyword === 'USER') {
      finalUser = args.join(' ');
    } else if (keyword === 'WORKDIR' && cwd !== null) {
      cwd = resolveWorkdir(cwd, args.join(' '));
      usesCwd = true;
    } else if (['RUN', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK'].includes(keyword)) {
      usesCwd = true;
    } else if (keyword === 'COPY' || keyword === 'ADD') {
      usesCwd = !/^[/$]/.test(copyDestination(text.slice(start, end), escape));
    }
    instructions.push({ keyword, line: range.start.line + 1, start, end, cwd: cwd ?? INHERITED, usesCwd });
  }
  if (cwd !== null) stageEnds.push(cwd);
  const globalDefaults = new Set<string>();
  for (const arg of ast.getInitialARGs()) {
    const property = arg.getProperty();
    if (property?.getValue()) globalDefaults.add(property.getName());
  }
  const froms = ast.getFROMs().map((f) => ({ line: f.getRange().start.line + 1, image: f.getImage() ?? '' }));
  facts = { instructions, froms, globalDefaults, finalUser, escape, stageEnds };
  factsMemo.set(text, facts);
  return facts;
}

const modelMemo = new Map<string, DockerfileModel | undefined>();

/** The engine's model of a text (undefined when the engine refuses it), parsed once for facts and properties alike. */
function modelOf(text: string): DockerfileModel | undefined {
  if (modelMemo.has(text)) return modelMemo.get(text);
  let model: DockerfileModel | undefined;
  try {
    model = parseDockerfile(text);
  } catch {
    model = undefined;
  }
  modelMemo.set(text, model);
  return model;
}

const INHERITED = '<inherited>';

/** The directory `WORKDIR value` moves to from `cwd`; `..` above the inherited directory stays symbolic. */
function resolveWorkdir(cwd: string, value: string): string {
  const path = value.trim().replace(/^["']|["']$/g, '');
  // `$HOME/work` and the like: where it points does not depend on the current directory.
  if (path.startsWith('$')) return path;
  const [root, ...rest] = path.startsWith('/') ? ['', ...path.split('/')] : [...cwd.split('/'), ...path.split('/')];
  const out: string[] = [];
  for (const segment of rest) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (segment !== '..' || root !== '') out.push(segment);
  }
  return root + '/' + out.join('/');
}

/** Destination of a COPY or ADD: the last word of its first logical line (heredoc bodies excluded), or of its JSON array. */
function copyDestination(source: string, escape: string): string {
  const continuation = new RegExp(`\\${escape}[ \\t]*(?:\\r\\n|\\r|\\n)(?:[ \\t]*#[^\\r\\n]*(?:\\r\\n|\\r|\\n))*`, 'g');
  const line = source.replace(continuation, ' ').split(/\r\n|\r|\n/)[0];
  const words = line.trim().split(/\s+/).slice(1);
  const rest = words.filter((w) => !w.startsWith('--')).join(' ');
  if (rest.startsWith('[')) {
    try {
      const array: unknown = JSON.parse(rest);
      if (Array.isArray(array)) return String(array[array.length - 1] ?? '');
    } catch {
      // Not JSON: Docker reads it as words.
    }
  }
  return words[words.length - 1] ?? '';
}

/** Offsets of line starts, splitting on `\r\n`, `\r` and `\n` like dockerfile-ast; positions count UTF-16 units. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(/\r\n|\r|\n/g)) starts.push(m.index + m[0].length);
  return starts;
}

/** The input with the edits' insertions taken back out, the edits read as offsets into the input. */
function removeInsertions(output: string, edits: FixResult['edits']): string {
  let restored = '';
  let cursor = 0;
  let shift = 0;
  for (const edit of [...edits].sort((a, b) => a.offset - b.offset)) {
    restored += output.slice(cursor, edit.offset + shift);
    cursor = edit.offset + shift + edit.insert.length;
    shift += edit.insert.length;
  }
  return restored + output.slice(cursor);
}

const EOL = /\r\n|\r|\n/;

/** Lines of inserted text that start an instruction (continuation lines of an inserted RUN are indented). */
function insertedInstructionCount(edits: FixResult['edits']): number {
  return edits.flatMap((e) => e.insert.split(EOL)).filter((l) => /^[A-Za-z]/.test(l)).length;
}

/** `$UID_ARG`, `${UID_ARG}`, `${UID_ARG:?...}` or the user's name, with or without a group. */
function isPeakUser(value: string | undefined, options: Partial<FixOptions>): boolean {
  if (value === undefined) return false;
  const { user, uidArg } = namesOf(options);
  const name = value.split(':')[0];
  return name === `$${uidArg}` || name === `\${${uidArg}}` || name === user || value.startsWith(`\${${uidArg}:?`);
}

// ------------------------------------------------------------------------------------------------ checks

/**
 * 1. Nothing but PeakFixError is thrown, and that only for input that cannot be migrated, each reason checked
 * against the input: no FROM; and (since the engine refuses them) a heredoc
 * without its delimiter or a line continuation left open at the end of the file, after which appended lines
 * would be swallowed.
 */
function checkThrows(c: Case): void {
  const outcome = run(c.text, c.options);
  const facts = factsOf(c.text);
  const { froms } = facts;
  if (outcome.ok) {
    // Without a FROM the only way out is a deliberate skip (a `# peak-fix-disable` comment).
    if (froms.length === 0) expect(outcome.result.skipped).toBeDefined();
    // A final base that cannot be known (a FROM variable without a value) leaves the file as it is, saying so; with
    // --all-stages another stage's unknown base only skips that stage (message id `stage-skipped`).
    if (outcome.result.findings.some((f) => f.rule === 'unresolved-base' && f.messageId !== 'stage-skipped')) {
      expect(outcome.result.output).toBe(c.text);
      expect(outcome.result.skipped).toMatch(/has no value|have no value/);
    }
    return;
  }
  const { error } = outcome;
  if (!(error instanceof PeakFixError)) throw error;
  const message = error.message;
  const heredoc = /^unterminated heredoc: <<(\S+)/.exec(message);
  if (/^no FROM instruction/.test(message)) {
    expect(froms).toHaveLength(0);
  } else if (/^unterminated line continuation/.test(message)) {
    // Once trailing blank and comment lines are dropped, the file ends with the escape character.
    const lines = c.text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
    expect({ message, lastLine: lines[lines.length - 1]?.trimEnd().endsWith(facts.escape) }).toEqual({ message, lastLine: true });
  } else if (heredoc) {
    // The named instruction holds the `<<NAME`, and no later line closes it, or it is not an instruction that takes
    // heredocs (the marker sits on a continuation line of another instruction: the file is broken anyway).
    const name = heredoc[1];
    const instruction = facts.instructions.find((i) => i.line === error.line);
    const source = instruction ? c.text.slice(instruction.start, instruction.end) : '';
    const marker = new RegExp(`<<(-?)["']?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?`).exec(source);
    expect({ message, marker: marker !== null }).toEqual({ message, marker: true });
    const rest =
      instruction && marker
        ? c.text
            .slice(instruction.start + marker.index)
            .split(/\r\n|\r|\n/)
            .slice(1)
        : [];
    const closed = rest.some((l) => (marker?.[1] ? l.replace(/^\t+/, '') : l) === name);
    const takesHeredocs = ['RUN', 'COPY', 'ADD'].includes(instruction?.keyword ?? '');
    expect({ message, closedHeredocRefused: closed && takesHeredocs }).toEqual({ message, closedHeredocRefused: false });
  } else {
    throw new Error(`unexpected PeakFixError: ${message}`);
  }
}

/** 2. The output parses and has at least as many instructions as the input. */
function checkParses(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  expect(() => factsOf(result.output)).not.toThrow();
  expect(factsOf(result.output).instructions.length).toBeGreaterThanOrEqual(factsOf(c.text).instructions.length);
}

/** 2b. Exactly the inserted instructions are added: none is swallowed by an original one (or swallows it). */
function checkStandAlone(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  const expected = factsOf(c.text).instructions.length + insertedInstructionCount(result.edits);
  expect({ output: result.output, instructions: factsOf(result.output).instructions.length }).toEqual({
    output: result.output,
    instructions: expected,
  });
}

/** 3. A second run with the same options changes nothing. */
function checkIdempotent(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  const second = run(result.output, c.options);
  if (!second.ok) throw second.error;
  expect(second.result.output).toBe(result.output);
  expect(second.result.changed).toBe(false);
  expect(second.result.edits).toEqual([]);
}

/** 4. Edits only insert, and taking the insertions out of the output gives the input back byte for byte. */
function checkBytesSurvive(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  for (const edit of result.edits) {
    expect(edit.remove).toBe(0);
    expect(edit.offset).toBeGreaterThanOrEqual(0);
    expect(edit.offset).toBeLessThanOrEqual(c.text.length);
  }
  expect(removeInsertions(result.output, result.edits)).toBe(c.text);
  expect(result.changed).toBe(result.output !== c.text);
}

/** 5. Inside an original instruction only ` --chown=...` is inserted; everything else is whole lines at line boundaries. */
function checkInsertPlaces(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  const { text } = c;
  const spans = factsOf(text).instructions;
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  for (const { offset, insert } of result.edits) {
    // A --chown flag goes right after the keyword of an original COPY or ADD.
    if (insert.startsWith(' --chown=')) {
      expect(insert).toMatch(/^ --chown=\S+$/);
      const copy = spans.find(
        (s) => s.start < offset && offset <= s.end && ['COPY', 'ADD'].includes(text.slice(s.start, offset).toUpperCase()),
      );
      expect({ offset, insert, afterCopyKeyword: copy !== undefined }).toEqual({ offset, insert, afterCopyKeyword: true });
      continue;
    }
    const inside = spans.find((s) => s.start < offset && offset < s.end);
    expect({ offset, insert, inside }).toEqual({ offset, insert, inside: undefined });
    const before = text[offset - 1];
    const after = text[offset];
    const splitsCrlf = before === '\r' && after === '\n';
    const atLineStart = !splitsCrlf && (offset === bom || before === '\n' || before === '\r');
    const atLineEnd = !splitsCrlf && (offset === text.length || after === '\n' || after === '\r');
    // At a line start: whole lines, each ended by a line break. At a line end: whole lines, each started by one.
    const wholeLinesBefore = atLineStart && /^(?:[^\r\n]+(?:\r\n|\n))+$/.test(insert);
    const wholeLinesAfter = atLineEnd && /^(?:(?:\r\n|\n)[^\r\n]+)+$/.test(insert);
    expect({ offset, insert, atLineBoundary: wholeLinesBefore || wholeLinesAfter }).toEqual({ offset, insert, atLineBoundary: true });
  }
}

/** 5b. Inserted text uses the file's line break: no LF-only break in a CRLF file, no CR in an LF file. */
function checkLineBreaks(c: Case): void {
  const result = resultOf(c);
  if (!result) return;
  const crlfOnly = /\r\n/.test(c.text) && !/(?<!\r)\n|\r(?!\n)/.test(c.text);
  const lfOnly = !/\r/.test(c.text);
  for (const edit of result.edits) {
    if (crlfOnly) expect(edit.insert).not.toMatch(/(?<!\r)\n|\r(?!\n)/);
    if (lfOnly) expect(edit.insert).not.toMatch(/\r/);
  }
}

/** 6. A changed file ends its final stage as the Peak user, unless it was skipped or has a `# peak-fix-disable` comment. */
function checkEndsAsPeak(c: Case): void {
  const result = resultOf(c);
  if (!result || result.output === c.text || result.skipped || c.text.includes('# peak-fix-disable')) return;
  const lastUser = factsOf(result.output).finalUser;
  expect({ output: result.output, lastUser, isPeakUser: isPeakUser(lastUser, c.options) }).toEqual({
    output: result.output,
    lastUser,
    isPeakUser: true,
  });
}

/** 7. A skipped file is left byte for byte as it was. */
function checkSkipped(c: Case): void {
  const result = resultOf(c);
  if (!result?.skipped) return;
  expect(result.output).toBe(c.text);
  expect(result.edits).toEqual([]);
  expect(result.changed).toBe(false);
}

/**
 * 8. Where the WORKDIR is only to be added when nothing depends on the inherited one (workdir auto or never, safe
 * preset), every original instruction that depends on the working directory runs in the same one, and every stage
 * ends in the same one.
 */
function checkWorkdirKept(c: Case): void {
  const result = resultOf(c);
  if (!result || c.options.preset === 'peak-doc' || c.options.workdir === 'always') return;
  const before = factsOf(c.text);
  const after = factsOf(result.output);
  const byStart = new Map(after.instructions.map((i) => [i.start, i]));
  for (const original of before.instructions) {
    if (!original.usesCwd) continue;
    const shift = result.edits.filter((e) => e.offset <= original.start).reduce((sum, e) => sum + e.insert.length, 0);
    const rewritten = byStart.get(original.start + shift);
    if (!rewritten) continue; // swallowed: check 2b's business
    const where = { line: original.line, keyword: original.keyword };
    expect({ ...where, cwd: rewritten.cwd }).toEqual({ ...where, cwd: original.cwd });
  }
  expect(after.stageEnds).toEqual(before.stageEnds);
}

/** Instructions of a parsed model by start offset, with their stage and index: how original lines are found again. */
function byOffset(model: DockerfileModel): Map<number, { stage: Stage; index: number }> {
  const map = new Map<number, { stage: Stage; index: number }>();
  for (const stage of model.stages) stage.instructions.forEach((i, index) => map.set(startOffset(model, i), { stage, index }));
  return map;
}

function shiftOf(edits: FixResult['edits'], offset: number): number {
  return edits.filter((e) => e.offset <= offset).reduce((sum, e) => sum + e.insert.length, 0);
}

/** The user a USER value means, with root's spellings made one. */
function normalUser(value: string | null): string {
  return isRootUser(value) ? 'root' : (value as string);
}

interface Migrated {
  result: FixResult;
  before: DockerfileModel;
  after: DockerfileModel;
  /** The recipe's lines recognised in each model (memoised: the shell parse is the slow part). */
  peakBefore: PeakLines;
  peakAfter: PeakLines;
}

const migratedMemo = new Map<Case, Migrated | undefined>();

/** The case's result and both texts' models, parsed once for every property that reads them. */
function migratedResult(c: Case): Migrated | undefined {
  if (migratedMemo.has(c)) return migratedMemo.get(c);
  const result = resultOf(c);
  let m: Migrated | undefined;
  if (result && !result.skipped && result.changed && !c.text.includes('# peak-fix-disable')) {
    const options = validateOptions(c.options);
    const before = modelOf(c.text);
    const after = modelOf(result.output);
    if (!before || !after) throw new Error('a migrated case whose input or output the engine cannot parse');
    m = { result, before, after, peakBefore: new PeakLines(before, options), peakAfter: new PeakLines(after, options) };
  }
  migratedMemo.set(c, m);
  return m;
}

/** 9. Every original RUN runs as the same user as before: inserted USER lines are always undone before the next original step. */
function checkRunsAsBefore(c: Case): void {
  const m = migratedResult(c);
  if (!m) return;
  const after = byOffset(m.after);
  for (const stage of m.before.stages) {
    stage.instructions.forEach((i, index) => {
      if (i.getKeyword() !== 'RUN') return;
      const start = startOffset(m.before, i);
      const found = after.get(start + shiftOf(m.result.edits, start));
      if (!found) return; // swallowed: check 2b's business
      const was = normalUser(userBefore(m.before, stage, index));
      const now = normalUser(userBefore(m.after, found.stage, found.index));
      expect({ line: lineOf(i), user: now }).toEqual({ line: lineOf(i), user: was });
    });
  }
}

/** 10. The user is created exactly once in the final stage's chain (never twice), and before its first use. */
function checkCreatedOnce(c: Case): void {
  const m = migratedResult(c);
  if (!m) return;
  const final = m.after.stages[m.after.stages.length - 1];
  if (stageBase(m.after, final).image.family === 'distroless') return;
  const options = validateOptions(c.options);
  const peak = m.peakAfter;
  const chain: Stage[] = [];
  for (let s: Stage | null = final; s; s = s.parent) chain.unshift(s);
  const original = m.peakBefore;
  const originalChain: Stage[] = [];
  for (let s: Stage | null = m.before.stages[m.before.stages.length - 1]; s; s = s.parent) originalChain.push(s);
  const createdBefore = originalChain.flatMap((s) => s.instructions).filter((i) => original.createsUser(i)).length;
  let created = 0;
  let firstUseBeforeCreation: number | null = null;
  for (const stage of chain) {
    for (const i of stage.instructions) {
      if (peak.createsUser(i)) created++;
      const usesName =
        (['COPY', 'ADD'].includes(i.getKeyword()) && chownFlag(i)?.getValue()?.split(':')[0] === options.user) ||
        peak.ownedPaths(i).size > 0;
      // Stages peak-fix does not migrate keep what they had, a premature --chown of their own included.
      const migrated = stage === final || options.allStages;
      if (migrated && usesName && created === 0 && firstUseBeforeCreation === null) firstUseBeforeCreation = lineOf(i);
    }
  }
  if (createdBefore === 0) expect({ created, firstUseBeforeCreation }).toEqual({ created: 1, firstUseBeforeCreation: null });
  // A hand-made user is never created again: with --all-stages the stages it is built on are left as they are.
  else expect(created).toBe(createdBefore);
}

/**
 * 11. Ownership, by a small interpreter over the rewritten final stage: every WORKDIR, VOLUME and `mkdir` directory the
 * original stage makes outside the system directories ends owned by the user (where peak-fix can reach it: with a
 * shell, made before the final USER and while root is in force).
 */
function checkDirectoriesOwned(c: Case): void {
  const m = migratedResult(c);
  if (!m) return;
  const options = validateOptions(c.options);
  const before = m.before.stages[m.before.stages.length - 1];
  const after = m.after.stages[m.after.stages.length - 1];
  if (stageBase(m.before, before).image.family === 'distroless') return;
  const peakBefore = m.peakBefore;
  const lastUser = before.instructions.findLastIndex((i) => i.getKeyword() === 'USER');
  // A hand migration that creates the user only later in the stage: what comes before is reported, not owned.
  const createdAt = before.instructions.findLastIndex((i) => peakBefore.createsUser(i));
  const reachable = (at: number) => (lastUser < 0 || at < lastUser) && at > createdAt && isRootUser(userBefore(m.before, before, at));
  // Where the original's program ran as another user, root's directories were never its to write, nor are they now.
  const runtimeUser = userBefore(m.before, before, before.instructions.length);
  const ranAsRoot = isRootUser(runtimeUser) || peakBefore.isPeakUserValue(runtimeUser);
  const wanted = ranAsRoot ? writableDirs(m.before, before, peakBefore, options.home).dirs.filter((d) => reachable(d.madeAt)) : [];
  const volumes = before.instructions.flatMap((v, at) =>
    v.getKeyword() === 'VOLUME' && reachable(at)
      ? volumePaths(m.before, v)
          .filter((p) => isPlainAbsolute(p) && classifyPath(p, options.home) === 'app')
          .map((p) => normaliseAbsolute(p))
      : [],
  );
  // The interpreter: owner of each directory it has seen; a VOLUME freezes what is under it.
  const owner = new Map<string, string>();
  // A user created further up the chain has its home already (useradd -m).
  for (let s = after.parent; s; s = s.parent)
    if (s.instructions.some((i) => m.peakAfter.createsUser(i))) owner.set(normaliseAbsolute(options.home), 'user');
  const frozen: string[] = [];
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : dir + '/');
  const peak = m.peakAfter;
  after.instructions.forEach((i, index) => {
    const user = isRootUser(userBefore(m.after, after, index)) ? 'root' : 'user';
    const keyword = i.getKeyword();
    if (keyword === 'WORKDIR') {
      const dir = writableDirs(m.after, { ...after, instructions: after.instructions.slice(0, index + 1) }, peak, options.home).dirs.find(
        (d) => d.madeAt === index,
      );
      if (dir && !owner.has(dir.path)) owner.set(dir.path, 'root');
    } else if (keyword === 'VOLUME') {
      for (const p of volumePaths(m.after, i)) {
        const path = normaliseAbsolute(p);
        if (!owner.has(path)) owner.set(path, 'root');
        frozen.push(path);
      }
    } else if (keyword === 'RUN') {
      // useradd -m makes the home, the user's.
      if (peak.createsUser(i)) owner.set(normaliseAbsolute(options.home), 'user');
      for (const made of peak.run(i).mkdirs) {
        if (!made.conditional && made.path.startsWith('/') && !owner.has(normaliseAbsolute(made.path)))
          owner.set(normaliseAbsolute(made.path), user);
      }
      for (const chown of peak.run(i).chowns) {
        const to = peak.isPeakOwner(chown.owner.raw) ? 'user' : 'other';
        for (const target of chown.paths.map(normaliseAbsolute)) {
          for (const path of owner.keys()) {
            if (!under(path, target) || frozen.some((f) => under(path, f) && f !== path)) continue;
            if (frozen.includes(path)) continue;
            owner.set(path, to);
          }
        }
      }
    }
  });
  for (const path of [...wanted.map((d) => d.path), ...volumes]) {
    expect({ path, owner: owner.get(path) ?? 'missing' }).toEqual({ path, owner: 'user' });
  }
}

// ------------------------------------------------------------------------------------------------ properties

export function propertySuite(from: number, to: number): void {
  describe(`fixDockerfile properties (seed ${SEED}, cases ${from}–${to - 1} of ${NUM_RUNS})`, () => {
    test.each([
      ['1. it throws nothing but PeakFixError, and that only for input that cannot be migrated', checkThrows],
      ['2. the output parses and has at least as many instructions as the input', checkParses],
      ['2b. every inserted instruction stands on its own: none is swallowed by an original one', checkStandAlone],
      ['3. idempotence: a second run with the same options changes nothing', checkIdempotent],
      ['4. every original byte survives: edits only insert, and taking the insertions out gives the input back', checkBytesSurvive],
      [
        '5. inside an original instruction only a --chown flag is inserted; everything else is whole lines at line boundaries',
        checkInsertPlaces,
      ],
      ['5b. inserted text uses the file’s line break', checkLineBreaks],
      ['6. a changed file ends its final stage as the Peak user (unless skipped or disabled)', checkEndsAsPeak],
      ['7. a skipped file is left byte for byte as it was', checkSkipped],
      ['8. workdir auto/never: instructions that depend on the working directory keep theirs', checkWorkdirKept],
      ['9. every original RUN runs as the same user as before', checkRunsAsBefore],
      ['10. the user is created exactly once, before its first use', checkCreatedOnce],
      ['11. every WORKDIR, VOLUME and mkdir directory of the migrated stage ends owned by the user', checkDirectoriesOwned],
    ] as const)('%s', (_name, check) => {
      // The cases are generated once (GENERATED) and every property is checked on the same ones.
      for (const c of GENERATED.slice(from, to)) {
        try {
          check(c);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n\ncounterexample (seed ${SEED}): ${JSON.stringify(c)}`);
        }
      }
    });
  });
}

/**
 * Minimal counterexamples the properties found, kept as examples so they are checked whatever the seed. Each runs
 * every check, so an input may be refused (PeakFixError, validated by check 1) or rewritten, but not rewritten wrongly.
 */
export function counterexampleSuite(): void {
  describe('counterexamples found by the properties', () => {
    const allChecks = [
      checkThrows,
      checkParses,
      checkStandAlone,
      checkIdempotent,
      checkBytesSurvive,
      checkInsertPlaces,
      checkLineBreaks,
      checkEndsAsPeak,
      checkSkipped,
      checkWorkdirKept,
    ];
    test.each([
      ['a continuation left open on the last line swallowed the closing USER', 'FROM scratch\nCOPY a /b \\', {}],
      ['a continuation left open on the last line swallowed the closing RUN', 'FROM debian\nRUN true \\\n', {}],
      [
        'a commented-out last continuation line swallowed the closing RUN',
        'FROM debian\nRUN apt-get update \\\n#    && rm -rf /var/lib/apt/lists/*\n',
        {},
      ],
      ['a RUN after an existing final USER $PEAK_USER_ID got another chown on each run', 'FROM debian\nUSER $PEAK_USER_ID\nRUN true\n', {}],
      ['WORKDIR <home> was inserted before a relative WORKDIR that climbs out of it (not idempotent)', 'FROM debian\nWORKDIR ../up\n', {}],
      [
        'WORKDIR <home> was inserted before a relative WORKDIR, which then resolved under the home',
        'FROM debian\nWORKDIR app\nCOPY . .\n',
        {},
      ],
      [
        '--workdir=always: a relative WORKDIR after the inserted one was owned only on the second run',
        'FROM debian\nWORKDIR ../up\n',
        { workdir: 'always' },
      ],
      [
        'a hand migration that creates the user after USER $PEAK_USER_ID, with a VOLUME, got the home chown only on the second run',
        'FROM debian\nUSER $PEAK_USER_ID\nRUN useradd peak-user\nVOLUME /data\n',
        {},
      ],
      [
        'a RUN between an existing USER $PEAK_USER_ID and a VOLUME got another chown on each run',
        'FROM debian\nUSER $PEAK_USER_ID\nRUN true\nVOLUME /data\n',
        {},
      ],
      [
        '--all-stages: a child stage that starts with USER got USER $PEAK_USER_ID on the second run',
        'FROM debian AS a\nFROM a\nUSER root\n',
        { allStages: true },
      ],
      ['an indented VOLUME got its chown inserted after the indentation, not at the line start', 'FROM debian\n  VOLUME /data\n', {}],
    ] as [string, string, Partial<FixOptions>][])('%s', (_name, text, options) => {
      for (const check of allChecks) check({ text, options });
    });
  });

  // ------------------------------------------------------------------------------------------------ examples
}

export function lineEndingSuite(): void {
  describe('line endings, BOM and keyword case', () => {
    const multiStage = [
      '# syntax=docker/dockerfile:1',
      'FROM node:20 AS build',
      'WORKDIR /src',
      'COPY package*.json ./',
      'RUN npm ci \\',
      '    # only production deps',
      '    && npm prune --omit=dev',
      'FROM python:3.11-slim',
      'WORKDIR /app',
      'COPY --from=build /src /app',
      'RUN mkdir -p /data',
      'VOLUME /data',
      'USER 1001',
      'CMD ["python", "app.py"]',
      '',
    ];

    test.each([
      ['safe', false],
      ['safe', true],
      ['peak-doc', false],
      ['peak-doc', true],
    ] as const)('a CRLF file gets no LF-only line break (preset %s, allStages %s)', (preset, allStages) => {
      const input = multiStage.join('\r\n');
      const result = fixDockerfile(input, { preset, allStages });
      expect(result.changed).toBe(true);
      expect(result.output).not.toMatch(/(?<!\r)\n/);
      expect(result.output).not.toMatch(/\r(?!\n)/);
      expect(removeInsertions(result.output, result.edits)).toBe(input);
    });

    test('a BOM stays at offset 0 and is not repeated', () => {
      const input = '\uFEFF' + multiStage.join('\n');
      const result = fixDockerfile(input, { allStages: true });
      expect(result.changed).toBe(true);
      expect(result.output.startsWith('\uFEFF# syntax=docker/dockerfile:1\n')).toBe(true);
      expect(result.output.indexOf('\uFEFF', 1)).toBe(-1);
      for (const edit of result.edits) expect(edit.offset).toBeGreaterThan(0);
    });

    test('a BOM before FROM on the first line stays first', () => {
      const result = fixDockerfile('\uFEFFFROM debian:bookworm-slim\r\nCOPY app /srv/app\r\n');
      expect(result.output.startsWith('\uFEFFFROM debian:bookworm-slim\r\n')).toBe(true);
      expect(result.output.indexOf('\uFEFF', 1)).toBe(-1);
    });

    test('a lower-case file gets lower-case inserted keywords', () => {
      const input = [
        'from python:3.11-slim',
        'workdir /app',
        'copy . .',
        'run mkdir -p /data',
        'volume /data',
        'user 1001',
        'cmd ["python", "app.py"]',
        '',
      ].join('\n');
      for (const preset of ['safe', 'peak-doc'] as const) {
        const result = fixDockerfile(input, { preset, workdir: 'always' });
        expect(result.changed).toBe(true);
        const keywords = result.edits
          .flatMap((e) => e.insert.split(EOL))
          .filter((l) => /^[A-Za-z]/.test(l))
          .map((l) => l.split(' ')[0]);
        expect(keywords.length).toBeGreaterThan(0);
        for (const k of keywords) expect(k).toBe(k.toLowerCase());
        // The flag added to `copy` is the only text inside an original line.
        expect(result.output).toContain('copy --chown=peak-user . .');
      }
    });

    test('an upper-case file gets upper-case inserted keywords', () => {
      const result = fixDockerfile('FROM debian:bookworm-slim\nRUN true\n');
      const keywords = result.edits.flatMap((e) => e.insert.split(EOL)).filter((l) => /^[A-Za-z]/.test(l));
      expect(keywords.length).toBeGreaterThan(0);
      for (const line of keywords) expect(line).toMatch(/^[A-Z]+ /);
    });
  });
}
