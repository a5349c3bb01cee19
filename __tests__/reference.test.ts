import { describe, expect, test } from '@jest/globals';
import { builtInFacts as builtInCatalogFacts } from '../src/facts/image.js';
import { parseReference, repositoryOnAnyRegistry } from '../src/facts/reference.js';

describe('image references as Docker reads them (issue 19)', () => {
  test.each([
    ['python', 'python', ''],
    ['python:3.12-slim', 'python', '3.12-slim'],
    ['library/python:3.12', 'python', '3.12'],
    ['docker.io/library/python:3.12', 'python', '3.12'],
    ['index.docker.io/library/python:3.12', 'python', '3.12'],
    ['registry-1.docker.io/library/python', 'python', ''],
    ['docker.io/bitnami/nginx:1.27', 'bitnami/nginx', '1.27'],
    // Public mirrors of Docker Hub.
    ['public.ecr.aws/docker/library/python:3.12', 'python', '3.12'],
    ['mirror.gcr.io/library/busybox:1.36', 'busybox', '1.36'],
    ['mcr.microsoft.com/mirror/docker/library/python:3.11-slim', 'python', '3.11-slim'],
    // Architecture namespaces hold every official image again.
    ['amd64/alpine:3.19', 'alpine', '3.19'],
    ['arm64v8/alpine', 'alpine', ''],
    ['arm32v7/python:3.12', 'python', '3.12'],
    ['docker.io/ppc64le/node:20', 'node', '20'],
    // Digests are dropped from the repository; the tag stays when both are written.
    ['node@sha256:abc', 'node', ''],
    ['node:20-alpine@sha256:abc', 'node', '20-alpine'],
    // Other registries keep their host; case is folded in the repository only.
    ['quay.io/CentOS/centos:Stream9', 'quay.io/centos/centos', 'Stream9'],
    ['localhost:5000/team/app:dev', 'localhost:5000/team/app', 'dev'],
  ])('%s is %s with tag %j', (reference, repository, tag) => {
    expect(parseReference(reference)).toMatchObject({ repository, tag });
  });

  test('a digest is kept, and other registries are named', () => {
    expect(parseReference('quay.io/centos/centos:stream9@sha256:abc')).toEqual({
      repository: 'quay.io/centos/centos',
      tag: 'stream9',
      digest: 'sha256:abc',
      registry: 'quay.io',
      dockerHub: false,
    });
    expect(parseReference('amd64/alpine').dockerHub).toBe(true);
  });

  test('a private mirror that keeps Docker Hub names is matched without its host', () => {
    expect(repositoryOnAnyRegistry(parseReference('registry.corp:5000/library/postgres:16'))).toBe('postgres');
    expect(repositoryOnAnyRegistry(parseReference('registry.corp/bitnami/nginx'))).toBe('bitnami/nginx');
    expect(repositoryOnAnyRegistry(parseReference('python:3.12'))).toBeUndefined();
  });
});

describe('the built-in catalog by name form (issue 19)', () => {
  test('a mirror or an architecture namespace is the official image', () => {
    expect(builtInCatalogFacts('python:3.12')).toBeDefined();
    for (const reference of ['public.ecr.aws/docker/library/python:3.12', 'mcr.microsoft.com/mirror/docker/library/python:3.12']) {
      expect(builtInCatalogFacts(reference)).toEqual(builtInCatalogFacts('python:3.12'));
    }
    expect(builtInCatalogFacts('arm64v8/alpine:3.19')).toMatchObject({ userCreation: 'busybox', shell: true });
  });

  test('a tag naming a variant without a shell has none, unless the repository describes that variant itself', () => {
    // .NET's own rule for its distroless tags: no shell, and the image ends as app (1654).
    expect(builtInCatalogFacts('mcr.microsoft.com/dotnet/runtime-deps:8.0-azurelinux3.0-distroless')).toMatchObject({
      shell: false,
      userCreation: 'none',
      defaultUser: { uid: 1654 },
    });
    // The Azure Linux tag with a shell is another variant.
    expect(builtInCatalogFacts('mcr.microsoft.com/dotnet/runtime-deps:8.0-azurelinux3.0')).toMatchObject({ shell: true });
    // An image nobody describes: the tag decides.
    expect(builtInCatalogFacts('registry.corp/team/app:1.0-distroless')).toMatchObject({ shell: false, userCreation: 'none' });
    expect(builtInCatalogFacts('registry.corp/team/app:1.0-chiseled')).toMatchObject({ shell: false });
  });

  test('an exact name beats a prefix, and a longer prefix a shorter one', () => {
    // Docker Hub's centos/ namespace held Software Collections images; quay.io/centos/centos is CentOS itself, root.
    expect(builtInCatalogFacts('quay.io/centos/centos:stream9')?.defaultUser).toBeUndefined();
    expect(builtInCatalogFacts('quay.io/centos/centos:stream9')).toMatchObject({ userCreation: 'useradd' });
    expect(builtInCatalogFacts('bitnami/python:3.12')?.defaultUser).toBeUndefined();
    expect(builtInCatalogFacts('bitnami/redis:7.4')?.defaultUser).toEqual({ uid: 1001 });
  });

  test('every fact of the catalog names where it was read', () => {
    for (const reference of ['python:3.12', 'quay.io/centos/centos:stream9', 'oracle/weblogic:12', 'arm64v8/alpine']) {
      expect(builtInCatalogFacts(reference)?.source).toMatchObject({ kind: 'built-in', ref: expect.stringMatching(/^https:\/\//) });
    }
  });
});
