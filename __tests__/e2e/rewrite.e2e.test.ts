/**
 * Proves rewrites with a real Docker engine: each case's original Dockerfile is built, migrated with
 * `peak-fix --write`, built again with the UID build argument, and the image is checked the way Peak runs it.
 * The sabotage tests at the end break a rewrite on purpose and show that each check notices.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, dockerAvailable, removeContext, removeImage, run, tempContext, testTag } from './docker.js';
import { CLI, cleanupMigrations, HOME, MB, migrate, type Case } from './migrate.js';

/** Images and contexts the tests make themselves, besides those of migrate(). */
const tags: string[] = [];
const dirs: string[] = [];

const app = (body: string) => `#!/bin/sh\n${body}\n`;

const CASES: Case[] = [
  {
    name: 'debian',
    dockerfile:
      'FROM debian:bookworm-slim\nCOPY app.sh /usr/local/bin/app.sh\nRUN chmod 755 /usr/local/bin/app.sh\nCMD ["/usr/local/bin/app.sh"]\n',
    files: { 'app.sh': app('echo debian-app') },
    uid: '1001',
    app: { expect: 'debian-app' },
  },
  {
    name: 'bullseye-1001',
    dockerfile: 'FROM debian:bullseye-slim\nCOPY app.sh /opt/app.sh\nCMD ["sh", "/opt/app.sh"]\n',
    files: { 'app.sh': app('echo bullseye-app') },
    uid: '1001',
    app: { expect: 'bullseye-app' },
  },
  {
    name: 'bullseye-big-uid',
    dockerfile: 'FROM debian:bullseye-slim\nCOPY app.sh /opt/app.sh\nCMD ["sh", "/opt/app.sh"]\n',
    files: { 'app.sh': app('echo big-uid-app') },
    uid: '100000000',
    app: { expect: 'big-uid-app' },
  },
  {
    name: 'node-uid-1000',
    dockerfile: 'FROM node:20-bookworm-slim\nWORKDIR /usr/src/app\nCOPY app.sh ./\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('echo node-app') },
    uid: '1000',
    app: { expect: 'node-app' },
    dirs: ['/usr/src/app'],
  },
  {
    name: 'alpine',
    dockerfile: 'FROM alpine:3.19\nCOPY app.sh /app.sh\nENTRYPOINT ["sh", "/app.sh"]\n',
    files: { 'app.sh': app('echo alpine-app') },
    uid: '4321',
    app: { expect: 'alpine-app' },
  },
  {
    name: 'bitnami',
    dockerfile: 'FROM bitnami/python:3.11\nCOPY app.py /opt/app/app.py\nCMD ["python3", "/opt/app/app.py"]\n',
    files: { 'app.py': 'print("bitnami", 6 * 7)\n' },
    uid: '1002',
    app: { expect: 'bitnami 42' },
  },
  {
    name: 'python',
    dockerfile: 'FROM python:3.11-slim\nWORKDIR /srv\nCOPY app.py .\nCMD ["python3", "app.py"]\n',
    files: { 'app.py': 'import os\nprint("python", sum(range(10)), os.getcwd())\n' },
    uid: '1003',
    app: { expect: 'python 45 /srv' },
    dirs: ['/srv'],
  },
  {
    name: 'multi-stage',
    dockerfile:
      'FROM debian:bookworm-slim AS build\nRUN mkdir /out && echo built-artifact > /out/artifact.txt\n\nFROM python:3.11-slim\nCOPY --from=build /out/artifact.txt /srv/artifact.txt\nCMD ["cat", "/srv/artifact.txt"]\n',
    uid: '1004',
    app: { expect: 'built-artifact' },
  },
  {
    name: 'ends-in-user-node',
    dockerfile: 'FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY app.sh .\nRUN touch /app/built-as-root\nUSER node\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('ls /app') },
    uid: '1005',
    app: { expect: 'built-as-root' },
    // The original's program ran as node, which could not write the WORKDIR root made: neither can the user now.
    notOwned: ['/app'],
  },
  {
    name: 'workdir-volume',
    dockerfile: 'FROM debian:bookworm-slim\nWORKDIR /app\nCOPY app.sh ./app.sh\nVOLUME /data\nCMD ["sh", "./app.sh"]\n',
    files: { 'app.sh': app('echo volume-app') },
    uid: '1006',
    app: { expect: 'volume-app' },
    dirs: ['/app', '/data'],
  },
  {
    name: 'inherited-workdir',
    // DOCKER.md: COPY to / and a CMD relative to the inherited directory break under an inserted WORKDIR.
    dockerfile: 'FROM python:3.11-slim\nCOPY app.py /app.py\nCMD ["python3", "app.py"]\n',
    files: { 'app.py': 'print("inherited-workdir-app")\n' },
    uid: '1007',
    app: { expect: 'inherited-workdir-app' },
  },
  {
    name: 'lowercase-crlf',
    dockerfile: 'from debian:bookworm-slim\r\nworkdir /app\r\ncopy app.sh .\r\ncmd ["sh", "app.sh"]\r\n',
    files: { 'app.sh': app('echo crlf-app') },
    uid: '1008',
    app: { expect: 'crlf-app' },
    dirs: ['/app'],
  },
  {
    name: 'peak-doc',
    dockerfile: 'FROM debian:bookworm-slim\nCOPY app.sh /opt/app.sh\nCMD ["sh", "/opt/app.sh"]\n',
    files: { 'app.sh': app('echo peak-doc-app') },
    uid: '1009',
    flags: ['--preset', 'peak-doc'],
    app: { expect: 'peak-doc-app' },
  },
  {
    name: 'scratch-copy-from',
    dockerfile:
      'FROM debian:bookworm-slim AS build\nRUN echo scratch-data > /payload.txt\n\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /payload.txt /payload.txt\nENTRYPOINT ["/hello", "--stat", "/payload.txt"]\n',
    uid: '1010',
    app: { expect: '/payload.txt' },
    noShell: true,
  },
  {
    // Issue 10: 50 MB installed under /opt and 20 MB under the WORKDIR; the program writes in the WORKDIR.
    // The closing step gives directories, not files: the image grows by less than 1 MB.
    name: 'install-tree-dirs-only',
    dockerfile:
      'FROM debian:bookworm-slim\nRUN mkdir -p /opt/tool && dd if=/dev/zero of=/opt/tool/blob bs=1M count=50 status=none\n' +
      'WORKDIR /app\nCOPY app.sh .\nRUN mkdir -p node_modules && dd if=/dev/zero of=node_modules/big bs=1M count=20 status=none\n' +
      'CMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('date > /app/written && mkdir -p /app/node_modules/.cache && echo dirs-ok') },
    uid: '1011',
    app: { expect: 'dirs-ok' },
    dirs: ['/app', '/app/node_modules', '/opt/tool'],
  },
  {
    // Issue 10: a directory the original gives its runtime user is one the program writes.
    name: 'other-user-dir',
    dockerfile:
      'FROM debian:bookworm-slim\nRUN mkdir -p /var/www/html && echo page > /var/www/html/index.html && chown -R www-data:www-data /var/www\n' +
      'CMD ["sh", "-c", "echo cached > /var/www/html/page.cache && cat /var/www/html/index.html /var/www/html/page.cache"]\n',
    uid: '1012',
    app: { expect: 'page\ncached' },
    dirs: ['/var/www/html'],
  },
  {
    // Issue 18: COPY --chown=<the original's runtime user> gives the application's directories to that user (a
    // Next.js standalone build writes .next/cache at run time): they go to the user that now runs it.
    name: 'copy-chown-runtime-user',
    dockerfile:
      'FROM node:20-alpine\nWORKDIR /app\nRUN addgroup -S web && adduser -S -G web web\n' +
      'COPY --chown=web:web next ./.next/\nCOPY app.sh ./\nUSER web\nCMD ["sh", "app.sh"]\n',
    files: {
      'next/BUILD_ID': 'build-7\n',
      'app.sh': app('mkdir -p /app/.next/cache && date > /app/.next/cache/img && cat /app/.next/BUILD_ID'),
    },
    uid: '1020',
    app: { expect: 'build-7' },
    dirs: ['/app/.next'],
    // The directory root made stays root's, as it was when web ran the program.
    notOwned: ['/app'],
  },
  {
    // Issue 18: a development target runs what its parent stage copied, and writes next to it.
    name: 'parent-stage-app-dirs',
    dockerfile: 'FROM python:3.11-slim AS base\nWORKDIR /srv\nCOPY app.py .\n\nFROM base AS development\nCMD ["python3", "app.py"]\n',
    files: { 'app.py': 'open("/srv/state.txt", "w").write("ok")\nprint("parent-stage", open("/srv/state.txt").read())\n' },
    uid: '1021',
    app: { expect: 'parent-stage ok' },
    dirs: ['/srv'],
  },
  {
    // Issue 10: the usual build-and-clean step: the closing step must not name the removed directory.
    name: 'build-and-clean',
    dockerfile:
      'FROM debian:bookworm-slim\nRUN mkdir -p /usr/src/tool && cd /usr/src/tool && echo built > /usr/local/share/tool-built && rm -rf /usr/src/tool\n' +
      'WORKDIR /app\nCMD ["cat", "/usr/local/share/tool-built"]\n',
    uid: '1013',
    app: { expect: 'built' },
    dirs: ['/app'],
  },
  {
    // Issue 15: a root file system copied onto / keeps root as its owner.
    name: 'rootfs-onto-root',
    dockerfile:
      'FROM debian:bookworm-slim AS rootfs-stage\nRUN mkdir -p /root-out/etc /root-out/usr/local/bin && echo rootfs-motd > /root-out/etc/motd\n\n' +
      'FROM debian:bookworm-slim\nCOPY --from=rootfs-stage /root-out/ /\nCOPY app.sh /usr/local/bin/app.sh\nCMD ["sh", "/usr/local/bin/app.sh"]\n',
    files: { 'app.sh': app('cat /etc/motd') },
    uid: '1014',
    app: { expect: 'rootfs-motd' },
    notOwned: ['/etc/passwd', '/etc', '/etc/motd', '/usr/local/bin', '/usr/local/bin/app.sh'],
  },
  {
    // Issue 8: a hand migration with a defaulted UID gets the guard: without the argument the build fails
    // naming PEAK_USER_ID (check 6) instead of running as 1001 or root.
    name: 'hand-migrated-defaulted-uid',
    dockerfile:
      'FROM debian:bookworm-slim\nARG PEAK_USER_ID\nRUN useradd -l -m -u ${PEAK_USER_ID:-1001} peak-user\n' +
      'WORKDIR /app\nCOPY app.sh .\nUSER $PEAK_USER_ID\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('echo hand-migrated-app') },
    uid: '1016',
    app: { expect: 'hand-migrated-app' },
    dirs: ['/app'],
  },
  {
    // Issue 8: the user made in a parent stage: the child gets the guard too.
    name: 'user-from-parent-stage',
    dockerfile:
      'FROM debian:bookworm-slim AS base\nARG PEAK_USER_ID\nRUN useradd -l -m -u "$PEAK_USER_ID" peak-user\n\n' +
      'FROM base\nWORKDIR /app\nCOPY --chown=peak-user app.sh .\nUSER $PEAK_USER_ID\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('echo parent-stage-app') },
    uid: '1017',
    app: { expect: 'parent-stage-app' },
    dirs: ['/app'],
  },
  {
    // With --all-stages, a stage that creates the user itself: the stage it is built from is left as it is, or
    // that useradd would fail ("user 'peak-user' already exists") and the image would no longer build.
    name: 'all-stages-child-creates-user',
    dockerfile:
      'FROM debian:bookworm-slim AS base\nRUN mkdir -p /opt/tools\n\n' +
      'FROM base AS app\nARG PEAK_USER_ID\nRUN useradd -l -m -u "${PEAK_USER_ID:?build argument PEAK_USER_ID is required}" peak-user\n' +
      'WORKDIR /app\nCOPY app.sh .\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('echo child-creates-user-app') },
    uid: '1018',
    flags: ['--all-stages'],
    app: { expect: 'child-creates-user-app' },
    dirs: ['/app'],
  },
  {
    // Issue 15: an image that sets HOME on purpose keeps it, and it is writable.
    name: 'env-home-on-purpose',
    dockerfile: 'FROM debian:bookworm-slim\nENV HOME=/opt/app-root/src\nWORKDIR /opt/app-root/src\nCOPY app.sh .\nCMD ["sh", "app.sh"]\n',
    files: { 'app.sh': app('echo "home=$HOME" && touch "$HOME/.written" && echo home-ok') },
    uid: '1015',
    home: '/opt/app-root/src',
    app: { expect: 'home=/opt/app-root/src\nhome-ok' },
    dirs: ['/opt/app-root/src'],
  },
  // Issue 18: bases and layouts 1.1 broke.
  {
    // A base nobody describes that runs as its own user: the block goes after the original's USER root, so
    // useradd runs as root and every original step keeps its user.
    name: 'nonroot-unknown-base-user-root',
    dockerfile:
      'FROM registry.corp.example/platform/runtime:1\nUSER root\nRUN mkdir -p /opt/tools && echo tool-1 > /opt/tools/VERSION\nUSER app\nRUN whoami > /tmp/built-as\nCOPY app.sh /srv/app.sh\nCMD ["sh", "/srv/app.sh"]\n',
    files: { 'app.sh': app('echo "$(cat /opt/tools/VERSION) built-as=$(cat /tmp/built-as)"') },
    uid: '1011',
    app: { expect: 'tool-1 built-as=app' },
  },
  {
    // CentOS Stream: root with useradd (1.1 took it for an sclorg image running as 1001, and dnf ran as 1001).
    name: 'centos-stream-root',
    dockerfile:
      'FROM quay.io/centos/centos:stream9\nRUN dnf install -y python3 > /opt/dnf.log\nCOPY app.sh /opt/app/app.sh\nCMD ["sh", "/opt/app/app.sh"]\n',
    files: { 'app.sh': app('cat /opt/dnf.log') },
    uid: '1012',
    app: { expect: 'dnf stand-in: install -y python3' },
  },
  {
    // A base that ends as a non-root user and has no user tool: the passwd entries, written as root, then its user back.
    name: 'python-minimal-nonroot-no-useradd',
    dockerfile:
      'FROM registry.access.redhat.com/ubi9/python-312-minimal:1\nCOPY app.py .\nRUN python3 -c "print(1)" > built.txt\nCMD ["python3", "app.py"]\n',
    files: { 'app.py': 'print("python-minimal", open("built.txt").read().strip())\n' },
    uid: '1013',
    app: { expect: 'python-minimal 1' },
  },
  {
    // A root file system folder copied onto /: its files keep root as owner, and the program still reads and runs them.
    name: 'rootfs-onto-root',
    dockerfile: 'FROM debian:bookworm-slim\nCOPY rootfs /\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["sh", "/entrypoint.sh"]\n',
    files: {
      'rootfs/etc/app/app.conf': 'greeting=rootfs-app\n',
      'rootfs/usr/local/bin/app': app('grep greeting /etc/app/app.conf'),
      'entrypoint.sh': app('sh /usr/local/bin/app'),
    },
    uid: '1014',
    app: { expect: 'greeting=rootfs-app' },
    notOwned: ['/etc/app/app.conf', '/usr/local/bin/app', '/entrypoint.sh'],
  },
];

describe('rewritten images build and run as PEAK_USER_ID', () => {
  beforeAll(() => {
    // No engine is a failure, not a skip: `npm run test:e2e` installs and starts one.
    if (!dockerAvailable()) throw new Error('no Docker engine answers: run `npm run test:e2e`, which installs and starts one');
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the CLI does not run (npm run build?): ${r.stderr}`);
  });
  afterAll(() => {
    cleanupMigrations();
    for (const tag of tags.splice(0)) removeImage(tag);
    for (const dir of dirs.splice(0)) removeContext(dir);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(migrate(c).problems).toEqual([]);
  });

  test('an already migrated file: a second run changes nothing and it still builds', () => {
    const first = migrate(CASES[0]);
    expect(first.problems).toEqual([]);
    const again = migrate({ ...CASES[0], name: 'second-run', dockerfile: first.rewritten, alreadyMigrated: true });
    expect(again.rewritten).toBe(first.rewritten);
    expect(again.problems).toEqual([]);
  });
});

describe('each check can fail: rewrites broken on purpose', () => {
  afterAll(() => {
    cleanupMigrations();
    for (const tag of tags.splice(0)) removeImage(tag);
    for (const dir of dirs.splice(0)) removeContext(dir);
  });
  const base = CASES[0];

  test('1. build: a user creation that fails', () => {
    const { problems } = migrate({ ...base, name: 'sabotage-build', sabotage: (t) => t.replace('useradd -l', 'useradd --no-such-flag') });
    expect(problems.join('\n')).toMatch(/^build:/);
  });

  test('2. user: the final USER removed', () => {
    const { problems } = migrate({ ...base, name: 'sabotage-user', sabotage: (t) => t.replace(/USER \$PEAK_USER_ID\n$/, '') });
    expect(problems.join('\n')).toMatch(/config user:.*empty/);
    expect(problems.join('\n')).toMatch(/process uid: id -u prints 0/);
  });

  test("3. home: a shared UID without ENV HOME gets the other user's home", () => {
    const node = CASES.find((c) => c.name === 'node-uid-1000') as Case;
    const { problems } = migrate({ ...node, name: 'sabotage-home', sabotage: (t) => t.replace(`ENV HOME=${HOME}\n`, '') });
    expect(problems.join('\n')).toMatch(/home: HOME is \/home\/node/);
  });

  test('3b. writable: a directory left to root', () => {
    const c = CASES.find((x) => x.name === 'workdir-volume') as Case;
    const { problems } = migrate({ ...c, name: 'sabotage-writable', sabotage: (t) => t.replace(/^RUN mkdir -p \/data .*\n/m, '') });
    expect(problems.join('\n')).toMatch(/writable: not writable: \/data/);
  });

  test('4. app: a WORKDIR forced where the stage relies on the inherited one', () => {
    const c = CASES.find((x) => x.name === 'inherited-workdir') as Case;
    const { problems } = migrate({ ...c, name: 'sabotage-app', flags: ['--workdir', 'always'] });
    expect(problems.join('\n')).toMatch(/^app:/m);
  });

  test('5. size: chown -R over a home that holds a large file', () => {
    const big = 'x'.repeat(3 * MB);
    const { problems } = migrate({
      ...base,
      name: 'sabotage-size',
      dockerfile:
        'FROM debian:bookworm-slim\nWORKDIR /app\nCOPY big.bin /app/big.bin\nCOPY app.sh /usr/local/bin/app.sh\nCMD ["sh", "/usr/local/bin/app.sh"]\n',
      files: { 'big.bin': big, 'app.sh': app('echo debian-app') },
      // The closing step, continuation lines included, replaced by the guide's literal chown -R.
      sabotage: (t) => t.replace(/^RUN find \/app (?:[^\n]*\\\n)*[^\n]*/m, 'RUN chown -R peak-user:peak-user /home/peak-user /app'),
    });
    expect(problems.join('\n')).toMatch(/size: the rewritten image is 3\.\d MB larger/);
  });

  test('6. empty-arg: without the guard, a base that already has the user builds as root', () => {
    const withUser = tempContext({ Dockerfile: 'FROM debian:bookworm-slim\nRUN useradd -m -d /home/peak-user -u 4000 peak-user\n' });
    dirs.push(withUser);
    const baseTag = testTag('has-peak-user');
    tags.push(baseTag);
    expect(build(withUser, baseTag).ok).toBe(true);
    const { problems } = migrate({
      ...base,
      name: 'sabotage-empty-arg',
      dockerfile: `FROM ${baseTag}\nCOPY app.sh /usr/local/bin/app.sh\nCMD ["sh", "/usr/local/bin/app.sh"]\n`,
      sabotage: (t) => t.replace(/: "\$\{PEAK_USER_ID:\?[^}]*\}" \\\n    && /, ''),
    });
    expect(problems).toContain('empty-arg: the build without PEAK_USER_ID succeeded');
  });
});

describe('a stage that cannot start as a non-root user is left unchanged (issue 18)', () => {
  afterAll(() => {
    for (const tag of tags.splice(0)) removeImage(tag);
    for (const dir of dirs.splice(0)) removeContext(dir);
  });

  // An entrypoint that gives the data to another user and drops to it: it needs root.
  const files = {
    Dockerfile:
      'FROM debian:bookworm-slim\nRUN mkdir -p /data\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["sh", "/entrypoint.sh"]\nCMD ["sh", "-c", "echo serving as $(id -un)"]\n',
    'entrypoint.sh': '#!/bin/sh\nset -e\nchown -R nobody /data\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"\n',
  };
  const cli = (dir: string, args: string[]) => spawnSync(process.execPath, [CLI, ...args, 'Dockerfile'], { cwd: dir, encoding: 'utf8' });

  test('--check fails and names why; --write leaves it as it was, and the original still starts', () => {
    const dir = tempContext(files);
    dirs.push(dir);
    const check = cli(dir, ['--check']);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/the final stage was left unchanged: it cannot run as a non-root user as it is \(root-start \(line 4\)\)/);
    expect(check.stdout).toMatch(/entrypoint\.sh, whose line 3 changes owners with chown/);
    const write = cli(dir, ['--write']);
    expect(write.status).toBe(0);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe(files.Dockerfile);
    const original = testTag('left-unchanged-orig');
    tags.push(original);
    expect(build(dir, original, {}).ok).toBe(true);
    expect(run(original).stdout.trim()).toBe('serving as nobody');
  });

  test('--force rewrites it: the image builds and runs as the UID, and then indeed cannot start', () => {
    const dir = tempContext(files);
    dirs.push(dir);
    const forced = cli(dir, ['--write', '--force']);
    expect(forced.status).toBe(0);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toContain('USER $PEAK_USER_ID');
    const image = testTag('left-unchanged-forced');
    tags.push(image);
    expect(build(dir, image, { PEAK_USER_ID: '1021' }).ok).toBe(true);
    const started = run(image);
    expect(started.code).not.toBe(0);
    expect(started.stderr).toMatch(/chown: changing ownership of '\/data'.*Operation not permitted/);
  });
});
