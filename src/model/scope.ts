import type { Instruction } from 'dockerfile-ast';
import { argumentsOf, type DockerfileModel, type Stage } from './dockerfile.js';
import { joinPath } from '../facts/paths.js';

/**
 * What Docker substitutes into an instruction's words (ENV, ARG and their defaults, `--arg` values) and the
 * working directory each instruction runs in, per stage and derived once. A stage starts with its parent stage's
 * values and working directory; one built on an image starts with none known (the image's own ENV and WORKDIR
 * are not in the Dockerfile).
 */

/** `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`. */
const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const HAS_VARIABLE = /\$(\{[A-Za-z_]|[A-Za-z_])/;

/** Literal text, or a variable that has no known value (its text kept as written). */
export interface Piece {
  text: string;
  unknown?: string;
}

/** Known values by name: a string, or null for a variable declared without one. */
export type Values = ReadonlyMap<string, string | null>;

/** Substitutes known values into `raw` as Docker does; variables without a value stay as written, marked unknown. */
export function substitute(raw: string, values: Values, depth = 0): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of raw.matchAll(VARIABLE)) {
    const [whole, braced, operator, word, bare] = match;
    const index = match.index ?? 0;
    if (index > last) pieces.push({ text: raw.slice(last, index) });
    last = index + whole.length;
    const name = (braced ?? bare) as string;
    const value = values.get(name);
    const isSet = value !== undefined && value !== null && (operator?.startsWith(':') ? value !== '' : true);
    if (operator?.endsWith('-')) pieces.push({ text: isSet ? (value as string) : (word ?? '') });
    else if (operator?.endsWith('+')) pieces.push({ text: isSet ? (word ?? '') : '' });
    else if (value === undefined || value === null || value === '') pieces.push({ text: whole, unknown: name });
    else if (depth < 8 && HAS_VARIABLE.test(value)) pieces.push(...substitute(value, values, depth + 1));
    else pieces.push({ text: value });
  }
  if (last < raw.length) pieces.push({ text: raw.slice(last) });
  return pieces;
}

/** A shell word as written (`"$DATA_DIR"`): its surrounding double quotes dropped, then expanded as expandWord does. */
export function expandQuoted(raw: string, values: Values): string | null {
  return expandWord(raw.replace(/^"|"$/g, ''), values);
}

/** A word with every variable substituted, or null when one has no known value. */
export function expandWord(raw: string, values: Values): string | null {
  if (!raw.includes('$')) return raw;
  const pieces = substitute(raw, values);
  return pieces.some((p) => p.unknown !== undefined) ? null : pieces.map((p) => p.text).join('');
}

/** The variables a word names (`$JAVA_HOME/lib` names JAVA_HOME). */
export function variableNames(raw: string): string[] {
  return [...raw.matchAll(VARIABLE)].map((m) => (m[1] ?? m[4]) as string);
}

/** The global ARG defaults (before the first FROM), with `--arg` values winning. */
export function globalValues(model: DockerfileModel): Map<string, string | null> {
  const values = new Map<string, string | null>();
  for (const arg of model.ast.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) values.set(property.getName(), property.getValue());
  }
  for (const [name, value] of Object.entries(model.buildArgs ?? {})) values.set(name, value);
  return values;
}

interface Property {
  getName(): string;
  getValue(): string | null;
}

function argProperty(i: Instruction): Property | null {
  return (i as unknown as { getProperty(): Property | null }).getProperty();
}

function envProperties(i: Instruction): Property[] {
  return (i as unknown as { getProperties?: () => Property[] }).getProperties?.() ?? [];
}

export interface StageScope {
  /** Values in force before `stage.instructions[index]` (ENV of the stage and its parents, the stage's ARGs). */
  valuesAt(index: number): Values;
  /** The working directory before `stage.instructions[index]`: absolute and normalised, or null when unknown. */
  workdirAt(index: number): string | null;
  /** The working directory at the end of the stage. */
  finalWorkdir: string | null;
  /** Values at the end of the stage (what a child stage starts with). */
  finalValues: Values;
  /** The directories WORKDIR made before `stage.instructions[index]`, in this stage and the stages it is built on. */
  workdirsMadeAt(index: number): ReadonlySet<string>;
  finalWorkdirsMade: ReadonlySet<string>;
}

const scopes = new WeakMap<Stage, StageScope>();

/** The stage's scope, its parents' first (iteratively: a chain of 20,000 stages must not recurse). */
export function stageScope(model: DockerfileModel, stage: Stage): StageScope {
  const cached = scopes.get(stage);
  if (cached) return cached;
  const pending: Stage[] = [];
  for (let s: Stage | null = stage; s && !scopes.has(s); s = s.parent) pending.push(s);
  const globals = globalValues(model);
  for (const s of pending.reverse()) scopes.set(s, computeScope(s, s.parent ? (scopes.get(s.parent) as StageScope) : null, globals, model));
  return scopes.get(stage) as StageScope;
}

function computeScope(
  stage: Stage,
  parent: StageScope | null,
  globals: ReadonlyMap<string, string | null>,
  model: DockerfileModel,
): StageScope {
  // One snapshot per instruction that changes a value; most instructions share the one before them.
  const snapshots: Values[] = [];
  const workdirs: (string | null)[] = [];
  const madeSnapshots: ReadonlySet<string>[] = [];
  let values: Map<string, string | null> = new Map(parent?.finalValues ?? []);
  let workdir: string | null = parent ? parent.finalWorkdir : null;
  let made: Set<string> = new Set(parent?.finalWorkdirsMade ?? []);
  for (const instruction of stage.instructions) {
    snapshots.push(values);
    workdirs.push(workdir);
    madeSnapshots.push(made);
    const keyword = instruction.getKeyword();
    if (keyword === 'ENV') {
      values = new Map(values);
      for (const p of envProperties(instruction)) values.set(p.getName(), expandValue(p.getValue() ?? '', values));
    } else if (keyword === 'ARG') {
      const p = argProperty(instruction);
      if (p) {
        values = new Map(values);
        const name = p.getName();
        const given = model.buildArgs?.[name];
        const value = given ?? (p.getValue() !== null ? expandValue(p.getValue() as string, values) : (globals.get(name) ?? null));
        values.set(name, value);
      }
    } else if (keyword === 'WORKDIR') {
      const raw = unquote(argumentsOf(instruction)[0]?.getValue() ?? '');
      const expanded = expandWord(raw, values);
      workdir = resolvePath(expanded, workdir);
      if (workdir !== null) made = new Set(made).add(workdir);
    }
  }
  snapshots.push(values);
  workdirs.push(workdir);
  madeSnapshots.push(made);
  return {
    workdirsMadeAt: (index) => madeSnapshots[Math.min(Math.max(index, 0), madeSnapshots.length - 1)],
    finalWorkdirsMade: made,
    valuesAt: (index) => snapshots[Math.min(Math.max(index, 0), snapshots.length - 1)],
    workdirAt: (index) => workdirs[Math.min(Math.max(index, 0), workdirs.length - 1)],
    finalWorkdir: workdir,
    finalValues: values,
  };
}

/** An ENV or ARG value as stored: quotes removed, variables substituted where known, else kept as written. */
function expandValue(raw: string, values: Values): string {
  return substitute(unquote(raw), values)
    .map((p) => p.text)
    .join('');
}

function unquote(text: string): string {
  return text.replace(/^["']|["']$/g, '');
}

/**
 * A path as Docker resolves it against the working directory: absolute and normalised, or null when the path (a
 * variable without a value) or, for a relative one, the working directory is not known.
 */
export function resolvePath(path: string | null, workdir: string | null): string | null {
  if (path === null) return null;
  if (path.startsWith('/')) return normalise(path);
  return workdir === null ? null : normalise(`${workdir}/${path}`);
}

/** `/a//b/./c/../d` is `/a/b/d`: the path Docker uses. */
export function normalise(path: string): string {
  return joinPath('/', path);
}
