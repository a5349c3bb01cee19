/**
 * What is known about popular base images: the tool set that creates users (family), the user the image
 * runs as when a Dockerfile says nothing, and UIDs already taken by the image's own users.
 * Everything the transforms know about specific images lives here, so adding an image is one row.
 */

export type Family = 'debian' | 'rhel' | 'alpine' | 'distroless' | 'windows' | 'unknown';

export interface ImageInfo {
  family: Family;
  /** User in force when the image starts; undefined means root. */
  defaultUser?: string;
  /** UIDs that already belong to a user of the image (useradd refuses them without -o). */
  takenUids?: number[];
}

export interface ResolvedImage extends ImageInfo {
  /** True when the family came from the catalog, not a guess. */
  known: boolean;
  /** The repository path without registry and tag, e.g. `library/node` becomes `node`. */
  repository: string;
}

interface CatalogRow extends ImageInfo {
  /** Repository names or prefixes ending in `/`, matched without registry host for Docker Hub images. */
  match: string[];
}

const CATALOG: CatalogRow[] = [
  { match: ['scratch'], family: 'distroless' },
  { match: ['gcr.io/distroless/', 'cgr.dev/chainguard/static', 'chainguard/static'], family: 'distroless' },
  {
    match: [
      'mcr.microsoft.com/windows/',
      'mcr.microsoft.com/windows',
      'mcr.microsoft.com/dotnet/framework/',
      'mcr.microsoft.com/powershell',
    ],
    family: 'windows',
  },
  { match: ['alpine', 'busybox'], family: 'alpine' },
  { match: ['node'], family: 'debian', takenUids: [1000] },
  { match: ['rocker/'], family: 'debian', takenUids: [1000] },
  { match: ['r-base'], family: 'debian', takenUids: [1000] },
  { match: ['jupyter/', 'quay.io/jupyter/'], family: 'debian', defaultUser: '1000', takenUids: [1000] },
  { match: ['bitnami/'], family: 'debian', defaultUser: '1001' },
  { match: ['nginxinc/nginx-unprivileged'], family: 'debian', defaultUser: '101', takenUids: [101] },
  { match: ['postgres', 'redis', 'mongo', 'memcached'], family: 'debian', takenUids: [999] },
  { match: ['mysql', 'mariadb'], family: 'debian', takenUids: [999] },
  { match: ['nginx', 'httpd'], family: 'debian', takenUids: [101] },
  {
    match: [
      'debian',
      'ubuntu',
      'python',
      'ruby',
      'golang',
      'rust',
      'php',
      'perl',
      'openjdk',
      'eclipse-temurin',
      'maven',
      'gradle',
      'buildpack-deps',
      'continuumio/',
      'condaforge/',
      'pytorch/',
      'tensorflow/',
      'nvidia/cuda',
      'nvcr.io/nvidia/',
      'mcr.microsoft.com/dotnet/',
    ],
    family: 'debian',
  },
  {
    match: [
      'fedora',
      'centos',
      'rockylinux',
      'almalinux',
      'oraclelinux',
      'amazonlinux',
      'amazoncorretto',
      'redhat/',
      'registry.access.redhat.com/',
      'registry.redhat.io/',
    ],
    family: 'rhel',
  },
];

/** Tags that say more than the repository: `node:20-alpine` is Alpine even though `node` is Debian. */
function familyFromTag(tag: string): Family | null {
  const t = tag.toLowerCase();
  if (/\balpine\b|alpine\d/.test(t)) return 'alpine';
  if (/windowsservercore|nanoserver|ltsc\d{4}/.test(t)) return 'windows';
  if (/ubi\d|ubi-|\bel\d\b/.test(t)) return 'rhel';
  if (/distroless/.test(t)) return 'distroless';
  return null;
}

const DOCKER_HUB_PREFIXES = ['docker.io/library/', 'docker.io/', 'index.docker.io/library/', 'index.docker.io/', 'library/'];

/** Splits `registry/path/name:tag@digest` into repository and tag. */
export function parseImageRef(ref: string): { repository: string; tag: string } {
  let rest = ref.trim().toLowerCase();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  for (const prefix of DOCKER_HUB_PREFIXES) {
    if (rest.startsWith(prefix)) {
      rest = rest.slice(prefix.length);
      break;
    }
  }
  return { repository: rest, tag };
}

function matches(repository: string, pattern: string): boolean {
  if (pattern.endsWith('/')) return repository.startsWith(pattern);
  return repository === pattern || repository.endsWith('/' + pattern);
}

export function lookupImage(ref: string): ResolvedImage {
  const { repository, tag } = parseImageRef(ref);
  const tagFamily = familyFromTag(tag);
  for (const row of CATALOG) {
    if (!row.match.some((p) => matches(repository, p))) continue;
    const family = tagFamily ?? row.family;
    const info: ResolvedImage = { family, known: true, repository };
    // A tag can switch the family (node:alpine), but the image's own users stay (node has uid 1000 there too).
    if (row.defaultUser && family === row.family) info.defaultUser = row.defaultUser;
    if (row.takenUids) info.takenUids = row.takenUids;
    if (repository.startsWith('gcr.io/distroless/') && /nonroot/.test(tag)) info.defaultUser = '65532';
    return info;
  }
  if (tagFamily) return { family: tagFamily, known: true, repository };
  return { family: 'unknown', known: false, repository };
}
