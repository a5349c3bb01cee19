import type { FactSource, FactsLookup, ImageFacts } from './facts.js';
import { builtInFacts, resolvedImage, unknownFacts, type Family, type ResolvedImage } from './images.js';

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
