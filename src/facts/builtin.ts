import type { ImageFacts, UserCreation } from './types.js';
import {
  catalogFiles,
  type CatalogFile,
  type CatalogKind,
  type CatalogParticulars,
  type CatalogRow,
  type CatalogSource,
  type CatalogVariant,
} from './catalog/index.js';
import { parseReference, repositoryOnAnyRegistry } from './reference.js';

/**
 * The built-in catalog: what is known of public base images, read from the data files under src/facts/catalog/
 * (generated from the official images' own Dockerfiles by `npm run catalog:update`, or written by hand from the
 * vendors' Dockerfiles and documentation), every row with its source. This module only looks them up.
 */

/** What a kind of base can do. `family` is the name reports and pull-request texts use. */
interface Kind {
  os: 'linux' | 'windows';
  shell: boolean;
  userCreation: UserCreation;
  /** `find` is there (see ImageFacts.find). */
  find: boolean;
  family: Family;
}

export type Family = 'debian' | 'rhel' | 'alpine' | 'distroless' | 'windows' | 'unknown';

/**
 * The kinds of base, one row each; the catalog's rows name one (`CatalogKind`, the schema's `kind`). Adding one: a row
 * here, its name in `CatalogKind` and the schema, and, if it creates users differently, a branch in
 * src/rewrite/recipe.ts; __tests__/kinds.test.ts fails until it has its recipe, pull-request text and docs row.
 */
export const KINDS = {
  /** Debian, Ubuntu: shadow's useradd. */
  debian: { os: 'linux', shell: true, userCreation: 'useradd', find: true, family: 'debian' },
  /** The Red Hat family with shadow-utils' useradd; findutils is not a given (rows say where it is). */
  rhel: { os: 'linux', shell: true, userCreation: 'useradd', find: false, family: 'rhel' },
  /** ubi-minimal and the like: a shell and microdnf, no shadow-utils, no findutils. */
  'rhel-minimal': { os: 'linux', shell: true, userCreation: 'passwd-file', find: false, family: 'rhel' },
  /** Alpine, busybox: busybox adduser (no -o, refuses a taken UID) and busybox find. */
  alpine: { os: 'linux', shell: true, userCreation: 'busybox', find: true, family: 'alpine' },
  /** distroless, scratch, chiseled: no /bin/sh at all. */
  distroless: { os: 'linux', shell: false, userCreation: 'none', find: false, family: 'distroless' },
  /** Windows: Linux user management does not apply. */
  windows: { os: 'windows', shell: false, userCreation: 'none', find: false, family: 'windows' },
  /** Linux with a shell and nothing else known. */
  unknown: { os: 'linux', shell: true, userCreation: 'unknown', find: false, family: 'unknown' },
} as const satisfies Record<CatalogKind, Kind>;

export type KindName = keyof typeof KINDS;

/** A source as a link a reviewer can open. */
export function sourceUrl(source: CatalogSource): string {
  if ('url' in source) return source.url;
  const line = source.line ? `#L${source.line}` : '';
  return `https://github.com/${source.repo}/blob/${source.commit ?? 'HEAD'}/${source.path}${line}`;
}

interface CompiledRow {
  row: CatalogRow;
  tags: { rule: NonNullable<CatalogRow['tags']>[number]; test: RegExp }[];
}

interface CompiledVariant {
  variant: CatalogVariant;
  tag?: RegExp;
  repository?: RegExp;
}

/** The rows indexed for lookup: exact names, then prefixes longest first. */
class Catalog {
  private readonly exact = new Map<string, CompiledRow>();
  private readonly prefixes: { prefix: string; row: CompiledRow }[] = [];
  private readonly variants: CompiledVariant[] = [];

  constructor(files: readonly CatalogFile[]) {
    for (const file of files) {
      for (const row of file.rows ?? []) {
        const compiled = { row, tags: (row.tags ?? []).map((rule) => ({ rule, test: new RegExp(rule.tag) })) };
        for (const name of row.match) {
          if (name.endsWith('/')) this.prefixes.push({ prefix: name, row: compiled });
          else if (!this.exact.has(name)) this.exact.set(name, compiled);
        }
      }
      for (const variant of file.variants ?? []) {
        this.variants.push({
          variant,
          ...(variant.tag !== undefined ? { tag: new RegExp(variant.tag) } : {}),
          ...(variant.repository !== undefined ? { repository: new RegExp(variant.repository) } : {}),
        });
      }
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  rowFor(repository: string): CompiledRow | undefined {
    const excluded = (row: CatalogRow) =>
      (row.except ?? []).some((e) => (e.endsWith('/') ? repository.startsWith(e) : repository === e || repository.endsWith(e)));
    const exact = this.exact.get(repository);
    if (exact && !excluded(exact.row)) return exact;
    return this.prefixes.find((p) => repository.startsWith(p.prefix) && !excluded(p.row.row))?.row;
  }

  /** Facts for a reference, or undefined when no row and no variant rule knows it. */
  lookup(reference: string, tagKnown: boolean): ImageFacts | undefined {
    const ref = parseReference(reference);
    const local = repositoryOnAnyRegistry(ref);
    const found = this.rowFor(ref.repository) ?? (local !== undefined ? this.rowFor(local) : undefined);
    const repository = ref.repository;
    const tag = tagKnown ? ref.tag.toLowerCase() : undefined;
    const variant = (noShell: boolean) =>
      tag === undefined
        ? undefined
        : this.variants.find((v) => v.tag !== undefined && v.tag.test(tag) && (v.variant.noShell === true) === noShell)?.variant;
    const shellLess = variant(true);
    if (found) {
      const rule = tag === undefined ? undefined : found.tags.find((t) => t.test.test(tag))?.rule;
      // A tag naming a variant without a shell has none, unless the repository's own rule knows that variant.
      if (shellLess && !(rule && rule.tag.includes(shellLess.tag ?? '\0'))) return facts(shellLess, found.row);
      // A repository's own tag rule says everything of those tags: the generator writes it so (a rule without
      // users is an image without them, like .NET before 8 or mssql 2017), and so do the vendors' files.
      if (rule) return facts(rule);
      const other = variant(false);
      // A tag that names another base (`-alpine`) decides the kind; the image's own users stay.
      if (other && other.kind !== found.row.kind) return facts(other, found.row);
      return facts(found.row);
    }
    const byTag = shellLess ?? variant(false);
    if (byTag) return facts(byTag);
    const byName = this.variants.find((v) => v.repository?.test(repository));
    return byName ? facts(byName.variant) : undefined;
  }
}

/**
 * The facts of a row, rule or variant. A variant rule (`-alpine` on any image) keeps the row's users (the image
 * creates them whatever its base) unless it says more; a Windows image has no Linux users.
 */
function facts(chosen: CatalogParticulars & { kind: KindName; source: CatalogSource }, row?: CatalogRow): ImageFacts {
  const kind = KINDS[chosen.kind];
  const ownUsers = chosen.user !== undefined || chosen.takenUids !== undefined || chosen.takenNames !== undefined;
  const users: CatalogParticulars = chosen.kind === 'windows' ? {} : ownUsers || !row ? chosen : row;
  const result: ImageFacts = {
    os: kind.os,
    shell: kind.shell,
    userCreation: kind.userCreation,
    find: chosen.find ?? kind.find,
    family: kind.family,
    takenUids: [...(users.takenUids ?? [])],
    // In the catalog, even where its user tools are not known (kind unknown): its users are.
    known: true,
    source: { kind: 'built-in', ref: sourceUrl(chosen.source) },
  };
  if (chosen.devContainer ?? row?.devContainer) result.devContainer = true;
  const writerGroup = users.writerGroup;
  if (writerGroup) result.writerGroup = { ...writerGroup };
  if (users.user) result.defaultUser = { ...users.user };
  if (users.takenNames) result.takenNames = [...users.takenNames];
  // A catalog row names the users the image creates; one with no UID of its own got whatever was free.
  if ((users.takenNames?.length ?? 0) > (users.takenUids?.length ?? 0)) result.unnamedUidsTaken = true;
  if (users.home && users.user) result.home = users.home;
  return result;
}

let catalog: Catalog | undefined;

/**
 * Facts of the built-in catalog for a reference (ARG values already substituted), or undefined when the catalog
 * does not know the image. `tagKnown: false` (the tag was a variable) decides by the repository alone.
 */
export function builtInCatalogFacts(reference: string, tagKnown = true): ImageFacts | undefined {
  catalog ??= new Catalog(catalogFiles());
  return catalog.lookup(reference, tagKnown);
}
