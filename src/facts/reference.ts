/**
 * Image references as Docker reads them: the one parser every lookup uses (built-in catalog, the organisation's
 * catalog, the facts file, servers, fleet reports), so a name means the same image everywhere.
 *
 * `registry/path/name:tag@digest`. Docker Hub is written many ways (`python`, `library/python`,
 * `docker.io/library/python`, `index.docker.io/…`, `registry-1.docker.io/…`), is copied by public mirrors
 * (`public.ecr.aws/docker/library/python`, `mirror.gcr.io/library/python`,
 * `mcr.microsoft.com/mirror/docker/library/python`) and holds each official image again per architecture
 * (`amd64/python`, `arm64v8/python`: docker-library/official-images, "Architectures other than amd64?"). All of
 * them are the official image `python` here.
 */

export interface ImageReference {
  /**
   * The repository as the catalogs name it: lower case; an official image by its bare name (`python`), another
   * Docker Hub repository as `owner/name`, any other registry with its host (`quay.io/centos/centos`).
   */
  repository: string;
  /** The tag as written (case kept), `''` when there is none. */
  tag: string;
  digest?: string;
  /** The registry host as written, when the reference names one that is not Docker Hub or one of its mirrors. */
  registry?: string;
  /** Docker Hub, directly or through a mirror or an architecture namespace. */
  dockerHub: boolean;
}

/** Hosts that are Docker Hub itself. */
const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

/**
 * Public mirrors of Docker Hub: the path after the prefix is a Docker Hub path. Sources: Amazon ECR Public Gallery
 * "Docker Official Images" (public.ecr.aws/docker/library), Google's Docker Hub mirror (mirror.gcr.io, "Pulling
 * cached Docker Hub images"), Microsoft's mirror of official images (mcr.microsoft.com/mirror/docker/library).
 */
const DOCKER_HUB_MIRRORS = ['public.ecr.aws/docker/', 'mirror.gcr.io/', 'mcr.microsoft.com/mirror/docker/'];

/** The architecture namespaces under which Docker Hub publishes every official image again. */
const ARCHITECTURE_NAMESPACES = new Set([
  'amd64',
  'arm32v5',
  'arm32v6',
  'arm32v7',
  'arm64v8',
  'i386',
  'mips64le',
  'ppc64le',
  'riscv64',
  's390x',
  'windows-amd64',
]);

/** The first path segment names a registry when it has a dot or a port, or is `localhost` (Docker's rule). */
function isRegistryHost(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost';
}

/** Parses an image reference (variables already substituted). Never throws: odd text gives an odd repository. */
export function parseReference(reference: string): ImageReference {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let path = rest.toLowerCase();
  let dockerHub = true;
  let registry: string | undefined;

  const mirror = DOCKER_HUB_MIRRORS.find((prefix) => path.startsWith(prefix));
  if (mirror) path = path.slice(mirror.length);
  else {
    const slash = path.indexOf('/');
    const first = slash >= 0 ? path.slice(0, slash) : '';
    if (slash >= 0 && isRegistryHost(first)) {
      if (DOCKER_HUB_HOSTS.includes(first)) path = path.slice(slash + 1);
      else {
        dockerHub = false;
        registry = rest.slice(0, slash);
      }
    }
  }
  if (dockerHub) {
    const [namespace, ...name] = path.split('/');
    if (name.length > 0 && (namespace === 'library' || ARCHITECTURE_NAMESPACES.has(namespace))) path = name.join('/');
  }
  return { repository: path, tag, ...(digest ? { digest } : {}), ...(registry ? { registry } : {}), dockerHub };
}

/**
 * The repository without its registry host, for names a private mirror keeps as they are on Docker Hub
 * (`registry.corp:5000/library/postgres` is `postgres`); undefined when the reference names no other host.
 */
export function repositoryOnAnyRegistry(ref: ImageReference): string | undefined {
  if (ref.registry === undefined) return undefined;
  const local = ref.repository.slice(ref.repository.indexOf('/') + 1);
  const [namespace, ...name] = local.split('/');
  return name.length > 0 && (namespace === 'library' || ARCHITECTURE_NAMESPACES.has(namespace)) ? name.join('/') : local;
}

/**
 * A reference as a key of the facts file and of lookups by repository: parseReference's repository, the tag
 * (`latest` when there is neither tag nor digest, as Docker pulls it) and the digest.
 */
export function referenceKey(reference: string): { repository: string; tag: string; digest?: string } {
  const { repository, tag, digest } = parseReference(reference);
  return { repository, tag: tag || (digest ? '' : 'latest'), ...(digest ? { digest } : {}) };
}
