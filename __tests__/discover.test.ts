import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { discover, isDockerfileName } from '../src/runner/discover.js';
import { cleanup, DEBIAN, tempDir, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const paths = async (inputs: string[], cwd = dir): Promise<string[]> => (await discover(inputs, cwd)).targets.map((t) => t.path);

describe('isDockerfileName', () => {
  test.each([
    'Dockerfile',
    'dockerfile',
    'DOCKERFILE',
    'Containerfile',
    'containerfile',
    'Dockerfile.dev',
    'dockerfile.prod',
    'api.Dockerfile',
    'api.dockerfile',
    'web.DOCKERFILE',
  ])('%s is a Dockerfile', (name) => expect(isDockerfileName(name)).toBe(true));

  test.each([
    'Dockerfile.dockerignore',
    'api.Dockerfile.dockerignore',
    '.dockerignore',
    'Dockerfiles',
    'MyDockerfile',
    'Dockerfile.',
    '.dockerfile',
    'docker-compose.yml',
    'README.md',
    'Containerfile.txt.bak.x.Containerfile2',
  ])('%s is not', (name) => expect(isDockerfileName(name)).toBe(false));
});

describe('discover', () => {
  test('walks directories for Dockerfile names, sorted, skipping node_modules, .git and what is never deployed', async () => {
    writeTree(dir, {
      Dockerfile: DEBIAN,
      'b/dockerfile': DEBIAN,
      'a/Containerfile': DEBIAN,
      'a/api.Dockerfile': DEBIAN,
      'a/Dockerfile.dev': DEBIAN,
      'a/Dockerfile.dockerignore': 'x',
      'a/notes.txt': 'x',
      '.devcontainer/Dockerfile': DEBIAN,
      'node_modules/pkg/Dockerfile': DEBIAN,
      'a/node_modules/Dockerfile': DEBIAN,
      '.git/Dockerfile': DEBIAN,
      'tests/Dockerfile': DEBIAN,
      'svc/src/test/resources/Dockerfile': DEBIAN,
      'fixtures/case/Dockerfile': DEBIAN,
      '.github/actions/scan/Dockerfile': DEBIAN,
      '.cursor/Dockerfile': DEBIAN,
      '.clusterfuzzlite/Dockerfile': DEBIAN,
      '.gitpod.Dockerfile': DEBIAN,
    });
    expect(await paths([])).toEqual([]); // no inputs: nothing (the runner supplies '.')
    expect(await paths(['.'])).toEqual(['Dockerfile', 'a/Containerfile', 'a/Dockerfile.dev', 'a/api.Dockerfile', 'b/dockerfile']);
    // Named, such a directory is walked; a glob that names it matches in it, another does not.
    expect(await paths(['tests', '.devcontainer'])).toEqual(['.devcontainer/Dockerfile', 'tests/Dockerfile']);
    expect(await paths(['**/test/**/Dockerfile'])).toEqual(['svc/src/test/resources/Dockerfile']);
    expect(await paths(['**/Dockerfile'])).not.toContain('tests/Dockerfile');
    expect(await paths(['**/*Dockerfile'])).not.toContain('.gitpod.Dockerfile');
    expect(await paths(['.gitpod.Dockerfile', '**/.gitpod.Dockerfile'])).toEqual(['.gitpod.Dockerfile']);
  });

  test('honours .gitignore files, nested ones and negations, from the repository root', async () => {
    writeTree(dir, {
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'build/\n*.tmp.Dockerfile\n',
      'build/Dockerfile': DEBIAN,
      'x.tmp.Dockerfile': DEBIAN,
      'svc/.gitignore': 'Dockerfile.local\n!keep.tmp.Dockerfile\n',
      'svc/Dockerfile': DEBIAN,
      'svc/Dockerfile.local': DEBIAN,
      'svc/keep.tmp.Dockerfile': DEBIAN,
      'svc/deep/Dockerfile.local': DEBIAN,
      'svc/deep/Dockerfile': DEBIAN,
    });
    expect(await paths(['.'])).toEqual(['svc/Dockerfile', 'svc/deep/Dockerfile', 'svc/keep.tmp.Dockerfile']);
    // Walking a sub-directory still applies the root's rules, and the sub-directory's own.
    expect(await paths(['svc'])).toEqual(['svc/Dockerfile', 'svc/deep/Dockerfile', 'svc/keep.tmp.Dockerfile']);
    // A glob honours them too.
    expect(await paths(['**/Dockerfile*'])).toEqual(['svc/Dockerfile', 'svc/deep/Dockerfile']);
    // A file named explicitly is processed even if ignored.
    expect(await paths(['build/Dockerfile'])).toEqual(['build/Dockerfile']);
  });

  test('a directory named explicitly is walked even when a parent .gitignore ignores it', async () => {
    writeTree(dir, { '.git/HEAD': 'x', '.gitignore': 'gen/\n', 'gen/Dockerfile': DEBIAN, 'gen/sub/Dockerfile': DEBIAN });
    expect(await paths(['.'])).toEqual([]);
    expect(await paths(['gen'])).toEqual(['gen/Dockerfile', 'gen/sub/Dockerfile']);
  });

  test('the same file named several ways is kept once', async () => {
    writeTree(dir, { 'app/Dockerfile': DEBIAN, 'other/Dockerfile': DEBIAN });
    symlinkSync(path.join(dir, 'app'), path.join(dir, 'alias'));
    const found = await paths([
      'app/Dockerfile',
      './app/Dockerfile',
      'app',
      '.',
      '**/Dockerfile',
      path.join(dir, 'app/Dockerfile'),
      'alias/Dockerfile',
    ]);
    expect(found).toEqual(['app/Dockerfile', 'other/Dockerfile']);
  });

  test('globs match any name; no match is reported as unmatched', async () => {
    writeTree(dir, { 'a/one.txt': DEBIAN, 'a/two.txt': DEBIAN, 'node_modules/x.txt': DEBIAN });
    const result = await discover(['a/*.txt', 'node_modules/*.txt', 'zzz/*.nothing'], dir);
    expect(result.targets.map((t) => t.path)).toEqual(['a/one.txt', 'a/two.txt']);
    expect(result.unmatched.map((u) => [u.input, u.reason])).toEqual([
      ['node_modules/*.txt', 'no files match this pattern'],
      ['zzz/*.nothing', 'no files match this pattern'],
    ]);
  });

  test('a directory without Dockerfiles is unmatched, a missing path an error target', async () => {
    mkdirSync(path.join(dir, 'empty'));
    const result = await discover(['empty', 'missing'], dir);
    expect(result.unmatched).toEqual([expect.objectContaining({ input: 'empty', shown: 'empty', reason: 'no Dockerfiles found' })]);
    expect(result.targets).toEqual([expect.objectContaining({ path: 'missing', error: 'no such file or directory' })]);
  });

  test('symbolic links: inside the tree followed to the target, outside skipped, to directories not walked', async () => {
    const outside = tempDir('peak-fix-outside-');
    try {
      writeTree(outside, { Dockerfile: DEBIAN, 'sub/Dockerfile': DEBIAN });
      writeTree(dir, { 'tree/real/Dockerfile': DEBIAN });
      symlinkSync(path.join(dir, 'tree/real/Dockerfile'), path.join(dir, 'tree/in.Dockerfile'));
      symlinkSync(path.join(outside, 'Dockerfile'), path.join(dir, 'tree/out.Dockerfile'));
      symlinkSync(path.join(outside, 'sub'), path.join(dir, 'tree/linked-dir'));
      symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'tree/broken.Dockerfile'));
      const { targets } = await discover(['tree/in.Dockerfile', 'tree/out.Dockerfile', 'tree/broken.Dockerfile'], dir);
      expect(targets).toEqual([
        expect.objectContaining({ path: 'tree/broken.Dockerfile', error: 'broken symbolic link' }),
        expect.objectContaining({ path: 'tree/in.Dockerfile', realPath: path.join(dir, 'tree/real/Dockerfile'), link: true }),
        expect.objectContaining({
          path: 'tree/out.Dockerfile',
          skipped: expect.stringMatching(/^symbolic link to .* outside .*: not followed$/),
        }),
      ]);
      expect(targets[1].skipped).toBeUndefined();

      // Walking: the link to the real file and the real file are one entry (the real one); a link to a directory is not walked.
      const walked = await discover(['tree'], dir);
      expect(walked.targets.map((t) => [t.path, t.skipped ?? t.error ?? 'ok'])).toEqual([
        ['tree/broken.Dockerfile', 'broken symbolic link'],
        ['tree/out.Dockerfile', expect.stringMatching(/outside/)],
        ['tree/real/Dockerfile', 'ok'],
      ]);

      // Walking only the sub-tree that does not hold the target: the link leaves the named directory.
      writeTree(dir, { 'tree2/x': '' });
      symlinkSync(path.join(dir, 'tree/real/Dockerfile'), path.join(dir, 'tree2/Dockerfile'));
      const sub = await discover(['tree2'], dir);
      expect(sub.targets).toEqual([expect.objectContaining({ path: 'tree2/Dockerfile', skipped: expect.stringMatching(/outside/) })]);
    } finally {
      cleanup(outside);
    }
  });

  test('a FIFO with a Dockerfile name is not picked up by a walk, but is an input when named', async () => {
    execFileSync('mkfifo', [path.join(dir, 'Dockerfile')]);
    expect(await paths(['.'])).toEqual([]);
    expect(await paths(['Dockerfile'])).toEqual(['Dockerfile']);
  });

  test('paths outside the cwd are shown absolute', async () => {
    writeTree(dir, { 'x/Dockerfile': DEBIAN, 'cwd/.keep': '' });
    expect(await paths(['../x'], path.join(dir, 'cwd'))).toEqual([path.join(dir, 'x/Dockerfile')]);
  });
});
