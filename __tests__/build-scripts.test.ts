import { describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { scriptImages } from '../src/gather/build-scripts.js';

const ROOT = path.resolve('/repo');

describe('docker build commands in Makefiles and package.json scripts', () => {
  test('a Makefile: -f, -t with a ?= default, --target, a context, continuations; a tag with no value leaves the repository', () => {
    const makefile = [
      'TAG ?= latest',
      'REGISTRY := corp',
      '',
      'base-server:',
      '\tdocker build -f base-server.Dockerfile -t temporalio/base-server:$(TAG) .',
      'web:',
      '\t@docker buildx build --platform linux/amd64 \\',
      '\t  --target runtime --build-arg X=1 -t $(REGISTRY)/web:$(VERSION) -f docker/web.Dockerfile ..',
      'tools:',
      '\tcd tools && docker image build --tag=corp/tools:1 .',
      'lint:',
      '\tnpm run lint',
    ].join('\n');
    const images = scriptImages(path.join(ROOT, 'images/Makefile'), 'images/Makefile', makefile);
    expect(images).toEqual([
      {
        image: 'temporalio/base-server:latest',
        dockerfile: path.join(ROOT, 'images/base-server.Dockerfile'),
        origin: 'images/Makefile base-server',
      },
      { image: 'corp/web', dockerfile: path.join(ROOT, 'images/docker/web.Dockerfile'), origin: 'images/Makefile web', stage: 'runtime' },
      { image: 'corp/tools:1', dockerfile: path.join(ROOT, 'images/tools/Dockerfile'), origin: 'images/Makefile tools' },
    ]);
  });

  test('package.json scripts: a build with --target and no tag still names its stage; other commands are not builds', () => {
    const pkg = JSON.stringify({
      scripts: {
        'build-docker-release':
          'docker buildx build -f docker/dockerfile --platform linux/amd64 -t louislam/app:2 --target release . --push',
        'build-docker-nightly': 'npm run x && docker build -f docker/dockerfile --target nightly .',
        'docker:stdin': 'docker build - < Dockerfile',
        'docker:remote': 'docker build https://example.invalid/repo.git',
        test: 'jest',
      },
    });
    const images = scriptImages(path.join(ROOT, 'package.json'), 'package.json', pkg);
    expect(images).toEqual([
      {
        image: 'louislam/app:2',
        dockerfile: path.join(ROOT, 'docker/dockerfile'),
        origin: 'package.json scripts.build-docker-release',
        stage: 'release',
      },
      {
        image: '',
        dockerfile: path.join(ROOT, 'docker/dockerfile'),
        origin: 'package.json scripts.build-docker-nightly',
        stage: 'nightly',
      },
    ]);
  });

  test('a Dockerfile path with a variable of no value is passed over', () => {
    expect(scriptImages(path.join(ROOT, 'Makefile'), 'Makefile', 'all:\n\tdocker build -f $(DOCKERFILE) -t corp/x:1 .\n')).toEqual([]);
  });
});

describe('bake tags whose tag has no value', () => {
  test('keep their repository: `${IMAGE_REPO}/auto-setup:${IMAGE_SHA_TAG}` with no default for the tag', async () => {
    const { bakeImages } = await import('../src/gather/built-images.js');
    const bake = JSON.stringify({
      variable: { IMAGE_REPO: { default: 'temporaliotest' }, IMAGE_SHA_TAG: {} },
      target: {
        'auto-setup': { dockerfile: 'server.Dockerfile', target: 'auto-setup', tags: ['${IMAGE_REPO}/auto-setup:${IMAGE_SHA_TAG}'] },
        unknown: { dockerfile: 'x.Dockerfile', tags: ['${NOWHERE}/x:${IMAGE_SHA_TAG}'] },
      },
    });
    const images = await bakeImages(path.join(ROOT, 'docker-bake.json'), 'docker-bake.json', bake);
    expect(images).toEqual([
      {
        image: 'temporaliotest/auto-setup',
        dockerfile: path.join(ROOT, 'server.Dockerfile'),
        origin: 'docker-bake.json target.auto-setup',
        stage: 'auto-setup',
      },
    ]);
  });
});
