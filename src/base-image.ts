import type { FactSource, FactsLookup, ImageFacts } from './facts.js';
import { lookupImage, parseImageRef, type Family, type ResolvedImage } from './images.js';

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

const BUILT_IN: FactSource = { kind: 'built-in', ref: 'src/images.ts' };

/** The family the transforms use, from the facts: the tool set that creates a user decides. */
export function familyOf(facts: ImageFacts): Family {
  if (facts.os === 'windows') return 'windows';
  if (!facts.shell || facts.userCreation === 'none') return 'distroless';
  if (facts.userCreation === 'busybox') return 'alpine';
  if (facts.userCreation === 'useradd') return 'debian';
  return 'unknown';
}

export function fromFacts(facts: ImageFacts, repository: string): BaseImage {
  const image: BaseImage = {
    family: familyOf(facts),
    known: facts.known,
    repository,
    source: facts.source,
    migrated: facts.migrated === true,
  };
  // A migrated base runs as the UID, but the child is handed back to root right after its FROM (user-block),
  // so its own steps see the user they saw before the base was migrated: root.
  const user = facts.defaultUser;
  if (!image.migrated && user && (user.name !== undefined || user.uid !== undefined)) {
    const value = user.name ?? String(user.uid);
    if (value !== 'root' && value !== '0') image.defaultUser = value;
  }
  if (facts.takenUids.length > 0) image.takenUids = [...facts.takenUids];
  return image;
}

/** Facts from the CLI first (`lookup`), then the built-in catalog. */
export function resolveBaseImage(reference: string, lookup?: FactsLookup): BaseImage {
  const facts = lookup?.(reference);
  if (facts) return fromFacts(facts, parseImageRef(reference).repository);
  return { ...lookupImage(reference), source: BUILT_IN, migrated: false };
}

/** `built-in`, `config .peak-fix.json images["corp/*"]`, `inspected sha256:…`: how a finding names a source. */
export function describeSource(source: FactSource): string {
  if (source.kind === 'built-in') return 'built-in';
  return `${source.kind} ${source.ref}`;
}

const CREATION: Record<Family, ImageFacts['userCreation']> = {
  debian: 'useradd',
  rhel: 'useradd',
  alpine: 'busybox',
  distroless: 'none',
  windows: 'none',
  unknown: 'unknown',
};

/** The other way round, for an image built FROM another one in the same repository: its base's facts. */
export function factsOf(image: BaseImage): ImageFacts {
  const facts: ImageFacts = {
    os: image.family === 'windows' ? 'windows' : 'linux',
    shell: image.family !== 'distroless' && image.family !== 'windows',
    userCreation: CREATION[image.family],
    takenUids: [...(image.takenUids ?? [])],
    known: image.known,
    source: image.source,
  };
  if (image.defaultUser !== undefined) {
    facts.defaultUser = /^\d+$/.test(image.defaultUser) ? { uid: Number(image.defaultUser) } : { name: image.defaultUser };
  }
  return facts;
}
