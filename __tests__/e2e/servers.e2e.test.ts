/**
 * Servers must start, not only build. Stand-ins made from Debian's own packages under the official names
 * (scripts/e2e/images.sh: nginx:1.27 in nginx.org's layout, redis:7.2-bookworm in the official one) are migrated
 * by `peak-fix --write` from application Dockerfiles, built, and started as the UID with `peak-fix verify --serve`:
 * the server answers from inside the container, PID 1 runs as the UID, the image grows by at most 1 MB. The
 * sabotage tests take the run-time paths out of the rewrite and show that the server then does not start.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASES,
  build,
  docker,
  dockerAvailable,
  imageLabel,
  imageSize,
  removeContext,
  removeImage,
  run,
  STAND_IN_LABEL,
  tempContext,
  testTag,
} from './docker.js';
import { CLI, MB } from './migrate.js';

const tags: string[] = [];
const dirs: string[] = [];

function cli(args: string[], cwd?: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 5 * 60 * 1000 });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

interface Migrated {
  dir: string;
  original: string;
  migrated: string;
  rewritten: string;
  report: string;
}

/** Builds the original, runs `peak-fix --write` in the context (which reads the copied configuration), builds the result. */
function migrate(name: string, files: Record<string, string>, uid: string, sabotage?: (rewritten: string) => string): Migrated {
  const dir = tempContext(files);
  dirs.push(dir);
  const original = testTag(`${name}-orig`);
  const migrated = testTag(`${name}-new`);
  tags.push(original, migrated);
  const before = build(dir, original);
  if (!before.ok) throw new Error(`the original of ${name} does not build:\n${before.output}`);
  const fixed = cli(['--write', '--no-color', '--verbose', 'Dockerfile'], dir);
  if (fixed.code !== 0) throw new Error(`peak-fix --write failed on ${name}:\n${fixed.out}`);
  const report = cli(['--no-color', '--verbose', 'Dockerfile'], dir).out;
  let rewritten = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  if (sabotage) {
    rewritten = sabotage(rewritten);
    writeFileSync(join(dir, 'Dockerfile'), rewritten);
  }
  const after = build(dir, migrated, { PEAK_USER_ID: uid });
  if (!after.ok) throw new Error(`the rewrite of ${name} does not build:\n${after.output}\n${rewritten}`);
  return { dir, original, migrated, rewritten, report: fixed.out + report };
}

/** The rewrite without the server's run-time paths: the closing step as peak-fix 1.0 wrote it. */
function withoutRuntimePaths(paths: string[]) {
  return (rewritten: string): string =>
    rewritten
      .split('\n')
      .map((line) => {
        if (!line.includes('-exec chown')) return line;
        let out = line.replace(/^RUN (?:mkdir -p [^&]+&& )?(?:touch [^&]+&& )?/, 'RUN ');
        for (const path of paths) out = out.replaceAll(` ${path};`, ';').replaceAll(` ${path} `, ' ');
        // Nothing left to give: the closing line goes (a find with no start point would search the whole image).
        return /\bfind \\\(/.test(out) ? 'RUN true' : out;
      })
      .join('\n');
}

function verifyServe(tag: string, uid: string, port: number, timeout = 20): { code: number; out: string } {
  return cli(['verify', tag, '--uid', uid, '--serve', String(port), '--timeout', String(timeout)]);
}

/** Runs the server as the UID, runs `command` inside it once it is up, and removes it. */
function inside(tag: string, uid: string, command: string): string {
  const started = docker(['run', '-d', '--network=none', '--pull=never', '--user', uid, tag]);
  const id = started.stdout.trim();
  try {
    const r = docker(['exec', id, 'bash', '-c', `for i in $(seq 50); do ${command} && exit 0; sleep 0.2; done; exit 1`]);
    return r.stdout + r.stderr;
  } finally {
    docker(['rm', '-f', '-v', id]);
  }
}

const NGINX_SITE = {
  Dockerfile: 'FROM nginx:1.27\nCOPY site/ /usr/share/nginx/html/\nCOPY default.conf /etc/nginx/conf.d/default.conf\nEXPOSE 8080\n',
  'default.conf':
    'server {\n    listen       8080;\n    server_name  localhost;\n\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html;\n    }\n}\n',
  'site/index.html': '<!doctype html>\n<h1>peak-fix served this</h1>\n',
};

/** The hint of `server-volume` followed: a redis.conf whose `dir` is outside the image's VOLUME /data. */
const REDIS_OWN_DIR = {
  Dockerfile:
    'FROM redis:7.2-bookworm\nCOPY redis.conf /usr/local/etc/redis/redis.conf\nCMD ["redis-server", "/usr/local/etc/redis/redis.conf"]\n',
  'redis.conf': "# Debian's layout\nport 6379\ndir /var/lib/redis\npidfile /var/run/redis/redis-server.pid\nappendonly yes\n",
};

describe('servers start as PEAK_USER_ID', () => {
  beforeAll(() => {
    if (!dockerAvailable()) throw new Error('no Docker engine answers: run `npm run test:e2e`, which installs and starts one');
  });
  afterAll(() => {
    for (const tag of tags) removeImage(tag);
    for (const dir of dirs) removeContext(dir);
  });

  test('the stand-ins carry the official layout (nginx 101, redis 999) and are labelled as fakes', () => {
    expect(imageLabel(BASES.nginx, STAND_IN_LABEL)).toBe('nginx');
    expect(imageLabel(BASES.redis, STAND_IN_LABEL)).toBe('redis');
    const nginx = run(
      BASES.nginx,
      [
        'sh',
        '-c',
        'id -u nginx; id -g nginx; stat -c "%U %n" /var/cache/nginx /var/run; readlink /var/log/nginx/access.log; grep -h "^pid\\|^user" /etc/nginx/nginx.conf',
      ],
      { entrypoint: '' },
    );
    expect(nginx.stdout.split('\n')).toEqual([
      '101',
      '101',
      'root /var/cache/nginx',
      'root /var/run',
      '/dev/stdout',
      'user  nginx;',
      'pid        /var/run/nginx.pid;',
      '',
    ]);
    const redis = run(BASES.redis, ['sh', '-c', 'id -u redis; id -g redis; stat -c "%U %n" /data; pwd'], { entrypoint: '' });
    expect(redis.stdout.split('\n')).toEqual(['999', '999', 'redis /data', '/data', '']);
  });

  test("nginx with a static site (the issue's case): starts as the UID, serves /, PID 1 is the UID, +≤ 1 MB", () => {
    const uid = '1001';
    const m = migrate('nginx-site', NGINX_SITE, uid);
    expect(m.rewritten).toContain('touch /var/run/nginx.pid');
    expect(m.rewritten).toMatch(/find \/var\/cache\/nginx \/var\/run\/nginx\.pid \\\( ! -user peak-user/);
    const verified = verifyServe(m.migrated, uid, 8080);
    expect(verified.out).toMatch(/ok +start: running as --user 1001, listening on 8080/);
    expect(verified.out).toMatch(/ok +pid 1 uid: PID 1 runs as 1001/);
    expect(verified.out).toMatch(/ok +serve: GET \/ on port 8080 answered: HTTP\/1\.1 200 OK/);
    expect(verified.out).toMatch(/ok +logs: no start-up errors/);
    expect(verified.code).toBe(0);
    // The page is the application's, served by the worker processes of the UID too.
    const page = inside(m.migrated, uid, 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && timeout 3 cat <&3');
    expect(page).toContain('<h1>peak-fix served this</h1>');
    const growth = imageSize(m.migrated) - imageSize(m.original);
    expect(growth).toBeLessThanOrEqual(MB);
  });

  test('sabotage: the same nginx case without the run-time paths does not start, and says why', () => {
    const m = migrate('nginx-site-no-paths', NGINX_SITE, '1001', withoutRuntimePaths(['/var/cache/nginx', '/var/run/nginx.pid']));
    expect(m.rewritten).not.toContain('/var/cache/nginx');
    const verified = verifyServe(m.migrated, '1001', 8080, 10);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(
      /FAIL +start: the container exited \(code 1\) as UID 1001: .*mkdir\(\) "\/var\/cache\/nginx\/client_temp" failed \(13: Permission denied\)/,
    );
  });

  test('sabotage: with the cache but without the pid file, nginx stops at the pid file', () => {
    const m = migrate('nginx-site-no-pid', NGINX_SITE, '1001', withoutRuntimePaths(['/var/run/nginx.pid']));
    const verified = verifyServe(m.migrated, '1001', 8080, 10);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/open\(\) "\/var\/run\/nginx\.pid" failed \(13: Permission denied\)/);
  });

  test('redis keeping its data in the image VOLUME /data: reported, and it indeed cannot write there', () => {
    const uid = '1002';
    const m = migrate(
      'redis-volume',
      {
        Dockerfile:
          'FROM redis:7.2-bookworm\nCOPY redis.conf /usr/local/etc/redis/redis.conf\nCMD ["redis-server", "/usr/local/etc/redis/redis.conf"]\n',
        'redis.conf': 'appendonly yes\n',
      },
      uid,
    );
    expect(m.report).toMatch(/warning +redis writes \/data, inside the base image's VOLUME \/data.*\(server-volume\)/);
    // The finding is true: the closing chown of /data was discarded by the builder, redis stops at its AOF.
    const verified = verifyServe(m.migrated, uid, 6379, 10);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/Can't open or create append-only dir appendonlydir: Permission denied/);
  });

  test('redis with its own data directory (the hint followed): the paths come from the copied redis.conf; it starts and persists', () => {
    const uid = '1002';
    const m = migrate('redis-own-dir', REDIS_OWN_DIR, uid);
    expect(m.rewritten).toContain('mkdir -p /var/lib/redis /var/run/redis && touch /var/run/redis/redis-server.pid');
    expect(m.report).not.toContain('server-volume');
    const verified = verifyServe(m.migrated, uid, 6379);
    expect(verified.out).toMatch(/ok +pid 1 uid: PID 1 runs as 1002/);
    expect(verified.out).toMatch(/ok +serve: GET \/ on port 6379 answered: -ERR .*\(not HTTP\)/);
    expect(verified.out).toMatch(/ok +logs: no start-up errors/);
    expect(verified.code).toBe(0);
    const written = inside(
      m.migrated,
      uid,
      'redis-cli set greeting hello >/dev/null && redis-cli get greeting && cat /var/run/redis/redis-server.pid && ls /var/lib/redis',
    );
    expect(written).toMatch(/^hello\n1\n.*appendonlydir/s);
    expect(imageSize(m.migrated) - imageSize(m.original)).toBeLessThanOrEqual(MB);
  });

  test('sabotage: the same redis case without the run-time paths does not start', () => {
    const m = migrate(
      'redis-own-dir-no-paths',
      REDIS_OWN_DIR,
      '1002',
      withoutRuntimePaths(['/var/lib/redis', '/var/run/redis/redis-server.pid']),
    );
    const verified = verifyServe(m.migrated, '1002', 6379, 10);
    expect(verified.code).toBe(1);
    expect(verified.out).toMatch(/FAIL +start: the container exited .*\/var\/lib\/redis/);
  });
});
