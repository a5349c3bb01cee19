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

export async function gatherFacts(targets: readonly Target[], options: RunFactsOptions): Promise<RunFacts> {
  const notices: string[] = [];
  let entries = await readFactsFile(options.factsFile);
  const fromCatalog = catalogLookup(options.catalog);
  const found = await findBuiltImages(options.roots, options.cwd);
  notices.push(...found.problems);
  const stages = await buildStages(found.builds);
  const builtBy = new Map<string, BuiltImage>();
  for (const image of found.images) {
    builtBy.set(key(image.image), { ...image, dockerfile: await realpath(image.dockerfile).catch(() => image.dockerfile) });
  }

  const readModel = async (file: string): Promise<DockerfileModel | null> => {
    try {
      return parseDockerfile((await readDockerfile(file)).text);
    } catch {
      return null; // the run reports it for its own file; here it only has no facts to give
    }
  };
  const models = new Map<string, DockerfileModel | null>();
  const model = async (file: string): Promise<void> => {
    if (!models.has(file)) models.set(file, await readModel(file));
  };
  const rootReferences = (m: DockerfileModel, finalOnly = false): string[] =>
    m.stages
      .filter((s) => s.parent === null && (!finalOnly || s.isFinal))
      .flatMap((s) => {
        try {
          return [resolveImageReference(m, s.from)];
        } catch {
          return [];
        }
      });
  const rootOf = (m: DockerfileModel, name?: string): string | undefined => {
    let stage = (name !== undefined ? m.stages.find((s) => s.name === name.toLowerCase()) : undefined) ?? m.stages[m.stages.length - 1];
    while (stage.parent) stage = stage.parent;
    try {
      return resolveImageReference(m, stage.from);
    } catch {
      return undefined;
    }
  };

  // Parents' models are read up front so the lookup itself stays synchronous, as the engine calls it.
  for (const built of builtBy.values()) await model(built.dockerfile);
  // The files of the run are read twice only when it matters: a repository that builds images others are built
  // FROM, or --inspect-images. Only their base references are kept, not their syntax trees (big batches).
  const targetReferences = new Map<string, string[]>();
  if (builtBy.size > 0 || options.inspect) {
    for (const target of targets) {
      if (target.error || target.skipped) continue;
      const m = models.get(target.realPath) ?? (await readModel(target.realPath));
      if (m) targetReferences.set(target.realPath, rootReferences(m));
    }
  }

  const builtHere = (reference: string, seen: ReadonlySet<string>): ImageFacts | undefined => {
    const built = builtBy.get(key(reference));
    if (!built || seen.has(built.dockerfile)) return undefined;
    const parent = models.get(built.dockerfile);
    // An image that stops at a build stage is migrated when that stage is: the final one, or one every compose and
    // bake build of the file names (buildStages).
    const final = parent?.stages[parent.stages.length - 1];
    const migratedStage =
      built.stage === undefined || final?.name === built.stage.toLowerCase() || stages.get(built.dockerfile)?.includes(built.stage);
    if (!migratedStage) return undefined;
    const parentBase = parent ? rootOf(parent, built.stage) : undefined;
    if (!parentBase) return undefined;
    const next = new Set(seen).add(built.dockerfile);
    const base = resolveBaseImage(parentBase, (r) => lookupWith(r, next));
    const facts = factsOf(base);
    // A Windows base is skipped by the rewrite, so the image it builds is not migrated.
    if (base.family !== 'windows') facts.migrated = true;
    facts.known = true;
    facts.source = { kind: 'repository', ref: `${path.relative(options.cwd, built.dockerfile) || built.dockerfile} (${built.origin})` };
    return facts;
  };
  const lookupWith = (reference: string, seen: ReadonlySet<string>): ImageFacts | undefined =>
    builtHere(reference, seen) ?? factsFileLookup(entries)(reference) ?? fromCatalog(reference);
  const lookup: FactsLookup = (reference) => lookupWith(reference, new Set());

  const buildsBase = new Set<string>();
  const references = new Set<string>();
  for (const target of targets) {
    for (const reference of targetReferences.get(target.realPath) ?? []) {
      references.add(reference);
      const built = builtBy.get(key(reference));
      if (built && built.dockerfile !== target.realPath && builtHere(reference, new Set())?.migrated) buildsBase.add(built.dockerfile);
    }
  }

  if (options.inspect) {
    const unplaced = [...references].filter((r) => lookup(r) === undefined && !resolveBaseImage(r).known).sort();
    const added = await inspectAll(unplaced, options.inspect, notices);
    if (added.length > 0) {
      entries = await writeFactsFile(options.factsFile, entries, added);
      const shown = path.relative(options.cwd, options.factsFile) || options.factsFile;
      notices.push(`inspected ${added.map((a) => `${a.reference} (${a.digest.slice(0, 19)}…)`).join(', ')}: facts written to ${shown}`);
    } else if (unplaced.length === 0) {
      notices.push('--inspect-images: every base image is already known; nothing to inspect');
    }
  }

  return {
    lookup,
    notices,
    inputsFor: (target) => {
      const inputs: EngineInputs = { facts: lookup, buildsBaseImage: buildsBase.has(target.realPath) };
      const named = stages.get(target.realPath);
      if (named) inputs.buildStages = named;
      return inputs;
    },
    builtInOnly: entries.length === 0 && options.catalog.length === 0 && builtBy.size === 0 && stages.size === 0,
  };
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
