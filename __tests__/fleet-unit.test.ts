import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readFleetEnv, repositoryFromRemote, repositoryIdentity } from '../src/fleet/context.js';
import { createProgress } from '../src/fleet/progress.js';
import { renderPrBody } from '../src/fleet/pr-body.js';
import { outcomeOf, type FleetFile, type FleetResult } from '../src/fleet/results.js';
import { expandRepository } from '../src/fleet/session.js';
import { aggregate } from '../src/fleet/report/data.js';
import { fleetCsv, fleetFailed, fleetMarkdown } from '../src/fleet/report/text.js';
import { DEFAULT_OPTIONS } from '../src/types.js';
import { cleanup, DEBIAN, NO_FROM, runCli, tempDir, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('peak-fix-fleet-');
});
afterEach(() => cleanup(dir));

const LOW_PORT = 'FROM python:3.11-slim\nEXPOSE 80\nCMD ["python", "-m", "http.server", "80"]\n';

describe('runner variables', () => {
  test('multi-gitter: REPOSITORY names the repository; DRY_RUN=true only counts beside it', () => {
    expect(readFleetEnv({ REPOSITORY: 'acme/api', DRY_RUN: 'true' })).toEqual({
      runner: 'multi-gitter',
      repository: 'acme/api',
      dryRun: true,
      dryRunVariable: 'DRY_RUN=true',
    });
    expect(readFleetEnv({ REPOSITORY: 'acme/api' }).dryRun).toBe(false);
    expect(readFleetEnv({ DRY_RUN: 'true' })).toEqual({ dryRun: false });
  });

  test('git-xargs: owner/name from XARGS_REPO_OWNER and XARGS_REPO_NAME; XARGS_DRY_RUN=false is no dry run', () => {
    expect(readFleetEnv({ XARGS_REPO_OWNER: 'acme', XARGS_REPO_NAME: 'web', XARGS_DRY_RUN: 'false' })).toEqual({
      runner: 'git-xargs',
      repository: 'acme/web',
      dryRun: false,
    });
    expect(readFleetEnv({ XARGS_REPO_OWNER: 'acme', XARGS_REPO_NAME: 'web', XARGS_DRY_RUN: 'true' }).dryRun).toBe(true);
  });

  test('PEAK_FIX_REPOSITORY names the repository for runners without variables (Sourcegraph, turbolift)', () => {
    expect(readFleetEnv({ PEAK_FIX_REPOSITORY: 'github.com/acme/db' })).toEqual({
      runner: 'env',
      repository: 'github.com/acme/db',
      dryRun: false,
    });
  });

  test('git remotes of every usual form name owner/name, without host, credentials or .git', () => {
    expect(repositoryFromRemote('https://github.com/acme/api.git')).toBe('acme/api');
    expect(repositoryFromRemote('https://user:token@gitlab.example.com/group/sub/api')).toBe('group/sub/api');
    expect(repositoryFromRemote('git@github.com:acme/api.git')).toBe('acme/api');
    expect(repositoryFromRemote('ssh://git@host:2222/acme/api.git/')).toBe('acme/api');
    expect(repositoryFromRemote('/srv/git/acme/api.git')).toBe('acme/api');
    expect(repositoryFromRemote('file:///srv/git/acme/api.git')).toBe('acme/api');
  });

  test('identity: a variable, else the remote, else the path', () => {
    expect(repositoryIdentity({ dryRun: false, runner: 'git-xargs', repository: 'a/b' }, { remoteRepository: 'c/d' }, '/x')).toEqual({
      repository: 'a/b',
      source: 'git-xargs',
    });
    expect(repositoryIdentity({ dryRun: false }, { remoteRepository: 'c/d' }, '/x')).toEqual({ repository: 'c/d', source: 'git-remote' });
    expect(repositoryIdentity({ dryRun: false }, {}, '/x/y')).toEqual({ repository: '/x/y', source: 'path' });
  });

  test('{repository} in an output path cannot climb out of its directory', () => {
    expect(expandRepository('/out/pr/{repository}.md', 'acme/api')).toBe('/out/pr/acme/api.md');
    expect(expandRepository('/out/{repository}.md', '../../etc/passwd')).toBe('/out/etc/passwd.md');
    expect(expandRepository('/out/{repository}.md', 'a b/$(x)')).toBe('/out/a_b/__x_.md');
    expect(expandRepository('/out/results.jsonl', 'acme/api')).toBe('/out/results.jsonl');
  });
});

describe('the CLI under a fleet runner', () => {
  test('DRY_RUN=true (multi-gitter --dry-run) turns --write into a dry run: diff shown, nothing written, exit 0', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const run = await runCli(['--write'], { cwd: dir, env: { REPOSITORY: 'acme/api', DRY_RUN: 'true' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('+USER $PEAK_USER_ID');
    expect(run.stderr).toContain('DRY_RUN=true (multi-gitter dry run): --write becomes a dry run');
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(DEBIAN);
  });

  test('XARGS_DRY_RUN=true does the same; without it --write writes', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const env = { XARGS_REPO_OWNER: 'acme', XARGS_REPO_NAME: 'api' };
    expect((await runCli(['--write'], { cwd: dir, env: { ...env, XARGS_DRY_RUN: 'true' } })).code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(DEBIAN);
    expect((await runCli(['--write'], { cwd: dir, env: { ...env, XARGS_DRY_RUN: 'false' } })).code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).not.toBe(DEBIAN);
  });

  test('--report-file appends one line per run with repository, commit, options and per-file facts', async () => {
    writeTree(dir, { 'repo/Dockerfile': LOW_PORT, 'repo/bad/Dockerfile': NO_FROM });
    const repo = path.join(dir, 'repo');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
    git('remote', 'add', 'origin', 'git@git.example.invalid:acme/repo.git');
    const results = path.join(dir, 'out/results.jsonl');
    const first = await runCli(['--write', '--report-file', results], { cwd: repo });
    expect(first.code).toBe(2);
    await runCli(['--write', '--report-file', results], { cwd: repo, env: { XARGS_REPO_OWNER: 'acme', XARGS_REPO_NAME: 'other' } });
    const lines = readFileSync(results, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as FleetResult);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      schema: 'peak-fix/fleet-result@1',
      repository: 'acme/repo',
      repositorySource: 'git-remote',
      commit: git('rev-parse', 'HEAD'),
      mode: 'write',
      dryRun: false,
      exitCode: 2,
      outcome: 'failed',
      options: DEFAULT_OPTIONS,
      summary: { changed: 1, unchanged: 0, skipped: 0, errors: 1 },
    });
    expect(lines[0].files).toEqual([
      expect.objectContaining({ path: 'Dockerfile', status: 'changed', baseImage: 'python:3.11-slim', family: 'debian' }),
      expect.objectContaining({ path: 'bad/Dockerfile', status: 'error', error: expect.stringContaining('no FROM') }),
    ]);
    expect(lines[0].files[0].findings.map((f) => f.rule)).toContain('privileged-port');
    expect(lines[1]).toMatchObject({ repository: 'acme/other', repositorySource: 'git-xargs', runner: 'git-xargs' });
  });

  test('a base known only from the organisation catalog shows its family in the pull-request text and the results line', async () => {
    writeTree(dir, {
      'repo/Dockerfile': 'FROM corp/platform/runtime:3\nCOPY app /srv/app\nCMD ["/srv/app"]\n',
      'repo/.peak-fix.json': JSON.stringify({ images: { 'corp/platform/*': { userCreation: 'busybox' } } }),
    });
    const run = await runCli(['--pr-body', '../out/pr.md', '--report-file', '../out/results.jsonl'], { cwd: path.join(dir, 'repo') });
    expect(run.code).toBe(0);
    const body = readFileSync(path.join(dir, 'out/pr.md'), 'utf8');
    expect(body).toMatch(/^- `Dockerfile` \(`corp\/platform\/runtime:3`, alpine\): .*busybox's `adduser`/m);
    const [line] = readFileSync(path.join(dir, 'out/results.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as FleetResult);
    expect(line.files).toEqual([
      expect.objectContaining({ path: 'Dockerfile', status: 'changed', baseImage: 'corp/platform/runtime:3', family: 'alpine' }),
    ]);
  });

  test('an output that cannot be written is one line and exit 2', async () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'taken/x': '' });
    const run = await runCli(['--report-file', 'taken/x/results.jsonl'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^peak-fix: cannot write .*taken\/x.*: E[A-Z]+$/m);
  });

  test('--pr-body and --report-file are refused with --stdin', async () => {
    const run = await runCli(['--stdin', '--pr-body', 'x.md'], { cwd: dir, stdin: DEBIAN });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not with --stdin/);
  });
});

describe('pull-request text', () => {
  const file = (over: Partial<FleetFile>): FleetFile => ({ path: 'Dockerfile', status: 'changed', findings: [], ...over });

  test('one line per changed file linking the guide; findings with their explanation; skips; how to check', () => {
    const body = renderPrBody({
      files: [
        file({ path: 'api/Dockerfile', baseImage: 'python:3.11-slim', family: 'debian' }),
        file({
          path: 'web/Dockerfile',
          baseImage: 'alpine:3.20',
          family: 'alpine',
          findings: [
            {
              rule: 'privileged-port',
              messageId: 'privileged-port',
              severity: 'warning',
              line: 4,
              message: 'EXPOSE uses port 80 <x>',
              hint: 'use `8080`',
            },
          ],
        }),
        file({ path: 'win/Dockerfile', status: 'skipped', skipped: 'Windows base image' }),
        file({ path: 'ok/Dockerfile', status: 'unchanged' }),
      ],
      options: DEFAULT_OPTIONS,
      version: '9.9.9',
      guideUrl: 'https://docs.example.invalid/non-root',
      dryRun: false,
    });
    expect(body).toContain('This pull request changes 2 Dockerfiles');
    expect(body).toMatch(
      /^- `api\/Dockerfile` \(`python:3\.11-slim`, debian\): .*useradd.*\(\[Non-root users and Peak\]\(https:\/\/docs\.example\.invalid\/non-root\)\)\.$/m,
    );
    expect(body).toMatch(/^- `web\/Dockerfile` \(`alpine:3\.20`, alpine\): .*busybox/m);
    expect(body).toContain('### Needs a person (1)');
    expect(body).toContain(
      '- [ ] `web/Dockerfile` line 4, **warning** `privileged-port`: EXPOSE uses port 80 &lt;x&gt; (hint: use `8080`)',
    );
    expect(body).toContain('<details><summary>Why this matters</summary>');
    expect(body).toContain('- `win/Dockerfile`: skipped: Windows base image');
    expect(body).toContain('- `ok/Dockerfile`: already runs as the Peak user');
    expect(body).toContain('docker build --build-arg PEAK_USER_ID=1001 -f api/Dockerfile -t peak-check-1 api');
    expect(body).toContain('peak-fix verify peak-check-2 --uid 1001 --home /home/peak-user');
  });

  test('nothing changed: says so, and why (already migrated, or a file that could not be processed)', () => {
    const none = renderPrBody({ files: [file({ status: 'unchanged' })], options: DEFAULT_OPTIONS, version: '2', dryRun: false });
    expect(none).toContain('peak-fix 2 found nothing to change');
    expect(none).not.toContain('### How to check');
    const failed = renderPrBody({
      files: [file({ status: 'error', error: 'no FROM' })],
      options: DEFAULT_OPTIONS,
      version: '2',
      dryRun: false,
    });
    expect(failed).toContain('could not process every Dockerfile of this repository, so it changed nothing');
    expect(failed).toContain('- `Dockerfile`: **could not be processed**: no FROM');
  });

  test('without a guide URL the guide is named, not linked; a dry run speaks of what would change', () => {
    const body = renderPrBody({ files: [file({})], options: DEFAULT_OPTIONS, version: '1', dryRun: true });
    expect(body).toContain("Peak's guide _Non-root users and Peak_");
    expect(body).toContain('would change 1 Dockerfile');
    expect(body).not.toMatch(/\]\(/);
  });
});

describe('fleet report', () => {
  const result = (
    repository: string,
    outcome: FleetResult['outcome'],
    files: FleetFile[],
    over: Partial<FleetResult> = {},
  ): FleetResult => ({
    schema: 'peak-fix/fleet-result@1',
    repository,
    repositorySource: 'git-remote',
    version: '1',
    time: '2026-01-01T00:00:00.000Z',
    mode: 'write',
    dryRun: false,
    exitCode: outcome === 'failed' ? 2 : 0,
    outcome,
    options: DEFAULT_OPTIONS,
    summary: { changed: 0, unchanged: 0, skipped: 0, errors: 0 },
    files,
    ...over,
  });
  const warn = { rule: 'sudo', messageId: 'sudo', severity: 'warning' as const, line: 2, message: 'sudo' };
  const results = [
    result('acme/a', 'migrated', [{ path: 'Dockerfile', status: 'changed', family: 'debian', baseImage: 'debian:12', findings: [] }]),
    result('acme/b', 'needs-person', [{ path: 'Dockerfile', status: 'changed', family: 'alpine', findings: [warn, warn] }]),
    result('acme/c', 'failed', [{ path: 'x/Dockerfile', status: 'error', findings: [], error: 'no FROM instruction' }]),
    result('acme/d', 'compliant', []),
    result('acme/e', 'failed', [{ path: 'Dockerfile', status: 'error', findings: [], error: 'boom' }]),
    result('acme/e', 'migrated', [{ path: 'Dockerfile', status: 'changed', family: 'debian', findings: [] }], {
      time: '2026-01-02T00:00:00.000Z',
    }),
    result('acme/f', 'needs-person', [{ path: 'Dockerfile', status: 'changed', family: 'debian', findings: [warn] }], { exitCode: 1 }),
  ];

  test('the latest line of a repository wins; totals, families, rules and the reasons', () => {
    const data = aggregate(results, results.length, ['r.jsonl']);
    expect(data.totals.repositories).toBe(6);
    expect(data.totals.outcomes).toEqual({ failed: 1, 'needs-person': 2, migrated: 2, compliant: 1 });
    expect(data.totals.files).toEqual({ changed: 4, unchanged: 0, skipped: 0, error: 1 });
    expect(data.families.map((f) => [f.family, f.total])).toEqual([
      ['debian', 3],
      ['alpine', 1],
      ['not parsed', 1],
    ]);
    expect(data.rules).toEqual([{ rule: 'sudo', severity: 'warning', findings: 3, repositories: 2 }]);
    const byName = new Map(data.repositories.map((r) => [r.repository, r]));
    expect(byName.get('acme/b')?.reason).toBe('sudo (2)');
    expect(byName.get('acme/c')?.reason).toBe('x/Dockerfile: no FROM instruction');
    expect(byName.get('acme/f')?.reason).toBe('--fail-on matched: sudo');
  });

  test('Markdown, CSV (quoted, no formulas) and the resume list', () => {
    const data = aggregate(results, results.length, ['r.jsonl']);
    const markdown = fleetMarkdown(data);
    expect(markdown).toContain('6 repositories (7 result lines from 1 file): 2 migrated, 2 need a person, 1 failed, 1 already compliant.');
    expect(markdown).toContain('| debian | 3 | 3 | 0 | 0 | 0 |');
    expect(markdown).toContain('| `sudo` | warning | 3 | 2 |');
    expect(markdown).toContain('| acme/c | failed | x/Dockerfile: no FROM instruction |');
    expect(fleetFailed(data)).toBe('acme/c\nacme/f\n');
    const csv = fleetCsv(
      aggregate([result('=cmd|x', 'failed', [{ path: 'a,b', status: 'error', findings: [], error: 'say "hi"' }])], 1, []),
    );
    expect(csv.split('\r\n')[1]).toBe(`'=cmd|x,failed,2,,"a,b",error,,,0,,"say ""hi"""`);
  });

  test('outcome: errors fail, warnings need a person, changes migrate, nothing else is compliant', () => {
    expect(outcomeOf([{ path: 'a', status: 'error', findings: [] }], 2, false)).toBe('failed');
    expect(outcomeOf([{ path: 'a', status: 'changed', findings: [warnFinding()] }], 0, false)).toBe('needs-person');
    expect(outcomeOf([{ path: 'a', status: 'changed', findings: [{ ...warnFinding(), severity: 'info' }] }], 0, false)).toBe('migrated');
    expect(outcomeOf([{ path: 'a', status: 'unchanged', findings: [] }], 0, false)).toBe('compliant');
    expect(outcomeOf([], 130, true)).toBe('failed');
  });

  test('peak-fix report: a line that is not a result is an error naming the file and line, exit 2', async () => {
    writeTree(dir, { 'r.jsonl': `${JSON.stringify(results[0])}\n{"hello":1}\n` });
    const run = await runCli(['report', 'r.jsonl'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`peak-fix: report: ${path.join(dir, 'r.jsonl')}:2: not a peak-fix result (schema peak-fix/fleet-result@1)\n`);
    expect((await runCli(['report'], { cwd: dir })).code).toBe(2);
  });
});

function warnFinding() {
  return { rule: 'sudo', messageId: 'sudo', severity: 'warning' as const, line: 1, message: 'm' };
}

describe('progress line', () => {
  test('drawn on a terminal for many files, cleared before other output and at the end', () => {
    let written = '';
    let clock = 0;
    const progress = createProgress({ write: (t: string) => (written += t), isTTY: true }, () => clock, 3);
    const err = progress.wrap((t) => (written += t));
    progress.start(4);
    progress.tick();
    clock += 200;
    progress.tick();
    err('peak-fix: x: boom\n');
    progress.tick();
    progress.tick();
    progress.end();
    expect(written).toBe(
      '\r\x1b[2Kpeak-fix: 0/4 files' +
        '\r\x1b[2Kpeak-fix: 2/4 files' +
        '\r\x1b[2Kpeak-fix: x: boom\n' +
        '\r\x1b[2Kpeak-fix: 2/4 files' +
        '\r\x1b[2Kpeak-fix: 4/4 files' +
        '\r\x1b[2K',
    );
  });

  test('nothing when stderr is not a terminal, or for few files', () => {
    let written = '';
    const pipe = createProgress({ write: (t: string) => (written += t), isTTY: false }, () => 0, 1);
    pipe.start(100);
    pipe.tick();
    pipe.end();
    const few = createProgress({ write: (t: string) => (written += t), isTTY: true });
    few.start(3);
    few.tick();
    few.end();
    expect(written).toBe('');
  });

  test('the CLI draws it on a terminal stderr for a run over 50 files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`s${String(i).padStart(2, '0')}/Dockerfile`] = DEBIAN;
    writeTree(dir, files);
    const { main } = await import('../src/cli/index.js');
    const { Readable } = await import('node:stream');
    let stderr = '';
    const code = await main(['--check'], {
      cwd: dir,
      env: {},
      stdout: { write: () => true, isTTY: false },
      stderr: { write: (t: string) => (stderr += t), isTTY: true },
      stdin: Readable.from([]),
      signals: null,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('peak-fix: 60/60 files');
    expect(stderr).toMatch(/\r\x1b\[2K60 would change/);
  });
});

describe('the container image of peak-fix itself', () => {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

  test('its Dockerfile is migrated by peak-fix: --check passes, the runtime stage ends as PEAK_USER_ID', async () => {
    const run = await runCli(['--check', '--no-config', 'Dockerfile'], { cwd: root });
    expect([run.code, run.stdout]).toEqual([0, '']);
    const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/\nARG PEAK_USER_ID\nENV PEAK_USER_ID=\$PEAK_USER_ID\n/);
    expect(runtime.match(/^COPY /gm)?.length).toBe(runtime.match(/^COPY --chown=peak-user /gm)?.length);
    expect(runtime.trimEnd().split('\n').pop()).toBe('USER $PEAK_USER_ID');
    expect(runtime).toContain('/usr/local/bin/peak-fix-sourcegraph-step');
  });
});
