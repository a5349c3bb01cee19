import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixDockerfile } from '../../src/index.js';
import type { FleetResult } from '../../src/fleet/results.js';
import { FLEET, fullName, type FleetRepo } from './fleet-fixtures.js';
import {
  copyOrigins,
  exec,
  git,
  gitXargs,
  installShim,
  makeOrigins,
  multiGitter,
  ROOT,
  sourcegraph,
  Turbolift,
  type RepoRun,
} from './fleet-harness.js';

let dir: string;
let template: string;
let bin: string;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'peak-fix-fleet-')));
  template = makeOrigins(dir, FLEET);
  bin = installShim(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isDockerfile = (name: string): boolean => /(^|\/)(Dockerfile|Containerfile)$/.test(name);
const expectedOutcomes = (fleet: readonly FleetRepo[]) => ({
  migrated: fleet.filter((r) => r.outcome === 'migrated').length,
  'needs-person': fleet.filter((r) => r.outcome === 'needs-person').length,
  failed: fleet.filter((r) => r.outcome === 'failed').length,
  compliant: fleet.filter((r) => r.outcome === 'compliant').length,
});

function readResults(file: string): FleetResult[] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as FleetResult);
}

function heads(origins: string, repo: FleetRepo): string[] {
  return git(dir, 'ls-remote', '--heads', path.join(origins, repo.owner, `${repo.name}.git`))
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[1].replace('refs/heads/', ''))
    .sort();
}

/**
 * What every runner must end with: a branch with one commit of the engine's rewrite of exactly the
 * Dockerfiles that needed it where a pull request is due; nothing pushed for the unprocessable, migrated,
 * Windows and Dockerfile-less repositories; the script's exit code telling the runner which is which.
 */
function expectCommitsAndPrs(runs: RepoRun[], origins: string, options: { branch: string; name?: (repo: FleetRepo) => string }): void {
  expect(runs).toHaveLength(FLEET.length);
  for (const repo of FLEET) {
    const run = runs.find((r) => r.repository === fullName(repo));
    const bare = path.join(origins, repo.owner, `${repo.name}.git`);
    const context = `${fullName(repo)}: ${run?.exit.stderr}`;
    expect([context, run?.exit.code]).toEqual([context, repo.outcome === 'failed' ? 2 : 0]);
    if (repo.outcome === 'failed' || repo.outcome === 'compliant' || repo.leftUnchanged) {
      expect([fullName(repo), run?.committed, heads(origins, repo)]).toEqual([fullName(repo), false, ['main']]);
      continue;
    }
    expect([fullName(repo), run?.committed, heads(origins, repo)]).toEqual([fullName(repo), true, [options.branch, 'main'].sort()]);
    expect(git(bare, 'rev-list', '--count', `main..${options.branch}`)).toBe('1');
    expect(git(bare, 'log', '-1', '--format=%s', options.branch)).toBe("Run container images as Peak's non-root user");
    const changed = git(bare, 'diff', '--name-only', 'main', options.branch).split('\n').sort();
    const dockerfiles = Object.keys(repo.files).filter(isDockerfile).sort();
    expect([fullName(repo), changed]).toEqual([fullName(repo), dockerfiles]);
    for (const file of dockerfiles) {
      const after = git(bare, 'show', `${options.branch}:${file}`) + '\n';
      expect(after.replace(/\r\n/g, '\n')).toBe(fixDockerfile(repo.files[file]).output.replace(/\r\n/g, '\n'));
      expect(after).toMatch(/USER (\$PEAK_USER_ID|\$\{PEAK_USER_ID:\?[^}]*\})\r?\n$/i);
    }
    const body = run?.prBody ?? '';
    for (const file of dockerfiles) expect(body).toContain(`\`${file}\``);
    expect(body).toContain('### How to check');
    expect(body).toContain('docker build --build-arg PEAK_USER_ID=1001');
    if (repo.outcome === 'needs-person') {
      expect(body).toContain('### Needs a person');
      for (const rule of repo.rules ?? []) expect(body).toContain(`\`${rule}\``);
    } else {
      expect(body).not.toContain('### Needs a person');
    }
  }
}

function expectResults(
  file: string,
  origins: string,
  options: { name: (repo: FleetRepo) => string; source: string; dryRun: boolean },
): FleetResult[] {
  const lines = readResults(file);
  expect(lines).toHaveLength(FLEET.length);
  for (const repo of FLEET) {
    const line = lines.find((l) => l.repository === options.name(repo));
    expect([options.name(repo), line?.outcome]).toEqual([options.name(repo), repo.outcome]);
    expect(line?.repositorySource).toBe(options.source);
    expect(line?.dryRun).toBe(options.dryRun);
    expect(line?.mode).toBe(options.dryRun ? 'dry-run' : 'write');
    expect(line?.exitCode).toBe(repo.outcome === 'failed' ? 2 : 0);
    expect(line?.files.map((f) => f.path).sort()).toEqual(Object.keys(repo.files).filter(isDockerfile).sort());
    expect(line?.commit).toBe(git(path.join(origins, repo.owner, `${repo.name}.git`), 'rev-parse', 'main'));
    for (const rule of repo.rules ?? []) expect(line?.files.flatMap((f) => f.findings.map((x) => x.rule))).toContain(rule);
  }
  return lines;
}

async function report(out: string, results: string[]) {
  const run = await exec(
    path.join(bin, 'peak-fix'),
    ['report', ...results, '--csv', 'fleet.csv', '--html', 'fleet.html', '--failed', 'failed.txt'],
    {
      cwd: out,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    },
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return {
    markdown: run.stdout,
    csv: readFileSync(path.join(out, 'fleet.csv'), 'utf8'),
    html: readFileSync(path.join(out, 'fleet.html'), 'utf8'),
    failed: readFileSync(path.join(out, 'failed.txt'), 'utf8'),
  };
}

function expectReport(rep: Awaited<ReturnType<typeof report>>, name: (repo: FleetRepo) => string, lines: number): void {
  const outcomes = expectedOutcomes(FLEET);
  expect(rep.markdown).toContain(
    `${FLEET.length} repositories (${lines} result lines from 1 file): ${outcomes.migrated} migrated, ${outcomes['needs-person']} need a person, ${outcomes.failed} failed, ${outcomes.compliant} already compliant.`,
  );
  expect(rep.markdown).toMatch(/\| `privileged-port` \| warning \| 2 \| 2 \|/);
  for (const repo of FLEET.filter((r) => r.outcome === 'failed' || r.outcome === 'needs-person')) {
    expect(rep.markdown).toMatch(
      new RegExp(`^\\| ${name(repo).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\| ${repo.outcome} \\| .+ \\|$`, 'm'),
    );
  }
  expect(rep.markdown).toMatch(
    /\| .*acme\/unprocessable \| failed \| Dockerfile: no FROM instruction: this is not a Dockerfile that builds an image/,
  );
  const csvRows = rep.csv.trimEnd().split('\r\n');
  const expectedRows = FLEET.reduce((sum, repo) => sum + Math.max(1, Object.keys(repo.files).filter(isDockerfile).length), 0);
  expect(csvRows[0]).toBe('repository,outcome,exit_code,commit,file,status,base_image,family,findings,rules,detail');
  expect(csvRows).toHaveLength(expectedRows + 1);
  expect(rep.failed).toBe(
    FLEET.filter((r) => r.outcome === 'failed')
      .map((r) => `${name(r)}\n`)
      .join(''),
  );
  // Self-contained: nothing in the page can fetch.
  expect(rep.html).not.toMatch(/<(script|img|link|iframe)[^>]+(src|href)=/i);
  expect(rep.html).not.toMatch(/url\(|@import|https?:\/\//);
  expect(rep.html).toContain(`data-total="repositories"><span class="n">${FLEET.length}</span>`);
}

describe('a fleet of real git repositories', () => {
  test(`the fleet has ${FLEET.length} repositories with varied bases, one unprocessable, one already migrated, one without a Dockerfile`, () => {
    expect(FLEET.length).toBeGreaterThanOrEqual(20);
    expect(new Set(FLEET.map(fullName)).size).toBe(FLEET.length);
    expect(FLEET.filter((r) => r.outcome === 'failed')).toHaveLength(1);
    expect(FLEET.some((r) => r.name === 'already-migrated' && r.outcome === 'compliant')).toBe(true);
  });

  test('multi-gitter: --dry-run (DRY_RUN=true) pushes nothing and writes nothing; the run opens the right pull requests', async () => {
    const origins = copyOrigins(template, path.join(dir, 'mg-origins'));
    const work = path.join(dir, 'mg-work');
    const dryOut = path.join(dir, 'mg-dry');
    const dry = await multiGitter(origins, FLEET, { work: path.join(work, 'dry'), out: dryOut, bin, dryRun: true });
    for (const run of dry) {
      expect(run.committed).toBe(false);
      expect(run.exit.stderr).toContain('DRY_RUN=true (multi-gitter dry run)');
    }
    for (const repo of FLEET) expect(heads(origins, repo)).toEqual(['main']);
    expectResults(path.join(dryOut, 'results.jsonl'), origins, { name: fullName, source: 'multi-gitter', dryRun: true });
    expect(readFileSync(path.join(dryOut, 'pr/acme/py-api.md'), 'utf8')).toContain('This pull request would change 1 Dockerfile');

    const out = path.join(dir, 'mg-out');
    const runs = await multiGitter(origins, FLEET, { work, out, bin, concurrent: 4 });
    expectCommitsAndPrs(runs, origins, { branch: 'peak-non-root' });
    const lines = expectResults(path.join(out, 'results.jsonl'), origins, { name: fullName, source: 'multi-gitter', dryRun: false });
    expect(lines.every((l) => l.runner === 'multi-gitter')).toBe(true);
    expectReport(await report(out, ['results.jsonl']), fullName, FLEET.length);
  });

  test('git-xargs: 8 clones at once append to one results file; the failed list drives the re-run', async () => {
    const origins = copyOrigins(template, path.join(dir, 'gx-origins'));
    const work = path.join(dir, 'gx-work');
    const out = path.join(dir, 'gx-out');
    const dry = await gitXargs(origins, FLEET, { work, out: path.join(dir, 'gx-dry'), bin, dryRun: true });
    for (const run of dry)
      expect([run.repository, run.committed, run.exit.stderr]).toEqual([
        run.repository,
        false,
        expect.stringContaining('XARGS_DRY_RUN=true (git-xargs dry run)'),
      ]);
    for (const repo of FLEET) expect(heads(origins, repo)).toEqual(['main']);

    const runs = await gitXargs(origins, FLEET, { work, out, bin, concurrent: 8 });
    expectCommitsAndPrs(runs, origins, { branch: 'peak-non-root' });
    const lines = expectResults(path.join(out, 'results.jsonl'), origins, { name: fullName, source: 'git-xargs', dryRun: false });
    expect(lines.every((l) => l.runner === 'git-xargs')).toBe(true);
    const first = await report(out, ['results.jsonl']);
    expectReport(first, fullName, FLEET.length);

    // A person fixes the unprocessable repository (gives the ARG a default) on main; git-xargs --repos FILE reruns only it.
    const fixer = path.join(dir, 'gx-fixer');
    git(dir, 'clone', '-q', path.join(origins, 'acme/unprocessable.git'), fixer);
    writeFileSync(path.join(fixer, 'Dockerfile'), 'ARG BASE=debian:bookworm-slim\nFROM $BASE\nCOPY . /app\nCMD ["/app/run"]\n');
    git(fixer, 'commit', '-qam', 'Give BASE a default');
    git(fixer, 'push', '-q', 'origin', 'main');
    const again = first.failed.trim().split('\n');
    const rerun = await gitXargs(
      origins,
      FLEET.filter((r) => again.includes(fullName(r))),
      { work, out, bin },
    );
    expect(rerun.map((r) => [r.repository, r.exit.code, r.committed])).toEqual([['acme/unprocessable', 0, true]]);
    const second = await report(out, ['results.jsonl']);
    expect(second.markdown).toMatch(/22 repositories \(23 result lines from 1 file\): \d+ migrated, \d+ need a person, 0 failed/);
    expect(second.failed).toBe('');
  });

  test('turbolift: foreach in work/<org>/<repo> (origin is a fork), commit, create-prs; foreach --failed after a fix', async () => {
    const origins = copyOrigins(template, path.join(dir, 'tl-origins'));
    const forks = path.join(dir, 'tl-forks');
    const out = path.join(dir, 'tl-out');
    const turbolift = new Turbolift(origins, forks, { work: path.join(dir, 'tl-work'), out, bin });
    turbolift.clone(FLEET);
    const script = ['sh', path.join(ROOT, 'contrib/turbolift/peak-fix.sh')];
    const runs = turbolift.commitAndCreatePrs(await turbolift.foreach(script));
    // Pull requests come from the fork's branch: check the fork, and that the organisation's repositories are untouched.
    expectCommitsAndPrs(runs, forks, { branch: 'peak-non-root' });
    for (const repo of FLEET) expect(heads(origins, repo)).toEqual(['main']);
    const lines = expectResults(path.join(out, 'results.jsonl'), origins, { name: fullName, source: 'env', dryRun: false });
    expect(lines.find((l) => l.repository === 'acme/py-api')?.commit).toBe(git(path.join(origins, 'acme/py-api.git'), 'rev-parse', 'main'));
    expect(readFileSync(turbolift.failedFile, 'utf8')).toContain('acme/unprocessable\n');
    const rep = await report(out, ['results.jsonl']);
    expectReport(rep, fullName, FLEET.length);

    // The turbolift way: fix the working copy by hand, then rerun only the failures.
    const workCopy = path.join(turbolift.campaign, 'work/acme/unprocessable');
    writeFileSync(path.join(workCopy, 'Dockerfile'), 'ARG BASE=alpine:3.20\nFROM $BASE\nCOPY . /app\nCMD ["/app/run"]\n');
    const rerun = await turbolift.foreach(script, turbolift.failedFile);
    expect(rerun.map((r) => [r.repository, r.exit.code])).toEqual([['acme/unprocessable', 0]]);
    expect(readFileSync(turbolift.failedFile, 'utf8')).not.toContain('acme/unprocessable');
    writeFileSync(path.join(out, 'failed.txt'), '');
    const after = await report(out, ['results.jsonl']);
    expect(after.failed).toBe('');
    expect(after.markdown).toContain('0 failed');
  });

  test('Sourcegraph: the step runs in a workspace without git history; stdout is the changeset body', async () => {
    const origins = copyOrigins(template, path.join(dir, 'sg-origins'));
    const spec = readFileSync(path.join(ROOT, 'contrib/sourcegraph/peak-fix.batch.yaml'), 'utf8');
    const { parse } = await import('yaml');
    const batch = parse(spec) as {
      steps: { run: string; env: Record<string, string>; outputs: Record<string, { value: string }> }[];
      changesetTemplate: { body: string };
    };
    expect(batch.steps[0].run).toBe('peak-fix-sourcegraph-step');
    expect(batch.steps[0].env.PEAK_FIX_REPOSITORY).toBe('${{ repository.name }}');
    expect(batch.steps[0].outputs.prBody.value).toBe('${{ step.stdout }}');
    expect(batch.changesetTemplate.body).toBe('${{ outputs.prBody }}');

    const host = 'git.example.invalid';
    const runs = await sourcegraph(origins, FLEET, { work: path.join(dir, 'sg-work'), bin, host });
    expectCommitsAndPrs(runs, origins, { branch: 'peak-fix/non-root' });
    for (const run of runs.filter((r) => r.committed)) expect(run.prBody).toMatch(/^## Run the images as Peak's non-root user\n/);
  });

  test('appends from 12 processes at once never interleave (large lines, one write each)', async () => {
    const file = path.join(dir, 'stress/results.jsonl');
    mkdirSync(path.dirname(file), { recursive: true });
    const writer = `
      const { appendResult } = await import(${JSON.stringify(path.join(ROOT, 'dist/src/fleet/results.js'))});
      const id = process.argv[1];
      for (let i = 0; i < 25; i++) {
        appendResult(${JSON.stringify(file)}, { schema: 'peak-fix/fleet-result@1', repository: id + '/' + i, pad: String(i % 10).repeat(300000) });
      }`;
    const runs = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        exec(process.execPath, ['--input-type=module', '-e', writer, `w${n}`], { cwd: dir, env: { PATH: process.env.PATH } }),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(12).fill(0));
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(300);
    const parsed = lines.map((line) => JSON.parse(line) as { repository: string; pad: string });
    expect(new Set(parsed.map((p) => p.repository)).size).toBe(300);
    for (const p of parsed) expect(p.pad).toBe(p.repository.split('/')[1].slice(-1).repeat(300000));
    expect(existsSync(file)).toBe(true);
  });
});

test('git is the real one', () => {
  expect(execFileSync('git', ['--version'], { encoding: 'utf8' })).toMatch(/^git version \d/);
});
