import type { FactSource, FactsLookup, ImageFacts } from './types.js';
import { builtInCatalogFacts, KINDS, type Family } from './builtin.js';
import { parseReference } from './reference.js';

export type { Family };

/**
 * The built-in catalog as callers of 1.0 see it (`lookupImage`, `ResolvedImage`), and shared questions about facts.
 * The catalog itself is data under src/facts/catalog/, looked up by src/facts/builtin.ts.
 */

/** What the callers of 1.0 read (`plan.base.image.family/known/defaultUser/takenUids`), plus the facts. */
export interface ResolvedImage {
  family: Family;
  /** True when the image is in the catalog (or given by the organisation/inspection), not a guess. */
  known: boolean;
  /** User in force when the image starts, as its Dockerfile's USER writes it; undefined means root. */
  defaultUser?: string;
  takenUids?: number[];
  /** The repository path without registry and tag, e.g. `library/node` becomes `node`. */
  repository: string;
  facts: ImageFacts;
}

/**
 * Facts of the built-in catalog for a reference (ARG values already substituted), or undefined when the catalog
 * does not know the image. `tagKnown: false` (the tag was a variable) decides by the repository alone.
 */
export function builtInFacts(ref: string, tagKnown = true): ImageFacts | undefined {
  return builtInCatalogFacts(ref, tagKnown);
}

/** Facts of an image nothing knows: Linux with a shell, user tools unknown, root. */
export function unknownFacts(): ImageFacts {
  const kind = KINDS.unknown;
  return {
    os: kind.os,
    shell: kind.shell,
    userCreation: kind.userCreation,
    find: kind.find,
    family: kind.family,
    takenUids: [],
    known: false,
    source: { kind: 'guess', ref: 'not in the catalog' },
  };
}

/** The USER value the image's Dockerfile ends with, as the transforms write it back (`USER memcache`, `USER 1001`). */
export function defaultUserValue(facts: ImageFacts): string | undefined {
  const user = facts.defaultUser;
  if (!user) return undefined;
  return user.name ?? (user.uid !== undefined ? String(user.uid) : undefined);
}

/** The 1.0 view of a set of facts, for callers that still read `family`. */
export function resolvedImage(ref: string, facts: ImageFacts): ResolvedImage {
  const image: ResolvedImage = { family: familyOf(facts), known: facts.known, repository: parseReference(ref).repository, facts };
  const user = defaultUserValue(facts);
  if (user !== undefined) image.defaultUser = user;
  if (facts.takenUids.length > 0) image.takenUids = facts.takenUids;
  return image;
}

/** Built-in catalog lookup in the 1.0 shape (tests and callers of 1.0). */
export function lookupImage(ref: string): ResolvedImage {
  return resolvedImage(ref, builtInFacts(ref) ?? unknownFacts());
}

/** Shared questions about facts, so transforms ask the facts and never compare families. */
export const can = {
  /** RUN instructions can run. */
  run: (facts: ImageFacts): boolean => facts.os === 'linux' && facts.shell,
  /** Names resolve in --chown and USER only where /etc/passwd can get the user. */
  useNames: (facts: ImageFacts): boolean => facts.os === 'linux' && facts.shell,
  /**
   * Docker takes HOME from the image's ENV HOME, else from the first passwd entry of the UID: where the UID may be
   * shared (the base owns UIDs, or nothing is known of it) or the base has a home of its own user (it sets HOME),
   * HOME must be set.
   */
  needHomeEnv: (facts: ImageFacts): boolean => can.shareUid(facts) || facts.home !== undefined || !facts.known,
  /** The image's own users hold UIDs PEAK_USER_ID may be, known or not: the new user must be able to share one. */
  shareUid: (facts: ImageFacts): boolean => facts.takenUids.length > 0 || facts.unnamedUidsTaken === true,
  /** The user joins the group the image gives its program's directories to (useradd -G; other tools are not relied on). */
  joinWriterGroup: (facts: ImageFacts): boolean => facts.writerGroup !== undefined && facts.userCreation === 'useradd',
};

/**
 * The one adapter between the facts the CLI gathers (`ImageFacts`: the organisation's catalog, the facts file,
 * `--inspect-images`, images built in the same run) and the shape the model and transforms use today
 * (`ResolvedImage`: a family, a default user, taken UIDs). The facts handed in by the CLI win; the built-in
 * catalog is the fallback. Kept in one small module so the catalog rewrite can replace the fallback alone.
 */
export interface BaseImage extends ResolvedImage {
  /** Where the facts were read, so a finding can name it. */
  source: FactSource;
  /** The base was itself migrated (it ends as the UID): a child must switch back to root for its own steps. */
  migrated: boolean;
}

/**
 * The family reports and pull-request texts name (one mapping for every source of facts): the catalog's own where
 * it says, else what creates the user decides.
 */
export function familyOf(facts: ImageFacts): Family {
  if (facts.os === 'windows') return 'windows';
  if (!facts.shell || facts.userCreation === 'none') return 'distroless';
  if (facts.family) return facts.family;
  if (facts.userCreation === 'busybox') return 'alpine';
  if (facts.userCreation === 'passwd-file') return 'rhel';
  if (facts.userCreation === 'useradd') return 'debian';
  return 'unknown';
}

/** The model's view of a set of facts, with where they came from. */
export function toBaseImage(reference: string, facts: ImageFacts): BaseImage {
  const image: BaseImage = { ...resolvedImage(reference, facts), source: facts.source, migrated: facts.migrated === true };
  // A migrated base runs as the UID, but the child is handed back to root right after its FROM (user-block),
  // so its own steps see the user they saw before the base was migrated: root.
  if (image.migrated) delete image.defaultUser;
  return image;
}

/** Facts from the CLI first (`lookup`), then the built-in catalog. */
export function resolveBaseImage(reference: string, lookup?: FactsLookup): BaseImage {
  return toBaseImage(reference, lookup?.(reference) ?? builtInFacts(reference) ?? unknownFacts());
}

/** `built-in`, `config .peak-fix.json images["corp/*"]`, `inspected sha256:…`: how a finding names a source. */
export function describeSource(source: FactSource): string {
  if (source.kind === 'built-in') return 'built-in';
  return `${source.kind} ${source.ref}`;
}

/** The other way round, for an image built FROM another one in the same repository: its base's facts. */
export function factsOf(image: BaseImage): ImageFacts {
  return { ...image.facts, takenUids: [...image.facts.takenUids], source: image.source };
}
