import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { factsOf, resolveBaseImage } from '../facts/image.js';
import { findBuiltImages, type BuiltImage } from './built-images.js';
import { catalogLookup, type CatalogEntry } from '../facts/organisation.js';
import type { Target } from '../runner/discover.js';
import type { DockerEngine } from './docker-engine.js';
import type { FactsLookup, ImageFacts } from '../facts/types.js';
import { factsFileLookup, readFactsFile, writeFactsFile } from './facts-file.js';
import { referenceKey } from '../facts/reference.js';
import { engineVersion, inspectImage, InspectError, type InspectedImage } from './inspect.js';
import { readDockerfile } from '../runner/io.js';
import { parseDockerfile, type DockerfileModel } from '../model/dockerfile.js';
import { resolveImageReference } from '../model/base.js';
import type { EngineInputs } from '../types.js';

/**
 * Gathers, before a run, the facts the engine gets about base images (the CLI's side of "facts flow in"):
 * images built by the same repository (compose, bake) first, then the facts file for the exact image, then the
 * organisation's catalog; the engine falls back to its built-in table. With `inspect`, every base none of those
 * place is inspected on the fly and added to the facts file.
 */
export interface RunFactsOptions {
  cwd: string;
  /** Directories searched for compose and bake files. */
  roots: readonly string[];
  catalog: readonly CatalogEntry[];
  /** Path of the facts file (read, and written by `inspect`). */
  factsFile: string;
  /** `--inspect-images`: the engine and the names that tell a migrated image. */
  inspect?: { docker: DockerEngine; user: string; uidArg: string; now?: () => Date };
}

export interface RunFacts {
  inputsFor(target: Target): EngineInputs;
  /**
   * Nothing but the built-in catalog applies (no facts file, no catalog, no images built here): the facts are the
   * engine's own, so files can go to worker threads, which cannot be sent a lookup function.
   */
  builtInOnly: boolean;
  lookup: FactsLookup;
  notices: string[];
}

const key = (reference: string): string => {
  const { repository, tag } = referenceKey(reference);
  return `${repository}:${tag}`;
};

/** The image this repository builds for a reference: by its tag, else by its repository when one file builds it. */
function builtImage(builds: Builds, reference: string): BuiltImage | undefined {
  return builds.builtBy.get(key(reference)) ?? builds.byRepository.get(referenceKey(reference).repository) ?? undefined;
}

export async function gatherFacts(targets: readonly Target[], options: RunFactsOptions): Promise<RunFacts> {
  const notices: string[] = [];
  const factsFile = { entries: await readFactsFile(options.factsFile) };
  const fromCatalog = catalogLookup(options.catalog);
  const builds = await readBuilds(options, notices);
  const { builtBy, stages } = builds;
  // Parents' models are read up front so the lookup itself stays synchronous, as the engine calls it.
  const models = new Map<string, DockerfileModel | null>();
  for (const built of builtBy.values()) if (!models.has(built.dockerfile)) models.set(built.dockerfile, await readModel(built.dockerfile));
  const sources: LookupSources = { builds, models, factsFile, fromCatalog, cwd: options.cwd };
  const lookup: FactsLookup = (reference) => lookupWith(sources, reference, new Set());
  // The files of the run are read twice only when it matters: a repository that builds images others are built
  // FROM, or --inspect-images.
  const targetReferences = builtBy.size > 0 || options.inspect ? await baseReferences(targets, models) : new Map<string, string[]>();
  const { references, buildsBase } = baseUses(targets, targetReferences, sources);
  if (options.inspect) await inspectUnplaced(references, lookup, options, options.inspect, factsFile, notices);

  return {
    lookup,
    notices,
    inputsFor: (target) => {
      const inputs: EngineInputs = { facts: lookup, buildsBaseImage: buildsBase.has(target.realPath) };
      const named = stages.get(target.realPath);
      if (named) inputs.buildStages = named;
      return inputs;
    },
    builtInOnly: factsFile.entries.length === 0 && options.catalog.length === 0 && builtBy.size === 0 && stages.size === 0,
  };
}

/** The images compose and bake build here, by reference (`repository:tag`), and the stages they build of each file. */
interface Builds {
  builtBy: Map<string, BuiltImage>;
  /** By repository, where one Dockerfile builds it (null where several do). */
  byRepository: Map<string, BuiltImage | null>;
  stages: Map<string, string[]>;
}

async function readBuilds(options: RunFactsOptions, notices: string[]): Promise<Builds> {
  const found = await findBuiltImages(options.roots, options.cwd);
  notices.push(...found.problems);
  const stages = await buildStages(found.builds);
  const builtBy = new Map<string, BuiltImage>();
  const byRepository = new Map<string, BuiltImage | null>();
  for (const image of found.images) {
    const built = { ...image, dockerfile: await realpath(image.dockerfile).catch(() => image.dockerfile) };
    builtBy.set(key(image.image), built);
    const repository = referenceKey(image.image).repository;
    const seen = byRepository.get(repository);
    // One Dockerfile builds the repository: any tag of it is that file's (a Makefile's `:$(TAG)`, an older tag).
    byRepository.set(repository, seen === undefined || seen?.dockerfile === built.dockerfile ? built : null);
  }
  return { builtBy, byRepository, stages };
}

async function readModel(file: string): Promise<DockerfileModel | null> {
  try {
    return parseDockerfile((await readDockerfile(file)).text);
  } catch {
    return null; // the run reports it for its own file; here it only has no facts to give
  }
}

/** The base references of the run's files, by real path: only those, not their syntax trees (big batches). */
async function baseReferences(
  targets: readonly Target[],
  models: ReadonlyMap<string, DockerfileModel | null>,
): Promise<Map<string, string[]>> {
  const references = new Map<string, string[]>();
  for (const target of targets) {
    if (target.error || target.skipped) continue;
    const m = models.get(target.realPath) ?? (await readModel(target.realPath));
    if (m) references.set(target.realPath, rootReferences(m));
  }
  return references;
}

/** The references the root stages of a file are built on (those that resolve). */
function rootReferences(m: DockerfileModel): string[] {
  return m.stages
    .filter((s) => s.parent === null)
    .flatMap((s) => {
      try {
        return [resolveImageReference(m, s.from)];
      } catch {
        return [];
      }
    });
}

/** The reference at the root of the FROM chain of a stage (`name`, else the last one), or undefined. */
function rootOf(m: DockerfileModel, name?: string): string | undefined {
  let stage = (name !== undefined ? m.stages.find((s) => s.name === name.toLowerCase()) : undefined) ?? m.stages[m.stages.length - 1];
  while (stage.parent) stage = stage.parent;
  try {
    return resolveImageReference(m, stage.from);
  } catch {
    return undefined;
  }
}

/** Where the facts of a run come from, first to last. */
interface LookupSources {
  builds: Builds;
  /** The Dockerfiles of the images built here, by real path. */
  models: ReadonlyMap<string, DockerfileModel | null>;
  /** The facts file's entries: `--inspect-images` adds to them during the run. */
  factsFile: { entries: InspectedImage[] };
  fromCatalog: FactsLookup;
  cwd: string;
}

/** `seen`: the Dockerfiles already followed, so that two files built on each other end the chain. */
function lookupWith(sources: LookupSources, reference: string, seen: ReadonlySet<string>): ImageFacts | undefined {
  return builtHere(sources, reference, seen) ?? factsFileLookup(sources.factsFile.entries)(reference) ?? sources.fromCatalog(reference);
}

/** The facts of an image built by this repository: its own base's, migrated when the stage it stops at is. */
function builtHere(sources: LookupSources, reference: string, seen: ReadonlySet<string>): ImageFacts | undefined {
  const { stages } = sources.builds;
  const built = builtImage(sources.builds, reference);
  if (!built || seen.has(built.dockerfile)) return undefined;
  const parent = sources.models.get(built.dockerfile);
  // An image that stops at a build stage is migrated when that stage is: the final one, or one every compose and
  // bake build of the file names (buildStages).
  const final = parent?.stages[parent.stages.length - 1];
  const migratedStage =
    built.stage === undefined || final?.name === built.stage.toLowerCase() || stages.get(built.dockerfile)?.includes(built.stage);
  if (!migratedStage) return undefined;
  const parentBase = parent ? rootOf(parent, built.stage) : undefined;
  if (!parentBase) return undefined;
  const next = new Set(seen).add(built.dockerfile);
  const base = resolveBaseImage(parentBase, (r) => lookupWith(sources, r, next));
  const facts = factsOf(base);
  // A Windows base is skipped by the rewrite, so the image it builds is not migrated.
  if (base.family !== 'windows') facts.migrated = true;
  facts.known = true;
  facts.source = { kind: 'repository', ref: `${path.relative(sources.cwd, built.dockerfile) || built.dockerfile} (${built.origin})` };
  return facts;
}

/**
 * Every base reference of the run, and the run's files that build an image another file of the run is built on
 * (migrated): those end as the base their children expect.
 */
function baseUses(
  targets: readonly Target[],
  targetReferences: ReadonlyMap<string, string[]>,
  sources: LookupSources,
): { references: Set<string>; buildsBase: Set<string> } {
  const buildsBase = new Set<string>();
  const references = new Set<string>();
  for (const target of targets) {
    for (const reference of targetReferences.get(target.realPath) ?? []) {
      references.add(reference);
      const built = builtImage(sources.builds, reference);
      if (built && built.dockerfile !== target.realPath && builtHere(sources, reference, new Set())?.migrated)
        buildsBase.add(built.dockerfile);
    }
  }
  return { references, buildsBase };
}

/** `--inspect-images`: inspects the bases nothing places and adds them to the facts file. */
async function inspectUnplaced(
  references: ReadonlySet<string>,
  lookup: FactsLookup,
  options: RunFactsOptions,
  inspect: NonNullable<RunFactsOptions['inspect']>,
  factsFile: { entries: InspectedImage[] },
  notices: string[],
): Promise<void> {
  const unplaced = [...references].filter((r) => lookup(r) === undefined && !resolveBaseImage(r).known).sort();
  const added = await inspectAll(unplaced, inspect, notices);
  if (added.length > 0) {
    factsFile.entries = await writeFactsFile(options.factsFile, factsFile.entries, added);
    const shown = path.relative(options.cwd, options.factsFile) || options.factsFile;
    notices.push(`inspected ${added.map((a) => `${a.reference} (${a.digest.slice(0, 19)}…)`).join(', ')}: facts written to ${shown}`);
  } else if (unplaced.length === 0) {
    notices.push('--inspect-images: every base image is already known; nothing to inspect');
  }
}

/**
 * The stages compose and bake build from each Dockerfile, by its real path, when every build of it names a target:
 * a Dockerfile also built whole (no target) keeps its final stage as the one migrated.
 */
async function buildStages(builds: readonly BuiltImage[]): Promise<Map<string, string[]>> {
  const byFile = new Map<string, (string | undefined)[]>();
  for (const build of builds) {
    const file = await realpath(build.dockerfile).catch(() => build.dockerfile);
    byFile.set(file, [...(byFile.get(file) ?? []), build.stage]);
  }
  const stages = new Map<string, string[]>();
  for (const [file, named] of byFile) {
    if (named.every((s) => s !== undefined)) stages.set(file, [...new Set(named as string[])].sort());
  }
  return stages;
}

async function inspectAll(
  references: string[],
  inspect: NonNullable<RunFactsOptions['inspect']>,
  notices: string[],
): Promise<InspectedImage[]> {
  if (references.length === 0) return [];
  let engine: string;
  try {
    engine = await engineVersion(inspect.docker);
  } catch (error) {
    // Said once; the run goes on with what the catalogs know.
    notices.push(`--inspect-images: ${(error as Error).message}; going on without inspecting ${references.join(', ')}`);
    return [];
  }
  const added: InspectedImage[] = [];
  for (const reference of references) {
    try {
      added.push(await inspectImage(inspect.docker, reference, { engine, user: inspect.user, uidArg: inspect.uidArg, now: inspect.now }));
    } catch (error) {
      if (!(error instanceof InspectError)) throw error;
      notices.push(`--inspect-images: ${error.message}`);
    }
  }
  return added;
}
