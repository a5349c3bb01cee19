/**
 * Issue 13 with a real Docker engine: base images peak-fix learns from the image itself (`--inspect-images`,
 * `peak-fix inspect` and a committed facts file), and images of one repository built FROM each other (compose).
 * The two "internal" bases are fakes made here from the stand-ins, with names no table knows, labelled as fakes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyImage } from '../../src/runner/verify.js';
import {
  BASES,
  build,
  configUser,
  docker,
  dockerAvailable,
  imageSize,
  removeContext,
  removeImage,
  run,
  STAND_IN_LABEL,
  tempContext,
  testTag,
} from './docker.js';
import { CLI, HOME, MB } from './migrate.js';

/** A suffix so that repository names are this run's own. */
const RUN_ID = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
/** An internal hardened base: Python, ending in `USER 1001` with no passwd entry for it. */
const HARDENED = `corp-e2e-${RUN_ID}/hardened-python:3.11`;
/** An internal base with no shell and no /etc/passwd: one static binary (the scratch stand-in's /hello). */
const STATIC = `corp-e2e-${RUN_ID}/static-runtime:1`;

const tags: string[] = [];
const dirs: string[] = [];

function peakFix(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function context(files: Record<string, string>): string {
  const dir = tempContext(files);
  dirs.push(dir);
  return dir;
}

function tag(name: string): string {
  const t = testTag(name);
  tags.push(t);
  return t;
}

interface AppCase {
  name: string;
  dockerfile: string;
  files: Record<string, string>;
  uid: string;
  app: { entrypoint?: string; args?: string[]; expect: string };
  noShell?: boolean;
}

function appOutput(image: string, c: AppCase): string {
  const r = run(image, c.app.args ?? [], c.app.entrypoint ? { entrypoint: c.app.entrypoint } : {});
  const out = (r.stdout + (r.code === 0 ? '' : `\nexit ${r.code}: ${r.stderr}`)).trim();
  // The static stand-in's /hello --stat prints the file's owner, which the rewrite is meant to change.
  return c.noShell ? out.replace(/ uid=\d+ gid=\d+/, '') : out;
}

/** The checks of every e2e case: builds, Config.User and id -u are the UID, output unchanged, <= 1 MB growth, no build without the argument. */
function checkMigrated(dir: string, c: AppCase, originalTag: string, expected: string): string[] {
  const problems: string[] = [];
  const migrated = tag(`${c.name}-new`);
  const after = build(dir, migrated, { PEAK_USER_ID: c.uid });
  if (!after.ok) return [`build: ${after.output.split('\n').slice(-8).join(' | ')}`];
  if (c.noShell) {
    if (configUser(migrated) !== c.uid) problems.push(`config user: ${configUser(migrated)}`);
    const hello = run(migrated, [], { entrypoint: '/hello' });
    if (!hello.stdout.startsWith(`uid=${c.uid} `)) problems.push(`process uid: ${hello.stdout.trim()}`);
  } else {
    for (const check of verifyImage({ image: migrated, uid: c.uid, home: HOME }).checks)
      if (!check.ok) problems.push(`${check.name}: ${check.detail}`);
  }
  const actual = appOutput(migrated, c);
  if (actual !== expected) problems.push(`app: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);
  const growth = imageSize(migrated) - imageSize(originalTag);
  if (growth > MB) problems.push(`size: ${(growth / MB).toFixed(2)} MB larger`);
  const missing = build(dir, tag(`${c.name}-noarg`));
  if (missing.ok) problems.push('the build without PEAK_USER_ID succeeded');
  else if (!missing.output.includes('PEAK_USER_ID'))
    problems.push(`the failure without the argument does not name PEAK_USER_ID: ${missing.output.slice(-300)}`);
  return problems;
}

const CASES: AppCase[] = [
  {
    name: 'internal-hardened',
    dockerfile: `FROM ${HARDENED}\nCOPY app.py /opt/app/app.py\nCMD ["python3", "/opt/app/app.py"]\n`,
    files: { 'app.py': 'print("hardened", 6 * 7)\n' },
    uid: '1002',
    app: { expect: 'hardened 42' },
  },
  {
    name: 'internal-static',
    dockerfile: `FROM ${STATIC}\nCOPY config.txt /etc/app/config.txt\nCMD ["/hello", "--stat", "/etc/app/config.txt"]\n`,
    files: { 'config.txt': 'x\n' },
    uid: '1003',
    app: { expect: '/etc/app/config.txt' },
    noShell: true,
  },
];

const ready = dockerAvailable();

beforeAll(() => {
  if (!ready) throw new Error('no Docker engine answers: run npm run test:e2e');
  const label = `LABEL ${STAND_IN_LABEL}=internal-fake ${STAND_IN_LABEL}.fake-of=none`;
  const hardened = context({ Dockerfile: `FROM ${BASES.python}\n${label}\nUSER 1001\n` });
  const statik = context({ Dockerfile: `FROM ${BASES.distroless}\n${label}\nCMD ["/hello"]\n` });
  for (const [dir, name] of [
    [hardened, HARDENED],
    [statik, STATIC],
  ]) {
    const r = build(dir, name);
    if (!r.ok) throw new Error(`cannot build the fake internal base ${name}:\n${r.output}`);
    tags.push(name);
  }
});

afterAll(() => {
  for (const t of tags.reverse()) removeImage(t);
  for (const d of dirs) removeContext(d);
});

describe('internal bases no table knows', () => {
  const rewritten = new Map<string, string>();
  let factsFile = '';

  test.each(CASES)('$name: migrated with --inspect-images, it builds and runs as the UID', (c) => {
    const dir = context({ Dockerfile: c.dockerfile, ...c.files });
    const original = tag(`${c.name}-orig`);
    const before = build(dir, original);
    if (!before.ok) throw new Error(`the original does not build:\n${before.output}`);
    const expected = appOutput(original, c);
    expect(expected).toContain(c.app.expect);

    // Without facts, the guess breaks the build on the hardened base (the inserted useradd runs as 1001).
    if (c.name === 'internal-hardened') {
      const guessed = context({ Dockerfile: c.dockerfile, ...c.files });
      expect(peakFix(guessed, ['--write', 'Dockerfile']).code).toBe(0);
      expect(build(guessed, tag(`${c.name}-guess`), { PEAK_USER_ID: c.uid }).ok).toBe(false);
    }

    const fixed = peakFix(dir, ['--write', '--inspect-images', 'Dockerfile']);
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toMatch(
      new RegExp(
        `inspected ${c.dockerfile
          .split('\n')[0]
          .slice(5)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(sha256:`,
      ),
    );
    rewritten.set(c.name, readFileSync(join(dir, 'Dockerfile'), 'utf8'));
    expect(checkMigrated(dir, c, original, expected)).toEqual([]);
  });

  test('peak-fix inspect writes a facts file for both', () => {
    const dir = context({ '.peak-fix.json': '{}\n' });
    const r = peakFix(dir, ['inspect', HARDENED, STATIC]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${HARDENED} sha256:`);
    expect(r.stdout).toContain('default user 1001');
    expect(r.stdout).toContain('no shell, user creation none');
    factsFile = readFileSync(join(dir, 'peak-fix-images.json'), 'utf8');
    const json = JSON.parse(factsFile) as { images: { repository: string; digest: string; engine: string; inspected: string }[] };
    const id = docker(['image', 'inspect', '-f', '{{.Id}}', HARDENED]).stdout.trim();
    expect(json.images.find((i) => i.repository === HARDENED.split(':')[0])?.digest).toBe(id);
    expect(json.images.every((i) => i.engine !== '' && !Number.isNaN(Date.parse(i.inspected)))).toBe(true);
  });

  test.each(CASES)('$name: migrated from the committed facts file with no engine, the same rewrite builds and runs', (c) => {
    expect(factsFile).not.toBe('');
    const dir = context({ Dockerfile: c.dockerfile, ...c.files, 'peak-fix-images.json': factsFile });
    const original = tag(`${c.name}-orig2`);
    expect(build(dir, original).ok).toBe(true);
    const expected = appOutput(original, c);
    // No engine: DOCKER_HOST points nowhere. --inspect-images has nothing to ask: the facts file places both.
    const fixed = peakFix(dir, ['--write', '--inspect-images', '--verbose', 'Dockerfile'], {
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toContain('every base image is already known');
    expect(fixed.stdout).toMatch(/from inspected sha256:[0-9a-f]{64}/);
    const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    expect(text).toBe(rewritten.get(c.name));
    expect(checkMigrated(dir, c, original, expected)).toEqual([]);
  });
});

describe('a repository whose images are built FROM each other (compose)', () => {
  const base = `corp-e2e-${RUN_ID}/base:1`;
  const api = `corp-e2e-${RUN_ID}/api:1`;
  const worker = `corp-e2e-${RUN_ID}/worker:1`;
  const files = {
    'base/Dockerfile':
      'FROM debian:bookworm-slim\nRUN mkdir -p /opt/corp /var/lib/corp/state && echo corp-base-1 > /opt/corp/VERSION\nCMD ["cat", "/opt/corp/VERSION"]\n',
    // an apt-get-style root step: writes to /etc
    'api/Dockerfile': `FROM ${base}\nRUN echo "listen=8080" > /etc/api.conf && chmod 644 /etc/api.conf\nCOPY api.sh /usr/local/bin/api.sh\nCMD ["sh", "/usr/local/bin/api.sh"]\n`,
    'api/api.sh': '#!/bin/sh\necho "api $(cat /etc/api.conf) $(cat /opt/corp/VERSION)"\n',
    'worker/Dockerfile': `FROM ${base}\nWORKDIR /srv/worker\nCOPY worker.sh .\nCMD ["sh", "worker.sh"]\n`,
    'worker/worker.sh': '#!/bin/sh\necho "worker in $(pwd) on $(cat /opt/corp/VERSION)"\n',
    'compose.yaml': `services:\n  base:\n    build: ./base\n    image: ${base}\n  api:\n    build: ./api\n    image: ${api}\n  worker:\n    build:\n      context: worker\n      dockerfile: Dockerfile\n    image: ${worker}\n`,
  };

  test('migrated in one run: every image builds and runs as the UID; a child built with another UID runs as that one', () => {
    const repo = context(files);
    tags.push(base, api, worker);
    const buildAs = (image: string, dir: string, uid?: string) => {
      const r = build(join(repo, dir), image, uid ? { PEAK_USER_ID: uid } : {});
      if (!r.ok) throw new Error(`${image} does not build:\n${r.output.split('\n').slice(-10).join('\n')}`);
    };
    buildAs(base, 'base');
    buildAs(api, 'api');
    buildAs(worker, 'worker');
    const before = { api: run(api).stdout.trim(), worker: run(worker).stdout.trim() };
    expect(before).toEqual({ api: 'api listen=8080 corp-base-1', worker: 'worker in /srv/worker on corp-base-1' });
    const sizes = { base: imageSize(base), api: imageSize(api), worker: imageSize(worker) };

    const fixed = peakFix(repo, ['--write', '--verbose']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain(`facts about ${base} from repository base/Dockerfile (compose.yaml services.base)`);
    expect(readFileSync(join(repo, 'base/Dockerfile'), 'utf8')).not.toContain('ENV PEAK_USER_ID');

    buildAs(base, 'base', '1001');
    const baseGrowth = imageSize(base) - sizes.base;
    expect(baseGrowth).toBeLessThanOrEqual(MB);
    for (const [image, dir] of [
      [api, 'api'],
      [worker, 'worker'],
    ] as const) {
      buildAs(image, dir, '1001');
      const problems = verifyImage({ image, uid: '1001', home: HOME, dirs: dir === 'worker' ? ['/srv/worker'] : [] }).checks.filter(
        (c) => !c.ok,
      );
      expect(problems).toEqual([]);
      // the child's own growth over the original child, beyond what the base grew
      expect(imageSize(image) - sizes[dir] - baseGrowth).toBeLessThanOrEqual(MB);
      const missing = build(join(repo, dir), tag(`${dir}-noarg`));
      expect(missing.ok).toBe(false);
      expect(missing.output).toContain('PEAK_USER_ID');
    }
    expect({ api: run(api).stdout.trim(), worker: run(worker).stdout.trim() }).toEqual(before);

    // The base was built with 1001; a child built with 1002 runs as 1002, as peak-user, which owns its home.
    const other = tag('api-1002');
    const r = build(join(repo, 'api'), other, { PEAK_USER_ID: '1002' });
    expect(r.ok).toBe(true);
    expect(verifyImage({ image: other, uid: '1002', home: HOME }).checks.filter((c) => !c.ok)).toEqual([]);
    const who = run(other, ['-c', 'echo "$(id -u) $(id -un) $(stat -c %u:%U "$HOME")"'], { entrypoint: 'sh' });
    expect(who.stdout.trim()).toBe('1002 peak-user 1002:peak-user');
    expect(run(other).stdout.trim()).toBe(before.api);
    // What the base gave its user (built with 1001) the child's user (1002) can write: issue 18.
    const state = run(other, ['-c', 'touch /var/lib/corp/state/written && stat -c %u /var/lib/corp/state'], { entrypoint: 'sh' });
    expect(state.stdout.trim()).toBe('1002');
  });
});
