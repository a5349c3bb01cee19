import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import AjvDraft04 from 'ajv-draft-04';
import { mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contextFileRequests, copiedFiles, MAX_CONTEXT_FILE_BYTES } from '../src/model/context.js';
import { readContextFiles } from '../src/runner/context-io.js';
import { fixDockerfile } from '../src/index.js';
import { parseDockerfile } from '../src/model/dockerfile.js';
import { run, type FileResult } from '../src/runner/runner.js';
import { findServerImage, readServerConfig, serverRuntimePaths, SERVER_IMAGES } from '../src/facts/servers.js';
import { runtimePathsPrefix } from '../src/rewrite/recipe.js';
import { describeResponse, listensOn, statusUid } from '../src/runner/verify.js';
import { cleanup, runCli, tempDir, writeTree } from './helpers/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures', import.meta.url));

/** The official SARIF 2.1.0 schema, as __tests__/rules-cli.test.ts checks the log against it. */
function sarifErrors(document: unknown): string[] {
  const schema = JSON.parse(readFileSync(new URL('./schemas/sarif-2.1.0.json', import.meta.url), 'utf8')) as object;
  const unwrap = <T>(module: T): T => (module as { default?: T }).default ?? module;
  const ajv = new (unwrap(AjvDraft04) as unknown as new (options: Record<string, unknown>) => Ajv)({
    allErrors: true,
    strict: false,
    unicodeRegExp: false,
  });
  (unwrap(addFormats) as unknown as (instance: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('the server catalog', () => {
  test('every row names its sources, and every run-time path says where it was read (a URL first)', () => {
    for (const row of SERVER_IMAGES) {
      expect(row.sources.length).toBeGreaterThan(0);
      for (const source of row.sources) expect(source).toMatch(/^https:\/\//);
      for (const path of row.runtimePaths) {
        expect(path.path).toMatch(/^\/[a-z0-9/._-]+$/);
        expect(path.source).toMatch(/^https:\/\/\S+: \S/);
      }
      // A row with nothing to own says why in its notes.
      if (row.runtimePaths.length === 0) expect(row.notes.join(' ')).toMatch(/nothing to own|already|chmod 1777/);
    }
  });

  test('every row is exercised by a golden fixture built on it', () => {
    const froms = readdirSync(fixtures)
      .filter((name) => name.startsWith('server-') || name.startsWith('rule-'))
      .map((name) => /^FROM\s+(\S+)/m.exec(readFileSync(join(fixtures, name, 'input.Dockerfile'), 'utf8'))?.[1] ?? '');
    const covered = new Set(froms.map((ref) => findServerImage(ref)));
    expect(
      SERVER_IMAGES.filter((row) => !covered.has(row)).map((row) => `${row.program} ${row.repositories.join(',')} ${row.tags ?? ''}`),
    ).toEqual([]);
  });

  test.each([
    ['nginx:1.27', 'nginx', ['/var/cache/nginx', '/var/run/nginx.pid']],
    ['docker.io/library/nginx:1.27-alpine', 'nginx', ['/var/cache/nginx', '/var/run/nginx.pid']],
    ['nginxinc/nginx-unprivileged:1.27', 'nginx', ['/var/cache/nginx']],
    ['httpd:2.4', 'Apache httpd', ['/usr/local/apache2/logs']],
    ['php:8.3-fpm-bookworm', 'php-fpm', []],
    ['php:8.3-apache', 'Apache httpd with PHP', []],
    ['redis:7.2', 'redis', ['/data']],
    ['memcached:1.6-alpine', 'memcached', []],
    ['postgres:16', 'PostgreSQL', ['/var/lib/postgresql/data']],
    ['postgres:18-alpine', 'PostgreSQL', ['/var/lib/postgresql']],
    ['postgres', 'PostgreSQL', ['/var/lib/postgresql']],
    ['mysql:8.4', 'MySQL', []],
    ['mariadb:11', 'MariaDB', ['/var/lib/mysql']],
    ['mongo:8.0', 'MongoDB', ['/data/db', '/data/configdb']],
    ['tomcat:10.1-jdk21', 'Tomcat', ['/usr/local/tomcat/webapps']],
    ['caddy:2.10-alpine', 'Caddy', ['/config/caddy', '/data/caddy']],
  ])('%s is %s, which writes %j', (reference, program, paths) => {
    expect(findServerImage(reference)?.program).toBe(program);
    expect(serverRuntimePaths(reference).map((p) => p.path)).toEqual(paths);
  });

  test('images that are not servers have no run-time paths', () => {
    expect(findServerImage('php:8.3-cli')).toBeUndefined();
    expect(findServerImage('python:3.12')).toBeUndefined();
    expect(findServerImage('registry.example.com/nginx-tools:1')).toBeUndefined();
    expect(serverRuntimePaths('debian:bookworm')).toEqual([]);
  });
});

describe('copied server configuration', () => {
  const nginx = findServerImage('nginx:1.27')!;
  const files = (entries: Record<string, string>) =>
    new Map(Object.entries(entries).map(([path, text]) => [path, { text, file: path.slice(path.lastIndexOf('/') + 1) }]));

  test('nginx: pid and temp paths move, /tmp needs nothing, `user` and low `listen` are found with their lines', () => {
    const configured = readServerConfig(
      nginx,
      files({
        '/etc/nginx/nginx.conf':
          'user  nginx;\npid /var/run/nginx/nginx.pid;  # moved\nhttp {\n  client_body_temp_path /var/lib/nginx/body 1 2;\n  proxy_temp_path /tmp/proxy;\n  # pid /ignored.pid;\n}\n',
        '/etc/nginx/conf.d/app.conf': 'server {\n  listen [::]:80;\n  listen 127.0.0.1:8443 ssl;\n}\n',
        '/etc/other.conf': 'pid /not/nginx.pid;\n',
      }),
    );
    expect(configured.paths.map((p) => [p.path, p.kind, p.source])).toEqual([
      ['/var/run/nginx/nginx.pid', 'file', 'nginx.conf:2: pid /var/run/nginx/nginx.pid;  # moved'],
      ['/var/lib/nginx/body', 'dir', 'nginx.conf:4: client_body_temp_path /var/lib/nginx/body 1 2;'],
    ]);
    expect(configured.replaced).toEqual(['/var/run/nginx.pid']);
    expect(configured.userDirectives.map((u) => [u.file, u.line])).toEqual([['nginx.conf', 1]]);
    expect(configured.ports.map((p) => [p.port, p.at.line])).toEqual([
      [80, 2],
      [8443, 3],
    ]);
    expect(serverRuntimePaths('nginx:1.27', configured).map((p) => p.path)).toEqual([
      '/var/cache/nginx',
      '/var/run/nginx/nginx.pid',
      '/var/lib/nginx/body',
    ]);
  });

  test('redis: `dir` replaces /data, pidfile and logfile are files, an empty logfile is stdout', () => {
    const redis = findServerImage('redis:7.2')!;
    const configured = readServerConfig(
      redis,
      files({ '/usr/local/etc/redis/redis.conf': 'dir /var/lib/redis\npidfile "/var/run/redis/redis.pid"\nlogfile ""\nport 6380\n' }),
    );
    expect(serverRuntimePaths('redis:7.2', configured)).toEqual([
      { path: '/var/lib/redis', kind: 'dir', source: 'redis.conf:1: dir /var/lib/redis' },
      { path: '/var/run/redis/redis.pid', kind: 'file', source: 'redis.conf:2: pidfile "/var/run/redis/redis.pid"' },
    ]);
    expect(configured.ports.map((p) => p.port)).toEqual([6380]);
  });

  test('a path with shell-significant characters or `..` is never used', () => {
    const configured = readServerConfig(
      nginx,
      files({ '/etc/nginx/nginx.conf': 'pid /run/$(reboot).pid;\nclient_body_temp_path /var/../etc;\n' }),
    );
    expect(configured.paths).toEqual([]);
  });

  test('the prefix makes directories, the pid file and its own directory, but not /run or /var/run', () => {
    expect(
      runtimePathsPrefix([
        { path: '/var/cache/nginx', kind: 'dir', source: '' },
        { path: '/var/run/nginx.pid', kind: 'file', source: '' },
        { path: '/var/run/redis/redis.pid', kind: 'file', source: '' },
      ]),
    ).toBe('mkdir -p /var/cache/nginx /var/run/redis && touch /var/run/nginx.pid /var/run/redis/redis.pid && ');
    expect(runtimePathsPrefix([])).toBe('');
  });
});

describe('build-context files', () => {
  test('the runner asks for single-file COPY sources and the scripts ENTRYPOINT/CMD run, not globs, URLs, --from or parents', () => {
    const text = [
      'FROM nginx',
      'COPY nginx.conf /etc/nginx/nginx.conf',
      'COPY --chown=app ["conf/app.conf", "./x.conf", "/etc/nginx/conf.d/"]',
      'COPY --from=build /out /srv',
      'ADD https://example.com/a.tgz /tmp/',
      'COPY *.conf ../secret /etc/',
      'COPY . /app',
      'ENTRYPOINT ["./bin/start.sh"]',
    ].join('\n');
    expect(contextFileRequests(text)).toEqual(['start.sh', 'bin/start.sh', 'nginx.conf', 'conf/app.conf', 'x.conf']);
    // Not a server image: only what the start runs is read.
    expect(
      contextFileRequests(
        'FROM python:3.12\nCOPY requirements.txt app.py /app/\nCOPY run /usr/local/bin/run\nCMD ["run", "--port", "8000"]\n',
      ),
    ).toEqual(['run']);
  });

  test('copied files land where COPY puts them: into a directory, onto a file, relative to WORKDIR, with `COPY . DIR`', () => {
    const model = parseDockerfile(
      'FROM nginx\nCOPY nginx.conf /etc/nginx/\nCOPY app.conf /etc/nginx/conf.d/default.conf\nWORKDIR /app\nCOPY . .\nCOPY conf ./conf\n',
    );
    const copied = copiedFiles(
      model,
      model.stages[0],
      new Map([
        ['nginx.conf', 'a'],
        ['app.conf', 'b'],
        ['conf/x.conf', 'c'],
      ]),
    );
    expect([...copied].map(([path, c]) => [path, c.file])).toEqual([
      ['/etc/nginx/nginx.conf', 'nginx.conf'],
      ['/etc/nginx/conf.d/default.conf', 'app.conf'],
      ['/app/nginx.conf', 'nginx.conf'],
      ['/app/app.conf', 'app.conf'],
      ['/app/conf/x.conf', 'conf/x.conf'],
    ]);
  });

  describe('reading them (the runner)', () => {
    let dir: string;
    beforeEach(() => {
      dir = tempDir();
    });
    afterEach(() => cleanup(dir));

    test('reads small regular files and a copied directory one level deep; never follows a link out of the context', async () => {
      writeTree(dir, {
        'svc/nginx.conf': 'pid /tmp/x.pid;\n',
        'svc/conf/a.conf': 'listen 80;\n',
        'svc/big.conf': 'x'.repeat(MAX_CONTEXT_FILE_BYTES + 1),
        'outside.conf': 'secret\n',
      });
      symlinkSync(join(dir, 'outside.conf'), join(dir, 'svc/link.conf'));
      mkdirSync(join(dir, 'svc/empty'));
      const text = 'FROM nginx\nCOPY nginx.conf conf big.conf link.conf missing.conf empty /etc/nginx/\n';
      const files = await readContextFiles(join(dir, 'svc/Dockerfile'), text);
      expect([...files.keys()].sort()).toEqual(['conf/a.conf', 'nginx.conf']);
    });

    test('the runner passes them to the engine: a `user` line of a copied nginx.conf is reported at its COPY', async () => {
      writeTree(dir, {
        Dockerfile: 'FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n',
        'nginx.conf': 'user nginx;\npid /var/run/app/nginx.pid;\n',
      });
      const results: FileResult[] = [];
      await run({ cwd: dir, paths: [], fix: {}, write: false, onResult: (r) => results.push(r) });
      expect(results[0].findings.filter((f) => f.rule === 'server-user-line').map((f) => f.line)).toEqual([2]);
      expect(results[0].output).toContain('touch /var/run/app/nginx.pid');
      // Without the file (stdin, or the engine alone) nothing is known of it, and nothing wrong is said.
      expect(fixDockerfile('FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n').output).toContain('touch /var/run/nginx.pid');
    });
  });
});

describe('findings about a build-context file', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => cleanup(dir));

  test("an entrypoint script's root step is reported at its own line: text names both, SARIF points at the script", async () => {
    writeTree(dir, {
      'svc/Dockerfile':
        'FROM python:3.12-slim\nCOPY entrypoint.sh /entrypoint.sh\n# peak-fix-ignore privilege-drop\nENTRYPOINT ["/entrypoint.sh"]\n',
      'svc/entrypoint.sh': '#!/bin/sh\nset -e\nchown -R app /data\nexec "$@"\n',
    });
    const text = await runCli(['--no-color', 'svc'], { cwd: dir });
    expect(text.stdout + text.stderr).toMatch(
      /svc\/Dockerfile:4 \(svc\/entrypoint\.sh:3\) +warning +ENTRYPOINT runs entrypoint\.sh, whose line 3 changes owners with chown \(`chown -R app \/data`\): that needs root +\(root-start\)/,
    );
    const sarif = await runCli(['--format', 'sarif', 'svc'], { cwd: dir });
    const results = (
      JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string; locations: unknown[]; relatedLocations?: unknown[] }[] }[] }
    ).runs[0].results;
    const rootStart = results.find((r) => r.ruleId === 'root-start');
    expect(rootStart?.locations).toEqual([
      { physicalLocation: { artifactLocation: { uri: 'svc/entrypoint.sh' }, region: { startLine: 3 } } },
    ]);
    expect(rootStart?.relatedLocations).toEqual([
      { id: 1, physicalLocation: { artifactLocation: { uri: 'svc/Dockerfile' }, region: { startLine: 4 } } },
    ]);
    // `# peak-fix-ignore root-start` above the ENTRYPOINT silences it, as for any finding of that line.
    writeTree(dir, {
      'svc/Dockerfile':
        'FROM python:3.12-slim\nCOPY entrypoint.sh /entrypoint.sh\n# peak-fix-ignore root-start\nENTRYPOINT ["/entrypoint.sh"]\n',
    });
    expect((await runCli(['--no-color', 'svc'], { cwd: dir })).stdout).not.toContain('(root-start)');
  });
});

describe('verify --serve helpers', () => {
  test('a LISTEN socket on the port is found in /proc/net/tcp and tcp6; other states and ports are not', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 1 1 0 100 0 0 10 0',
      '   1: 0100007F:18EB 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0 20 4 30 10 -1',
    ].join('\n');
    expect(listensOn(tcp, 8080)).toBe(true);
    expect(listensOn(tcp, 6379)).toBe(false);
    expect(listensOn('   0: 00000000000000000000000000000000:18EB 00000000000000000000000000000000:0000 0A 0', 6379)).toBe(true);
  });

  test('PID 1 uid and the first line of a response', () => {
    expect(statusUid('Name:\tnginx\nUid:\t1001\t1001\t1001\t1001\nGid:\t0\n')).toBe('1001');
    expect(describeResponse('HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\nbody')).toEqual({ first: 'HTTP/1.1 200 OK', status: 200 });
    expect(describeResponse('\n-ERR wrong number of arguments\r\n')).toEqual({ first: '-ERR wrong number of arguments' });
  });

  test('bad --serve and --timeout values are usage errors (exit 2) before anything runs', async () => {
    const dir = tempDir();
    try {
      const bad = await runCli(['verify', 'img', '--uid', '1001', '--serve', '80x'], { cwd: dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--serve must be a number from 1 to 65535/);
      const zero = await runCli(['verify', 'img', '--uid', '1001', '--serve', '8080', '--timeout', '0'], { cwd: dir });
      expect(zero.code).toBe(2);
    } finally {
      cleanup(dir);
    }
  });
});

describe('rewrites that reach a file the context holds', () => {
  test('the closing step is idempotent with run-time paths, and a hand-written ownership of them is recognised', () => {
    const contextFiles = new Map([['nginx.conf', 'pid /var/run/app/nginx.pid;\n']]);
    const input = 'FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n';
    const once = fixDockerfile(input, {}, { contextFiles }).output;
    expect(fixDockerfile(once, {}, { contextFiles }).output).toBe(once);
    // A chown that gives the cache to another user does not count as giving it to peak-user.
    const other = fixDockerfile('FROM nginx:1.27\nRUN chown -R nginx /var/cache/nginx\n').output;
    expect(other).toContain('RUN touch /var/run/nginx.pid && find /var/cache/nginx /var/run/nginx.pid \\( ! -user peak-user');
  });

  test('facts (organisation catalog, facts file) that list run-time paths win over the built-in table, for any image', () => {
    const facts = (reference: string) =>
      reference.startsWith('registry.corp/web')
        ? {
            os: 'linux' as const,
            shell: true,
            userCreation: 'useradd' as const,
            takenUids: [],
            known: true,
            source: { kind: 'config' as const, ref: '.peak-fix.json' },
            runtimePaths: [
              { path: '/var/cache/corp-web', kind: 'dir' as const, source: 'config' },
              { path: '/run/corp-web.pid', kind: 'file' as const, source: 'config' },
              { path: '/tmp/$(x)', kind: 'dir' as const, source: 'config: not a plain path, never used' },
            ],
          }
        : undefined;
    const output = fixDockerfile('FROM registry.corp/web:3\nCOPY site /srv/site\n', {}, { facts }).output;
    expect(output).toContain('RUN mkdir -p /var/cache/corp-web && touch /run/corp-web.pid && ');
    expect(output).toContain('then find /var/cache/corp-web /run/corp-web.pid \\( ! -user peak-user');
    expect(output).not.toContain('$(x)');
  });

  test('distroless bases get no run-time paths (no shell), and the peak-doc preset uses chown -R with the same prefix', () => {
    const doc = fixDockerfile('FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n', { preset: 'peak-doc' }).output;
    expect(doc).toContain(
      'RUN mkdir -p /var/cache/nginx && touch /var/run/nginx.pid && chown -R peak-user:peak-user /var/cache/nginx /var/run/nginx.pid',
    );
  });
});
