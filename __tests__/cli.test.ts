import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { applyPatch } from 'diff';
import { main } from '../src/cli/index.js';
import { fixDockerfile } from '../src/index.js';
import type { JsonReport } from '../src/report/json.js';
import { unifiedDiff } from '../src/report/diff.js';
import { ALPINE, cleanup, DEBIAN, NO_FROM, runCli, tempDir, VERSION, writeTree } from './helpers/cli.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const read = (name: string): string => readFileSync(path.join(dir, name), 'utf8');

describe('default dry run', () => {
  test('prints a unified diff per changed file, findings under it, the summary on stderr; writes nothing', async () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'svc/api.Dockerfile': ALPINE, 'ok/Dockerfile': fixDockerfile(DEBIAN).output });
    const { code, stdout, stderr } = await runCli([], { cwd: dir });
    expect(code).toBe(0);
    expect(read('Dockerfile')).toBe(DEBIAN);
    // The diffs apply: patching the originals gives the engine's output.
    const [first, second] = stdout.split(/^(?=--- )/m);
    expect(first).toMatch(/^--- a\/Dockerfile\n\+\+\+ b\/Dockerfile\n@@ /);
    expect(second).toMatch(/^--- a\/svc\/api.Dockerfile\n\+\+\+ b\/svc\/api.Dockerfile\n@@ /);
    expect(applyPatch(DEBIAN, first.replace(/^ {2}\S.*\n( {6}hint: .*\n)?/gm, ''))).toBe(fixDockerfile(DEBIAN).output);
    // Informational findings ask nothing of anyone: only --verbose shows them (below).
    for (const finding of fixDockerfile(DEBIAN).findings) {
      const line = `  Dockerfile:${finding.line}  ${finding.severity}  ${finding.message}  (${finding.rule})\n`;
      if (finding.severity === 'info') expect(first).not.toContain(line);
      else expect(first).toContain(line);
    }
    expect(stdout).not.toContain('ok/Dockerfile'); // quiet about unchanged files
    expect(stdout).not.toMatch(/\x1b\[/); // no colour without a TTY
    expect(stderr).toMatch(/^2 would change, 1 unchanged, 0 skipped, 0 errors/m);
  });

  test('--verbose lists unchanged files', async () => {
    writeTree(dir, { Dockerfile: fixDockerfile(DEBIAN).output });
    const { code, stderr } = await runCli(['--verbose'], { cwd: dir });
    expect(code).toBe(0);
    expect(stderr).toContain('Dockerfile: unchanged');
  });

  test('colour: --color forces it, --no-color and NO_COLOR turn it off on a TTY', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    expect((await runCli(['--color'], { cwd: dir })).stdout).toMatch(/\x1b\[32m\+/);
    const tty = async (argv: string[], env: Record<string, string>): Promise<string> => {
      let stdout = '';
      await main(argv, {
        cwd: dir,
        env,
        stdout: { write: (s: string) => (stdout += s), isTTY: true },
        stderr: { write: () => true },
        stdin: Readable.from([]),
        signals: null,
      });
      return stdout;
    };
    expect(await tty([], {})).toMatch(/\x1b\[/);
    expect(await tty([], { NO_COLOR: '1' })).not.toMatch(/\x1b\[/);
    expect(await tty(['--no-color'], {})).not.toMatch(/\x1b\[/);
  });

  test('a directory or pattern named on the command line that matches no file is an error, exit 2 (CI-safe)', async () => {
    mkdirSync(path.join(dir, 'empty'));
    writeTree(dir, { 'svc/Dockerfile': DEBIAN });
    const named = await runCli(['--check', 'empty'], { cwd: dir });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('peak-fix: empty: no Dockerfiles found');
    const typo = await runCli(['--check', 'svc/Dokcerfile*', 'svc'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('[warn] svc/Dockerfile\n');
    expect(typo.stderr).toContain('peak-fix: svc/Dokcerfile*: no files match this pattern');
  });

  test('the implicit current directory without Dockerfiles is a notice, exit 0 (a fleet clone with nothing to do)', async () => {
    mkdirSync(path.join(dir, 'empty'));
    const { code, stdout, stderr } = await runCli(['--write'], { cwd: path.join(dir, 'empty') });
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('peak-fix: .: no Dockerfiles found');
  });
});

describe('--check, --write, --list-different', () => {
  test('--check exits 1 and lists files that would change; after --write it exits 0', async () => {
    writeTree(dir, { 'a/Dockerfile': DEBIAN, 'b/Dockerfile': ALPINE, 'c/Dockerfile': fixDockerfile(ALPINE).output });
    const check = await runCli(['--check'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('[warn] a/Dockerfile\n[warn] b/Dockerfile\n');
    expect(check.stderr).toMatch(/2 would change, 1 unchanged, 0 skipped, 0 errors/);

    const write = await runCli(['--write'], { cwd: dir });
    expect(write.code).toBe(0);
    expect(write.stdout).toMatch(/^a\/Dockerfile\n/);
    expect(write.stdout).toMatch(/^b\/Dockerfile\n/m);
    expect(write.stdout).not.toContain('c/Dockerfile');
    expect(write.stderr).toMatch(/^2 changed, 1 unchanged, 0 skipped, 0 errors$/m);
    expect(read('a/Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
    expect(read('b/Dockerfile')).toBe(fixDockerfile(ALPINE).output);

    const again = await runCli(['--check'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/0 would change, 3 unchanged/);
  });

  test('--list-different prints only paths, exit 1 if any, else 0', async () => {
    writeTree(dir, { 'x.Dockerfile': DEBIAN, 'y.Dockerfile': fixDockerfile(DEBIAN).output });
    const listed = await runCli(['-l', '.'], { cwd: dir });
    expect(listed).toEqual({ code: 1, stdout: 'x.Dockerfile\n', stderr: '' });
    const none = await runCli(['--list-different', 'y.Dockerfile'], { cwd: dir });
    expect(none).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  test('a missing path exits 2, and the other files are still processed and written', async () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'bad/Dockerfile': NO_FROM });
    const { code, stdout, stderr } = await runCli(['--write', 'missing.Dockerfile', '.'], { cwd: dir });
    expect(code).toBe(2);
    expect(read('Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
    expect(stdout).toMatch(/^Dockerfile$/m);
    expect(stderr).toContain('peak-fix: missing.Dockerfile: no such file or directory\n');
    expect(stderr).toMatch(/^peak-fix: bad\/Dockerfile: .*FROM.*$/m);
    expect(stderr).toMatch(/1 changed, 0 unchanged, 0 skipped, 2 errors/);
  });

  test('errors beat --check changes: exit 2', async () => {
    writeTree(dir, { Dockerfile: DEBIAN, 'empty.Dockerfile': '' });
    const { code, stderr } = await runCli(['--check'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('peak-fix: empty.Dockerfile: empty file\n');
  });

  test('the same file named twice is processed once', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const { stdout } = await runCli(['-l', 'Dockerfile', './Dockerfile', '.', '*'], { cwd: dir });
    expect(stdout).toBe('Dockerfile\n');
  });
});

describe('--stdin', () => {
  test('prints the migrated text on stdout and findings on stderr, informational ones only with --verbose', async () => {
    const { code, stdout, stderr } = await runCli(['--stdin', '--stdin-filepath', 'svc/Dockerfile'], { cwd: dir, stdin: DEBIAN });
    const expected = fixDockerfile(DEBIAN);
    expect(code).toBe(0);
    expect(stdout).toBe(expected.output);
    const informational = expected.findings.filter((finding) => finding.severity === 'info');
    expect(informational.length).toBeGreaterThan(0);
    for (const finding of expected.findings) {
      const line = `svc/Dockerfile:${finding.line}  ${finding.severity}`;
      if (finding.severity === 'info') expect(stderr).not.toContain(line);
      else expect(stderr).toContain(line);
    }
    const verbose = await runCli(['--stdin', '--verbose', '--stdin-filepath', 'svc/Dockerfile'], { cwd: dir, stdin: DEBIAN });
    for (const finding of informational) expect(verbose.stderr).toContain(`svc/Dockerfile:${finding.line}  info`);
  });

  test('an already compliant input comes back unchanged; an invalid one exits 2 with nothing on stdout', async () => {
    const compliant = fixDockerfile(ALPINE).output;
    expect(await runCli(['--stdin'], { cwd: dir, stdin: compliant })).toMatchObject({ code: 0, stdout: compliant });
    const bad = await runCli(['--stdin'], { cwd: dir, stdin: NO_FROM });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^peak-fix: <stdin>: .*FROM/);
    expect(await runCli(['--stdin'], { cwd: dir, stdin: '' })).toMatchObject({ code: 2, stderr: 'peak-fix: <stdin>: empty file\n' });
  });

  test('keeps a BOM and CRLF', async () => {
    const input = '\uFEFF' + DEBIAN.replace(/\n/g, '\r\n');
    const { stdout } = await runCli(['--stdin'], { cwd: dir, stdin: input });
    expect(stdout).toBe(fixDockerfile(input).output);
    expect(stdout.startsWith('\uFEFF')).toBe(true);
  });

  test('cannot be combined with paths or --write', async () => {
    expect((await runCli(['--stdin', 'Dockerfile'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['--stdin', '--write'], { cwd: dir })).code).toBe(2);
  });
});

describe('--format json', () => {
  test('one document with files, statuses, findings, diffs and the summary', async () => {
    writeTree(dir, {
      'a/Dockerfile': DEBIAN,
      'b/Dockerfile': fixDockerfile(DEBIAN).output,
      'c/Dockerfile': 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n',
      'd/Dockerfile': NO_FROM,
    });
    const { code, stdout } = await runCli(['--format', 'json'], { cwd: dir });
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as JsonReport;
    expect(Object.keys(report)).toEqual(['files', 'summary']);
    expect(report.summary).toEqual({ changed: 1, unchanged: 1, skipped: 1, errors: 1 });
    expect(report.files.map((f) => [f.path, f.status])).toEqual([
      ['a/Dockerfile', 'changed'],
      ['b/Dockerfile', 'unchanged'],
      ['c/Dockerfile', 'skipped'],
      ['d/Dockerfile', 'error'],
    ]);
    const [a, b, c, d] = report.files;
    expect(a).toEqual({
      path: 'a/Dockerfile',
      status: 'changed',
      findings: fixDockerfile(DEBIAN).findings,
      diff: unifiedDiff('a/Dockerfile', DEBIAN, fixDockerfile(DEBIAN).output),
    });
    expect(applyPatch(DEBIAN, a.diff as string)).toBe(fixDockerfile(DEBIAN).output);
    expect(b).toEqual({ path: 'b/Dockerfile', status: 'unchanged', findings: expect.any(Array), diff: null });
    expect(c.skipped).toMatch(/Windows/);
    expect(c.diff).toBeNull();
    expect(d).toEqual({ path: 'd/Dockerfile', status: 'error', findings: [], diff: null, error: expect.stringMatching(/FROM/) });
  });

  test('an invalid format is a usage error', async () => {
    const { code, stderr } = await runCli(['--format', 'xml'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toBe('peak-fix: invalid --format "xml": use text, json or sarif\n');
  });
});

describe('options and config', () => {
  test('an invalid --user exits 2 with one line, and nothing is written', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const { code, stdout, stderr } = await runCli(['--write', '--user', 'a;rm -rf /'], { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^peak-fix: invalid user name "a;rm -rf \/"/);
    expect(read('Dockerfile')).toBe(DEBIAN);
  });

  test.each([
    [['--preset', 'fast'], /invalid preset "fast"/],
    [['--workdir', 'sometimes'], /invalid workdir mode "sometimes"/],
    [['--home', 'relative/home'], /invalid home directory/],
    [['--uid-arg', '1UID'], /invalid build argument name/],
    [['--user'], /not enough arguments following: user/],
    [['--bogus'], /^peak-fix: unknown argument: bogus/],
    [['--write', '--check'], /--write and --check cannot be used together/],
  ])('%j is a usage error', async (argv, message) => {
    const { code, stderr } = await runCli(argv as string[], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('flags reach the engine', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const argv = [
      '--write',
      '--user',
      'app',
      '--home',
      '/srv/app',
      '--uid-arg',
      'APP_UID',
      '--preset',
      'peak-doc',
      '--all-stages',
      '--workdir',
      'always',
    ];
    expect((await runCli(argv, { cwd: dir })).code).toBe(0);
    const options = { user: 'app', home: '/srv/app', uidArg: 'APP_UID', preset: 'peak-doc', allStages: true, workdir: 'always' } as const;
    expect(read('Dockerfile')).toBe(fixDockerfile(DEBIAN, options).output);
  });

  test('.peak-fix.json is found walking up from the cwd; flags win', async () => {
    writeTree(dir, { '.peak-fix.json': JSON.stringify({ user: 'app', uidArg: 'APP_UID' }), 'sub/Dockerfile': DEBIAN });
    const cwd = path.join(dir, 'sub');
    const fromConfig = await runCli(['--stdin'], { cwd, stdin: DEBIAN });
    expect(fromConfig.stdout).toBe(fixDockerfile(DEBIAN, { user: 'app', uidArg: 'APP_UID' }).output);
    const flagWins = await runCli(['--stdin', '--user', 'other'], { cwd, stdin: DEBIAN });
    expect(flagWins.stdout).toBe(fixDockerfile(DEBIAN, { user: 'other', uidArg: 'APP_UID' }).output);
    const noConfig = await runCli(['--stdin', '--no-config'], { cwd, stdin: DEBIAN });
    expect(noConfig.stdout).toBe(fixDockerfile(DEBIAN).output);
  });

  test('a "peak-fix" key in package.json', async () => {
    writeTree(dir, { 'package.json': JSON.stringify({ name: 'x', 'peak-fix': { user: 'svc', workdir: 'never' } }) });
    const { stdout } = await runCli(['--stdin'], { cwd: dir, stdin: DEBIAN });
    expect(stdout).toBe(fixDockerfile(DEBIAN, { user: 'svc', workdir: 'never' }).output);
  });

  test('a package.json without the key does not stop the search', async () => {
    writeTree(dir, { '.peak-fix.json': '{"user": "up"}', 'sub/package.json': '{"name": "x"}' });
    const { stdout } = await runCli(['--stdin'], { cwd: path.join(dir, 'sub'), stdin: DEBIAN });
    expect(stdout).toBe(fixDockerfile(DEBIAN, { user: 'up' }).output);
  });

  test('--config names a file', async () => {
    writeTree(dir, { 'ci/opts.json': '{"home": "/opt/home"}', '.peak-fix.json': '{"user": "ignored"}' });
    const { stdout } = await runCli(['--stdin', '--config', 'ci/opts.json'], { cwd: dir, stdin: DEBIAN });
    expect(stdout).toBe(fixDockerfile(DEBIAN, { home: '/opt/home' }).output);
  });

  test.each([
    ['{"usr": "x"}', /\.peak-fix\.json: unknown key "usr" \(allowed: user, home, uidArg, preset, allStages, workdir, force, images\)/],
    ['{"allStages": "yes"}', /"allStages" must be a boolean/],
    ['{"user": "Bad User"}', /\.peak-fix\.json: invalid user name "Bad User"/],
    ['[1]', /must be a JSON object/],
    ['{ nope', /\.peak-fix\.json: invalid JSON/],
  ])('an invalid config %s exits 2 naming the file', async (config, message) => {
    writeTree(dir, { '.peak-fix.json': config, Dockerfile: DEBIAN });
    const { code, stderr } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(read('Dockerfile')).toBe(DEBIAN);
  });

  test('an unknown key under package.json "peak-fix" is an error too; a missing --config file as well', async () => {
    writeTree(dir, { 'package.json': '{"peak-fix": {"colour": true}}' });
    expect(await runCli([], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/package\.json: "peak-fix": unknown key "colour"/),
    });
    expect(await runCli(['--config', 'nope.json'], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nope\.json: cannot read config/),
    });
  });
});

test('--jobs takes a whole number from 1', async () => {
  for (const value of ['0', 'x', '1.5', '-2']) {
    expect(await runCli(['--check', '--jobs', value], { cwd: dir })).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `peak-fix: invalid --jobs ${JSON.stringify(value)}: use a whole number from 1 to 9999\n`,
    });
  }
  writeTree(dir, { Dockerfile: DEBIAN });
  expect(await runCli(['--check', '-j', '3'], { cwd: dir })).toMatchObject({ code: 1, stdout: '[warn] Dockerfile\n' });
});

describe('--help and --version', () => {
  test('--help documents every flag, with examples', async () => {
    const { code, stdout } = await runCli(['--help'], { cwd: dir });
    expect(code).toBe(0);
    const flags = ['--write', '--check', '--list-different', '--stdin', '--stdin-filepath', '--format', '--user', '--home', '--uid-arg'];
    flags.push('--preset', '--all-stages', '--workdir', '--config', '--color', '--verbose', '--debug', '--help', '--version');
    for (const flag of flags) {
      expect(stdout).toContain(flag);
      if (!['--help', '--version'].includes(flag)) expect(stdout).toMatch(new RegExp(`^ {2}peak-fix .*${flag}\\b`, 'm'));
    }
    expect(stdout).toContain('--no-config');
    expect(stdout).toContain('--no-color');
    expect(stdout).toContain('Examples:');
  });

  test('--version prints the package version', async () => {
    expect(await runCli(['--version'], { cwd: dir })).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('--debug', () => {
  test('prints stack traces; without it errors are one line', async () => {
    writeTree(dir, { Dockerfile: NO_FROM });
    const plain = await runCli(['Dockerfile'], { cwd: dir });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(['--debug', 'Dockerfile'], { cwd: dir });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/PeakFixError: .*\n\s+at /);
  });
});

/** The compiled CLI, run as users run it. */
describe('Dockerfiles that cannot be migrated', () => {
  test('each is a one-line error naming the file and the reason; the others are still written; exit 2', async () => {
    writeTree(dir, {
      'heredoc/Dockerfile': 'FROM debian\nRUN <<EOF\necho never closed\n',
      'continuation/Dockerfile': 'FROM debian\nRUN echo \\\n',
      'ok/Dockerfile': DEBIAN,
    });
    const { code, stderr } = await runCli(['--write', '.'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('peak-fix: continuation/Dockerfile: line 2: unterminated line continuation');
    expect(stderr).toContain('peak-fix: heredoc/Dockerfile: line 2: unterminated heredoc: <<EOF has no closing EOF line');
    expect(stderr.split('\n').filter((line) => line.startsWith('peak-fix: ')).length).toBe(2);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(read('ok/Dockerfile')).toBe(fixDockerfile(DEBIAN).output);
    expect(read('heredoc/Dockerfile')).toBe('FROM debian\nRUN <<EOF\necho never closed\n');
  });
});

describe('a base that cannot be known', () => {
  const UNRESOLVED = 'ARG BASE\nFROM $BASE\nCOPY a /a\n';

  test('is skipped with the unresolved-base warning and a hint, not an error; --check still fails on it', async () => {
    writeTree(dir, { 'svc/Dockerfile': UNRESOLVED });
    const dry = await runCli(['--format', 'json', '.'], { cwd: dir });
    expect(dry.code).toBe(0);
    const report = JSON.parse(dry.stdout) as { files: { status: string; findings: { rule: string; severity: string; hint?: string }[] }[] };
    expect(report.files[0].status).toBe('skipped');
    expect(report.files[0].findings[0]).toMatchObject({ rule: 'unresolved-base', severity: 'warning' });
    expect(report.files[0].findings[0].hint).toContain('--arg BASE=');
    const check = await runCli(['--check', '.'], { cwd: dir });
    expect(check.code).toBe(1);
    const list = await runCli(['--list-different', '.'], { cwd: dir });
    expect(list.code).toBe(1);
    expect(read('svc/Dockerfile')).toBe(UNRESOLVED);
  });

  test('--arg NAME=VALUE supplies the value, as docker build --build-arg would', async () => {
    writeTree(dir, { 'svc/Dockerfile': UNRESOLVED });
    const { code } = await runCli(['--write', '--arg', 'BASE=alpine:3.19', '--arg', 'OTHER=x', '.'], { cwd: dir });
    expect(code).toBe(0);
    expect(read('svc/Dockerfile')).toContain('adduser -D -h /home/peak-user');
    expect((await runCli(['--check', '--arg', 'BASE=alpine:3.19', '.'], { cwd: dir })).code).toBe(0);
  });

  test('a malformed --arg is a usage error', async () => {
    const { code, stderr } = await runCli(['--arg', 'no-equals-sign', '.'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('invalid --arg "no-equals-sign": use NAME=VALUE');
  });
});

describe('compose and bake build targets (issue 18)', () => {
  test('a Dockerfile every compose build stops at a target: that stage is migrated, and the stage after it builds as before', async () => {
    writeTree(dir, {
      Dockerfile:
        'FROM python:3.12-slim AS builder\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n\nFROM builder AS dev-envs\nRUN apt-get update\nCMD ["sleep", "infinity"]\n',
      'compose.yaml': 'services:\n  api:\n    build:\n      context: .\n      target: builder\n',
    });
    const { code } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(0);
    const text = read('Dockerfile');
    expect(text).toMatch(/^FROM python:3\.12-slim AS builder\nARG PEAK_USER_ID\n/);
    expect(text).toContain('CMD ["python", "main.py"]\nRUN find /app -type d');
    expect(text).toContain('USER $PEAK_USER_ID\n\nFROM builder AS dev-envs\nUSER 0\nRUN apt-get update\nCMD ["sleep", "infinity"]\n');
  });

  test('a Dockerfile also built whole keeps its final stage as the one migrated', async () => {
    const dockerfile = 'FROM python:3.12-slim AS builder\nCMD ["python"]\n\nFROM builder AS prod\nCMD ["python", "main.py"]\n';
    writeTree(dir, {
      Dockerfile: dockerfile,
      'compose.yaml': 'services:\n  api:\n    build:\n      context: .\n      target: builder\n  web:\n    build: .\n',
    });
    await runCli(['--write'], { cwd: dir });
    expect(read('Dockerfile')).toMatch(/^FROM python:3\.12-slim AS builder\nCMD \["python"\]\n\nFROM builder AS prod\nARG PEAK_USER_ID\n/);
  });
});

describe('docker build in Makefiles and package.json scripts', () => {
  test('a base a Makefile builds with a tag variable: a child FROM another tag of it is a child of a migrated base', async () => {
    writeTree(dir, {
      'base/Makefile': 'TAG ?= latest\nbase:\n\tdocker build -f base.Dockerfile -t corp/base:$(TAG) .\n',
      'base/base.Dockerfile': 'FROM debian:bookworm-slim\nRUN apt-get update\n',
      'app/Dockerfile': 'FROM corp/base:1.15\nRUN apt-get install -y curl\nCMD ["curl"]\n',
    });
    const { code, stdout, stderr } = await runCli(['--write', '--verbose'], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout + stderr).toContain('facts about corp/base:1.15 from repository base/base.Dockerfile (base/Makefile base)');
    expect(read('app/Dockerfile')).toMatch(/^FROM corp\/base:1\.15\nUSER 0\n/);
  });

  test('package.json scripts that build a stage with --target: that stage is the one migrated', async () => {
    writeTree(dir, {
      'package.json': JSON.stringify({ scripts: { 'build-docker': 'docker build -f docker/dockerfile --target release -t corp/app:2 .' } }),
      'docker/dockerfile':
        'FROM node:22-bookworm-slim AS release\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n\nFROM release AS upload\nRUN npm run upload\n',
    });
    const { code } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(0);
    const text = read('docker/dockerfile');
    expect(text).toMatch(/^FROM node:22-bookworm-slim AS release\nARG PEAK_USER_ID\n/);
    expect(text).toContain('\nFROM release AS upload\nUSER 0\nRUN npm run upload\n');
  });
});

describe('the build context tells a root file system from the application (issue 18)', () => {
  test('COPY . / of a context that holds etc/ and usr/ keeps root as owner; of an application, the user gets it', async () => {
    writeTree(dir, {
      'rootfs/Dockerfile': 'FROM debian:bookworm-slim\nCOPY . /\nCMD ["/usr/local/bin/app"]\n',
      'rootfs/etc/app/app.conf': 'x=1\n',
      'rootfs/usr/local/bin/app': '#!/bin/sh\n',
      'app/Dockerfile': 'FROM debian:bookworm-slim\nCOPY . /\nCMD ["python3", "/main.py"]\n',
      'app/main.py': 'print(1)\n',
      'folder/Dockerfile': 'FROM debian:bookworm-slim\nCOPY prebuildfs /\nCMD ["/opt/app/run"]\n',
      'folder/prebuildfs/opt/app/run': '#!/bin/sh\n',
    });
    const { code } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(0);
    expect(read('rootfs/Dockerfile')).toContain('\nCOPY . /\n');
    expect(read('app/Dockerfile')).toContain('\nCOPY --chown=peak-user . /\n');
    expect(read('folder/Dockerfile')).toContain('\nCOPY prebuildfs /\n');
  });
});
