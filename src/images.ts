import type { ImageFacts, UserCreation } from './facts.js';
import { builtInCatalogFacts } from './facts/builtin.js';
import { parseReference } from './facts/reference.js';
import { familyOf } from './base-image.js';

/**
 * The built-in catalog of base images, as facts with the source each was read from.
 *
 * Two tables of data and no comparisons elsewhere: KINDS says what each kind of base can do (OS, shell, how a
 * user is created), CATALOG names images, their kind and what is particular to them (default user, UIDs already
 * taken), each with the URL of the published Dockerfile or documentation that says so. Adding a base is one row.
 * An image that is not here is `unknown`: a shell is assumed and one portable line that tries every way of
 * creating a user is used. A row without a source is a bug: drop it rather than guess.
 */

/** What a kind of base can do. `family` is the old name of the kind, kept for callers that still read it. */
interface Kind {
  os: 'linux' | 'windows';
  shell: boolean;
  userCreation: UserCreation;
  /** `find` is there (see ImageFacts.find). */
  find: boolean;
  family: Family;
}

export type Family = 'debian' | 'rhel' | 'alpine' | 'distroless' | 'windows' | 'unknown';

export const KINDS = {
  /** Debian, Ubuntu: shadow's useradd. */
  debian: { os: 'linux', shell: true, userCreation: 'useradd', find: true, family: 'debian' },
  /**
   * RHEL/UBI standard images: shadow-utils' useradd. findutils is not a given in the Red Hat family: sclorg's
   * s2i-core installs it on ubi9, mysql installs it on oraclelinux:8-slim ("Oracle Linux 8+ is very slim"), and
   * Fedora images have shipped without it (mviereck/x11docker#135).
   */
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
} as const satisfies Record<string, Kind>;

export type KindName = keyof typeof KINDS;

interface Particulars {
  /** The user the image's Dockerfile ends with (its USER value as written, and the UID behind it). */
  defaultUser?: { name?: string; uid?: number };
  /** UIDs of users the image creates. */
  takenUids?: number[];
  takenNames?: string[];
  home?: string;
}

/** A tag that says more than the repository (`node:20-alpine`, `runtime-deps:8.0-jammy-chiseled`). */
interface TagRule extends Particulars {
  tag: RegExp;
  kind: KindName;
  source: string;
}

interface CatalogRow extends Particulars {
  /** Repository names, or prefixes ending in `/`, without the Docker Hub registry and `library/`. */
  match: string[];
  /** `except` prefixes take a repository out of this row (`ubi9/ubi-minimal` is not an sclorg app image). */
  except?: string[];
  kind: KindName;
  /** Tag rules of this repository, first match wins, before the GLOBAL_TAGS. */
  tags?: TagRule[];
  source: string;
}

const GH = 'https://github.com';

const SRC = {
  memcached: `${GH}/docker-library/memcached/blob/master/1.6/bookworm/Dockerfile`,
  postgres: `${GH}/docker-library/postgres/blob/master/16/bookworm/Dockerfile`,
  python: `${GH}/docker-library/python/blob/master/3.12/slim-bookworm/Dockerfile`,
  golang: `${GH}/docker-library/golang/blob/master/1.22/bookworm/Dockerfile`,
  ruby: `${GH}/docker-library/ruby/blob/master/3.3/slim-bookworm/Dockerfile`,
  php: `${GH}/docker-library/php/blob/master/8.3/bookworm/apache/Dockerfile`,
  httpd: `${GH}/docker-library/httpd/blob/master/2.4/Dockerfile`,
  mysql: `${GH}/docker-library/mysql/blob/master/8.0/Dockerfile.oracle`,
  nodeAlpine: `${GH}/nodejs/docker-node/blob/main/20/alpine3.20/Dockerfile`,
  nginx: `${GH}/nginxinc/docker-nginx/blob/master/mainline/debian/Dockerfile`,
  nginxUnprivileged: `${GH}/nginxinc/docker-nginx-unprivileged/blob/main/mainline/debian/Dockerfile`,
  grafana: `${GH}/grafana/grafana/blob/main/Dockerfile`,
  jupyter: `${GH}/jupyter/docker-stacks/blob/main/images/docker-stacks-foundation/Dockerfile`,
  gitpod: `${GH}/gitpod-io/workspace-images/blob/main/base/Dockerfile`,
  mssql: `${GH}/microsoft/mssql-docker/blob/master/linux/preview/examples/mssql-server-linux-non-root/Dockerfile-2019`,
  sclorgCore: `${GH}/sclorg/s2i-base-container/blob/master/core/Dockerfile.rhel9`,
  sclorgPython: `${GH}/sclorg/s2i-python-container/blob/master/3.11/Dockerfile.rhel9`,
  ubiMinimal: `${GH}/wildfly/wildfly-container/pull/187`,
  minideb: `${GH}/bitnami/minideb/blob/master/README.md`,
  bitnamiPython: `${GH}/bitnami/containers/blob/main/bitnami/python/3.12/debian-12/Dockerfile`,
  bitnamiNode: `${GH}/bitnami/containers/blob/main/bitnami/node/20/debian-12/Dockerfile`,
  bitnamiApp: `${GH}/bitnami/containers/blob/main/bitnami/nginx/1.27/debian-12/Dockerfile`,
  dotnetDebian: `${GH}/dotnet/dotnet-docker/blob/main/src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile`,
  dotnetChiseled: `${GH}/dotnet/dotnet-docker/blob/main/src/runtime-deps/8.0/jammy-chiseled/amd64/Dockerfile`,
  dotnetAzureLinux: `${GH}/dotnet/dotnet-docker/blob/main/src/runtime-deps/10.0/azurelinux3.0/amd64/Dockerfile`,
  dotnetDistroless: `${GH}/dotnet/dotnet-docker/blob/main/documentation/distroless.md`,
  azureLinuxDistroless: 'https://learn.microsoft.com/en-us/azure/azure-linux/container-images-overview',
  powershellUbuntu: `${GH}/PowerShell/PowerShell-Docker/blob/master/release/7-4/ubuntu22.04/docker/Dockerfile`,
  powershellWindows: `${GH}/PowerShell/PowerShell-Docker/tree/master/release/7-2/nanoserver1809`,
  distroless: `${GH}/GoogleContainerTools/distroless/blob/main/base/README.md`,
  distrolessNonroot: `${GH}/majorcontext/gatekeeper/pull/66`,
  chainguardStatic: 'https://edu.chainguard.dev/chainguard/chainguard-images/reference/static/',
  ubuntuUser: 'https://hub.docker.com/r/hambn/core',
  rocker: `${GH}/rocker-org/rocker-versioned2/blob/master/scripts/default_user.sh`,
  scratch: 'https://docs.docker.com/build/building/base-images/',
  windowsContainers: `${GH}/MicrosoftDocs/Virtualization-Documentation/blob/main/virtualization/windowscontainers/deploy-containers/insider-overview.md`,
} as const;

/** Tag rules that hold whatever the repository: the suffix names the base the image was built on. */
const GLOBAL_TAGS: TagRule[] = [
  // `*-alpine` tags are built FROM alpine (node's: `FROM alpine:3.20`, `adduser -u 1000 -G node -D node`).
  { tag: /(^|[-_.])alpine/, kind: 'alpine', source: SRC.nodeAlpine },
  // Ubuntu chiseled: no shell; the .NET ones end `USER $APP_UID` (1654, user `app`).
  { tag: /chiseled/, kind: 'distroless', defaultUser: { name: 'app', uid: 1654 }, takenUids: [1654], source: SRC.dotnetChiseled },
  { tag: /distroless/, kind: 'distroless', source: SRC.dotnetDistroless },
  { tag: /windowsservercore|nanoserver|ltsc\d{4}/, kind: 'windows', source: SRC.powershellWindows },
];

/** Repository names that say the OS whatever the registry (`portainer/agent-windows`). */
const REPOSITORY_RULES: { test: RegExp; kind: KindName; source: string }[] = [
  { test: /(^|\/)[^/]*-windows$/, kind: 'windows', source: SRC.windowsContainers },
];

const CATALOG: CatalogRow[] = [
  // ---- no shell
  { match: ['scratch'], kind: 'distroless', source: SRC.scratch },

  // ---- non-root application images: their Dockerfiles end in USER
  { match: ['memcached'], kind: 'debian', defaultUser: { name: 'memcache', uid: 11211 }, takenUids: [11211], source: SRC.memcached },

  // ---- root images whose own users own UIDs
  { match: ['node'], kind: 'debian', takenUids: [1000], takenNames: ['node'], source: SRC.nodeAlpine },
  { match: ['postgres'], kind: 'debian', takenUids: [999], takenNames: ['postgres'], source: SRC.postgres },
  { match: ['nginx'], kind: 'debian', takenUids: [101], takenNames: ['nginx'], source: SRC.nginx },
  // mysql:8 is Oracle Linux slim (microdnf; useradd works, findutils had to be installed); `-debian` tags are Debian.
  {
    match: ['mysql'],
    kind: 'rhel',
    tags: [{ tag: /debian|bookworm|bullseye/, kind: 'debian', source: SRC.mysql }],
    takenUids: [999],
    takenNames: ['mysql'],
    source: SRC.mysql,
  },

  // ---- plain root bases. debian and ubuntu: official Dockerfiles built on them run groupadd/useradd as root
  // (postgres, memcached on debian:bookworm-slim; grafana's ubuntu stage on ubuntu:24.04).
  { match: ['debian'], kind: 'debian', source: SRC.postgres },
  {
    match: ['ubuntu'],
    kind: 'debian',
    // Since 24.04 the image has a stock `ubuntu` user with UID 1000.
    tags: [
      {
        tag: /^(latest|rolling|devel|noble|oracular|plucky|questing|2[4-9]\.\d\d)/,
        kind: 'debian',
        takenUids: [1000],
        takenNames: ['ubuntu'],
        source: SRC.ubuntuUser,
      },
    ],
    source: SRC.grafana,
  },
  { match: ['python'], kind: 'debian', source: SRC.python },
  { match: ['golang'], kind: 'debian', source: SRC.golang },
  { match: ['ruby'], kind: 'debian', source: SRC.ruby },
  // www-data (33) is Debian's own system user, not the image's.
  { match: ['php'], kind: 'debian', source: SRC.php },
  { match: ['httpd'], kind: 'debian', source: SRC.httpd },
  // gitpod's base runs useradd on buildpack-deps:focal as root; golang is built FROM buildpack-deps:bookworm-scm.
  { match: ['buildpack-deps'], kind: 'debian', source: SRC.gitpod },
  { match: ['alpine'], kind: 'alpine', source: SRC.nodeAlpine },
];

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

/** Splits `registry/path/name:tag@digest` into repository and tag. */
export function parseImageRef(ref: string): { repository: string; tag: string } {
  const { repository, tag } = parseReference(ref);
  return { repository, tag: tag.toLowerCase() };
}

/** The repository without a registry host (`mirror.example.com/node` is `node`) or `library/`. */
function withoutRegistry(repository: string): string {
  const [first, ...rest] = repository.split('/');
  let local = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost') ? rest.join('/') : repository;
  if (local.startsWith('library/')) local = local.slice('library/'.length);
  return local;
}

/**
 * A pattern names a repository exactly, on any registry: `node` is not `circleci/node` (another image, another
 * user). Patterns ending in `/` name every repository under that path.
 */
function matches(repository: string, pattern: string): boolean {
  const local = withoutRegistry(repository);
  if (pattern.endsWith('/')) return repository.startsWith(pattern) || local.startsWith(pattern);
  return repository === pattern || local === pattern;
}

function inRow(row: CatalogRow, repository: string): boolean {
  if (!row.match.some((p) => matches(repository, p))) return false;
  return !(row.except ?? []).some((suffix) => repository.endsWith(suffix));
}

function makeFacts(kind: KindName, particulars: Particulars, source: string, known: boolean): ImageFacts {
  const k = KINDS[kind];
  const facts: ImageFacts = {
    os: k.os,
    shell: k.shell,
    userCreation: k.userCreation,
    find: k.find,
    family: k.family,
    takenUids: particulars.takenUids ?? [],
    known: known && kind !== 'unknown',
    source: { kind: known ? 'built-in' : 'guess', ref: source },
  };
  if (particulars.defaultUser) facts.defaultUser = particulars.defaultUser;
  if (particulars.takenNames) facts.takenNames = particulars.takenNames;
  if (particulars.home) facts.home = particulars.home;
  return facts;
}

/**
 * Facts of the built-in catalog for a reference (ARG values already substituted), or undefined when the catalog
 * does not know the image. `tagKnown: false` (the tag was a variable) decides by the repository alone.
 */
export function builtInFacts(ref: string, tagKnown = true): ImageFacts | undefined {
  const { repository } = parseImageRef(ref);
  // The official images still described here until the generated catalog covers them; the data files otherwise.
  if (CATALOG.some((r) => inRow(r, repository))) return builtInKind(ref, tagKnown)?.facts;
  return builtInCatalogFacts(ref, tagKnown);
}

function pick(p: Particulars): Particulars {
  const out: Particulars = {};
  if (p.defaultUser) out.defaultUser = p.defaultUser;
  if (p.takenUids) out.takenUids = p.takenUids;
  if (p.takenNames) out.takenNames = p.takenNames;
  if (p.home) out.home = p.home;
  return out;
}

/** Facts of an image nothing knows: Linux with a shell, user tools unknown, root. */
export function unknownFacts(): ImageFacts {
  return makeFacts('unknown', {}, 'not in the catalog', false);
}

/** The USER value the image's Dockerfile ends with, as the transforms write it back (`USER memcache`, `USER 1001`). */
export function defaultUserValue(facts: ImageFacts): string | undefined {
  const user = facts.defaultUser;
  if (!user) return undefined;
  return user.name ?? (user.uid !== undefined ? String(user.uid) : undefined);
}

/** The kind the built-in catalog gives a reference, when it knows it. */
function builtInKind(ref: string, tagKnown = true): { kind: KindName; facts: ImageFacts } | undefined {
  const { repository, tag } = parseImageRef(ref);
  const row = CATALOG.find((r) => inRow(r, repository));
  const tagRules = tagKnown ? [...(row?.tags ?? []), ...GLOBAL_TAGS] : [];
  const rule = tagRules.find((r) => r.tag.test(tag));
  if (row) {
    // A tag that switches the kind keeps the image's own users (node:alpine has node 1000 too), unless it says more.
    const particulars: Particulars = rule && (rule.defaultUser || rule.takenUids) ? { ...row, ...pick(rule) } : row;
    const kind = rule?.kind ?? row.kind;
    return { kind, facts: makeFacts(kind, kind === 'windows' ? {} : particulars, rule?.source ?? row.source, true) };
  }
  if (rule) return { kind: rule.kind, facts: makeFacts(rule.kind, rule, rule.source, true) };
  const named = REPOSITORY_RULES.find((r) => r.test.test(repository));
  if (named) return { kind: named.kind, facts: makeFacts(named.kind, {}, named.source, true) };
  return undefined;
}

/** The 1.0 view of a set of facts, for callers that still read `family`. */
export function resolvedImage(ref: string, facts: ImageFacts): ResolvedImage {
  const image: ResolvedImage = { family: familyOf(facts), known: facts.known, repository: parseImageRef(ref).repository, facts };
  const user = defaultUserValue(facts);
  if (user !== undefined) image.defaultUser = user;
  if (facts.takenUids.length > 0) image.takenUids = facts.takenUids;
  return image;
}

/** Built-in catalog lookup in the 1.0 shape (tests and callers of 1.0). */
export function lookupImage(ref: string): ResolvedImage {
  return resolvedImage(ref, builtInFacts(ref) ?? unknownFacts());
}

/** The catalog as rows for documentation (README table, `--explain`): repository patterns, kind, facts, source. */
export function catalogRows(): { match: string[]; kind: KindName; defaultUser?: string; takenUids: number[]; source: string }[] {
  return CATALOG.map((row) => {
    const user = row.defaultUser ? (row.defaultUser.name ?? String(row.defaultUser.uid)) : undefined;
    return { match: row.match, kind: row.kind, ...(user ? { defaultUser: user } : {}), takenUids: row.takenUids ?? [], source: row.source };
  });
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
  needHomeEnv: (facts: ImageFacts): boolean => facts.takenUids.length > 0 || facts.home !== undefined || !facts.known,
};
