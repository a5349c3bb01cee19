import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { fixDockerfile } from '../../src/index.js';
import { exec, git, ROOT } from './fleet-harness.js';

/**
 * The hooks in .pre-commit-hooks.yaml, run by Debian's pre-commit (scripts/fleet/ensure-tools.sh) with
 * `pre-commit try-repo` against this checkout, in a throw-away repository: pre-commit clones the hook
 * repository into its cache, the hook installs itself there on first use (npm ci), and only the staged
 * Dockerfiles reach peak-fix.
 */
const LEGACY = 'FROM debian:bookworm-slim\nCOPY legacy /legacy\nCMD ["/legacy"]\n';
const APP = 'FROM python:3.11-slim\nCOPY app.py /srv/app.py\nCMD ["python", "/srv/app.py"]\n';

let dir: string;
let project: string;
let env: NodeJS.ProcessEnv;

const tryRepo = (hook: string) => exec('pre-commit', ['try-repo', ROOT, hook, '--color', 'never'], { cwd: project, env });

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'peak-fix-pre-commit-')));
  project = path.join(dir, 'project');
  // The machine's own environment (npm's registry and certificate settings live in the user's npmrc), plus
  // a pre-commit cache of the test's own.
  env = {
    ...process.env,
    PRE_COMMIT_HOME: path.join(dir, 'cache'),
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.invalid',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@example.invalid',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  mkdirSync(path.join(project, 'legacy'), { recursive: true });
  writeFileSync(path.join(project, 'legacy/Dockerfile'), LEGACY);
  git(dir, 'init', '-q', '-b', 'main', project);
  git(project, 'add', '-A');
  git(project, 'commit', '-qm', 'a Dockerfile this commit does not touch');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pre-commit hooks', () => {
  test('the hooks file declares the check and the write hook for Dockerfile names', () => {
    const hooks = parse(readFileSync(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as {
      id: string;
      entry: string;
      files: string;
      language: string;
    }[];
    expect(hooks.map((h) => [h.id, h.entry, h.language])).toEqual([
      ['peak-fix', 'scripts/pre-commit-hook.sh --check', 'script'],
      ['peak-fix-write', 'scripts/pre-commit-hook.sh --write', 'script'],
    ]);
    const files = new RegExp(hooks[0].files);
    for (const name of ['Dockerfile', 'svc/Dockerfile', 'svc/Dockerfile.prod', 'Containerfile', 'api.Dockerfile', 'x/web.dockerfile'])
      expect([name, files.test(name)]).toEqual([name, true]);
    for (const name of ['README.md', 'Dockerfiles/readme.txt', 'docker-compose.yml'])
      expect([name, files.test(name)]).toEqual([name, false]);
  });

  test('try-repo: a staged unmigrated Dockerfile fails the check; only touched files are checked', async () => {
    mkdirSync(path.join(project, 'app'), { recursive: true });
    writeFileSync(path.join(project, 'app/Dockerfile'), APP);
    writeFileSync(path.join(project, 'README.md'), '# project\n');
    git(project, 'add', 'app/Dockerfile', 'README.md');
    const check = await tryRepo('peak-fix');
    expect([check.code, check.stdout]).toEqual([1, expect.stringContaining('[warn] app/Dockerfile')]);
    expect(check.stdout).toMatch(/peak-fix \(Dockerfiles run as Peak's non-root user\)\.+Failed/);
    expect(check.stdout).not.toContain('legacy/Dockerfile');
  });

  test('try-repo: the write hook migrates the staged file; staged again, the check passes', async () => {
    const write = await tryRepo('peak-fix-write');
    expect(write.code).toBe(1); // pre-commit fails a hook that modified files, so the result is reviewed
    expect(write.stdout).toContain('files were modified by this hook');
    expect(readFileSync(path.join(project, 'app/Dockerfile'), 'utf8')).toBe(fixDockerfile(APP).output);
    expect(readFileSync(path.join(project, 'legacy/Dockerfile'), 'utf8')).toBe(LEGACY);
    git(project, 'add', 'app/Dockerfile');
    const check = await tryRepo('peak-fix');
    expect([check.code, check.stdout]).toEqual([0, expect.stringMatching(/peak-fix \(Dockerfiles run as Peak's non-root user\)\.+Passed/)]);
  });

  test('a commit touching no Dockerfile skips the hook', async () => {
    git(project, 'commit', '-qm', 'migrated app');
    writeFileSync(path.join(project, 'README.md'), '# project, edited\n');
    git(project, 'add', 'README.md');
    const check = await tryRepo('peak-fix');
    expect([check.code, check.stdout]).toEqual([0, expect.stringMatching(/\(no files to check\)Skipped/)]);
  });
});
