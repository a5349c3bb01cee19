import type { From } from 'dockerfile-ast';
import type { ImageFacts } from '../facts/types.js';
import { builtInFacts, toBaseImage, unknownFacts, type BaseImage } from '../facts/image.js';
import { argumentsOf, argumentsText, userValue, type DockerfileModel, type Stage } from './dockerfile.js';
import { globalValues, substitute } from './scope.js';

/**
 * Which image a stage is really built on, and what is known about it.
 *
 * A FROM's variables take their values from `--arg NAME=VALUE` first, then from the ARG defaults before the first
 * FROM. What stays unknown is resolved where the file itself says enough: `FROM base-$TARGETARCH` against the
 * stages it can name (used when those candidates agree), `FROM php:${PHP_VERSION}-alpine` by its repository and
 * the literal part of its tag. A base that still cannot be known is `unresolved`: the engine skips the file.
 */

export interface StageBase {
  /** The image at the root of the stage's FROM chain, in the 1.0 shape (`family`...) with its facts. */
  image: BaseImage;
  /** Its reference with the variables that have values substituted. */
  reference: string;
  facts: ImageFacts;
  /** The variables that left the base unknown; set only when it is. */
  unresolved?: string[];
}

/** Substitutes `--arg` values and the global ARG defaults into a FROM's image; unknown variables stay as written. */
export function resolveImageReference(model: DockerfileModel, from: From): string {
  return substitute(from.getImage() ?? '', globalValues(model))
    .map((p) => p.text)
    .join('');
}

function factsFor(model: DockerfileModel, reference: string, tagKnown = true): ImageFacts {
  return model.facts?.(reference) ?? builtInFacts(reference, tagKnown) ?? unknownFacts();
}

function known(reference: string, facts: ImageFacts): StageBase {
  return { image: toBaseImage(reference, facts), reference, facts };
}

const cache = new WeakMap<Stage, StageBase>();

/**
 * Follows `FROM <earlier stage>` to the image the stage is really built on. Where a FROM names earlier stages through
 * a variable (`base-$TARGETARCH`) and they agree, the stage's `parent` becomes the first of them.
 */
export function stageBase(model: DockerfileModel, stage: Stage): StageBase {
  const cached = cache.get(stage);
  if (cached) return cached;
  // Up the chain to a stage already known (or the root), then every stage on the way gets its answer: a chain of
  // 20,000 stages costs linear time.
  const pending: Stage[] = [];
  let root = stage;
  while (root.parent && !cache.has(root)) {
    pending.push(root);
    root = root.parent;
  }
  let base = cache.get(root);
  if (!base) {
    base = resolveRoot(model, root);
    cache.set(root, base);
  }
  for (const s of pending) cache.set(s, base);
  return base;
}

/**
 * The image a root stage is built on. A tag that names no platform (`python:3.11.9`) is a list of images, Windows
 * ones among them: a stage whose own SHELL is Windows PowerShell or cmd, or whose WORKDIR is a drive (`C:\app`), is
 * built on the Windows one.
 */
function resolveRoot(model: DockerfileModel, stage: Stage): StageBase {
  const base = resolveReference(model, stage);
  if (base.unresolved || base.facts.os === 'windows' || !writtenForWindows(model, stage)) return base;
  return known(base.reference, { ...base.facts, os: 'windows' });
}

// Windows PowerShell and cmd exist only on Windows (PowerShell on Linux is `pwsh`).
const WINDOWS_SHELL = /^(?:.*[\\/])?(?:powershell|cmd)(?:\.exe)?$/i;
const DRIVE_PATH = /^["']?[A-Za-z]:[\\/]/;

function writtenForWindows(model: DockerfileModel, stage: Stage): boolean {
  return stage.instructions.some((i) => {
    const keyword = i.getKeyword();
    if (keyword === 'WORKDIR') return DRIVE_PATH.test(argumentsOf(i)[0]?.getValue() ?? '');
    if (keyword !== 'SHELL') return false;
    const shell = /^\[\s*"([^"]*)"/.exec(argumentsText(model, i))?.[1] ?? '';
    return WINDOWS_SHELL.test(shell.replace(/\\\\/g, '\\'));
  });
}

function resolveReference(model: DockerfileModel, stage: Stage): StageBase {
  // Variable names are case-sensitive: only the literal text is compared in lower case.
  const raw = stage.from.getImage() ?? '';
  const pieces = substitute(raw, globalValues(model));
  const unknownNames = pieces.filter((p) => p.unknown !== undefined).map((p) => p.unknown as string);
  const reference = pieces.map((p) => p.text).join('');
  if (unknownNames.length === 0) {
    // `ARG ROOT_IMAGE=base` then `FROM $ROOT_IMAGE`: the value names an earlier stage, as BuildKit reads it.
    const named = model.stages.slice(0, stage.index).find((s) => s.name !== null && s.name === reference.toLowerCase());
    if (!named) return known(reference, factsFor(model, reference));
    stage.parent = named;
    return stageBase(model, named);
  }

  // FROM base-$TARGETARCH: the earlier stages the pattern can name. A pattern with no literal text names anything.
  if (pieces.some((p) => p.unknown === undefined && p.text !== '')) {
    const pattern = new RegExp(
      `^${pieces.map((p) => (p.unknown === undefined ? escapeRegExp(p.text.toLowerCase()) : '[a-z0-9._-]+')).join('')}$`,
    );
    const candidates = model.stages.slice(0, stage.index).filter((s) => s.name !== null && pattern.test(s.name));
    if (candidates.length > 0) {
      const bases = candidates.map((c) => stageBase(model, c));
      if (bases.every((b) => !b.unresolved && sameFacts(b.facts, bases[0].facts))) {
        stage.parent = candidates[0];
        return bases[0];
      }
    }
  }

  // A variable only in the tag: the repository decides, with what the tag says literally (`${V}-alpine`).
  const at = raw.indexOf('@');
  const name = at >= 0 ? raw.slice(0, at) : raw;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    const repositoryPart = substitute(name.slice(0, colon), globalValues(model));
    if (repositoryPart.every((p) => p.unknown === undefined)) {
      const tagLiteral = substitute(name.slice(colon + 1), globalValues(model))
        .map((p) => (p.unknown === undefined ? p.text : ''))
        .join('');
      const repository = repositoryPart.map((p) => p.text).join('');
      // A repository not in the catalog is an unknown base, like any other: the portable line works on it.
      return known(reference, factsFor(model, `${repository}:${tagLiteral}`, tagLiteral !== ''));
    }
  }
  return { ...known(reference, unknownFacts()), unresolved: [...new Set(unknownNames)] };
}

/** Two bases allow the same rewrite. */
function sameFacts(a: ImageFacts, b: ImageFacts): boolean {
  return (
    a.os === b.os &&
    a.shell === b.shell &&
    a.userCreation === b.userCreation &&
    a.defaultUser?.name === b.defaultUser?.name &&
    a.defaultUser?.uid === b.defaultUser?.uid &&
    a.takenUids.join() === b.takenUids.join() &&
    a.unnamedUidsTaken === b.unnamedUidsTaken
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolves every stage's base once, so `parent` links made from stage-name candidates exist before anything reads them. */
export function resolveBases(model: DockerfileModel): void {
  for (const stage of model.stages) stageBase(model, stage);
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
