import { afterEach, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cleanup, runCli, tempDir, writeTree } from './helpers/cli.js';
import { DEBIAN_GROUP, DEBIAN_PASSWD, fakeEngine, type FakeImage } from './helpers/fake-docker.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const fresh = () => {
  const dir = tempDir('peak-fix-inspect-');
  dirs.push(dir);
  return dir;
};

const HARDENED: FakeImage = {
  id: `sha256:${'1'.repeat(64)}`,
  user: '1001',
  files: { '/bin/sh': '', '/etc/passwd': DEBIAN_PASSWD, '/etc/group': DEBIAN_GROUP },
  tools: ['useradd', 'usermod'],
};
const SLIM: FakeImage = { id: `sha256:${'2'.repeat(64)}`, files: {} };
const images = { 'corp/hardened:1': HARDENED, 'corp/slim:2': SLIM };

const facts = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'peak-fix-images.json'), 'utf8')) as {
    images: { reference: string; digest: string; engine: string }[];
  };

describe('peak-fix inspect', () => {
  test('writes the facts of each image beside the config file and says what it read', async () => {
    const dir = fresh();
    writeTree(dir, { 'ci/peak-fix.json': '{}' });
    const r = await runCli(['inspect', 'corp/hardened:1', 'corp/slim:2', '--config', 'ci/peak-fix.json'], {
      cwd: dir,
      docker: fakeEngine(images).docker,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'corp/hardened:1 sha256:111111111111…: linux, shell, user creation useradd (family debian), default user 1001',
    );
    expect(r.stdout).toContain(
      'corp/slim:2 sha256:222222222222…: linux, no shell, user creation none (family distroless), default user root',
    );
    expect(r.stdout).toContain('facts written to ci/peak-fix-images.json (engine 20.10.24+dfsg1)');
    expect(facts(path.join(dir, 'ci')).images.map((i) => i.reference)).toEqual(['corp/hardened:1', 'corp/slim:2']);
  });

  test('a missing image: exit 1, the others are still written', async () => {
    const dir = fresh();
    const r = await runCli(['inspect', 'corp/absent:1', 'corp/slim:2'], { cwd: dir, docker: fakeEngine(images).docker });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('peak-fix: inspect: image corp/absent:1 is not on this engine (peak-fix never pulls unless --pull is given)\n');
    expect(facts(dir).images.map((i) => i.reference)).toEqual(['corp/slim:2']);
  });

  test('no engine: exit 2, one line, nothing written', async () => {
    const dir = fresh();
    const r = await runCli(['inspect', 'corp/slim:2'], { cwd: dir, docker: fakeEngine(images, { daemonDown: true }).docker });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^peak-fix: inspect: no Docker engine answers: Cannot connect to the Docker daemon.*\n$/);
    expect(existsSync(path.join(dir, 'peak-fix-images.json'))).toBe(false);
  });
});

describe('peak-fix --inspect-images', () => {
  const tree = {
    'svc/Dockerfile': 'FROM corp/hardened:1\nCOPY app.py /opt/app.py\nCMD ["python3", "/opt/app.py"]\n',
    'slim/Dockerfile': 'FROM corp/slim:2\nCOPY app /app\nCMD ["/app"]\n',
    'known/Dockerfile': 'FROM debian:bookworm-slim\nCMD ["true"]\n',
  };

  test('inspects every base nothing else places, updates the facts file, says which, and uses the facts', async () => {
    const dir = fresh();
    writeTree(dir, tree);
    const engine = fakeEngine(images);
    const r = await runCli(['--inspect-images', '--format', 'json'], { cwd: dir, docker: engine.docker });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'inspected corp/hardened:1 (sha256:111111111111…), corp/slim:2 (sha256:222222222222…): facts written to peak-fix-images.json',
    );
    // debian is in the built-in table: never inspected
    expect(engine.calls.filter((c) => c[0] === 'image').map((c) => c[c.length - 1])).toEqual(['corp/hardened:1', 'corp/slim:2']);
    const report = JSON.parse(r.stdout) as { files: { path: string; diff: string; findings: { rule: string; message: string }[] }[] };
    const svc = report.files.find((f) => f.path === 'svc/Dockerfile');
    expect(svc?.diff).toContain('+USER 0\n');
    expect(svc?.diff).toContain('+USER 1001\n');
    expect(svc?.findings.find((f) => f.rule === 'base-facts')?.message).toBe(
      `facts about corp/hardened:1 from inspected sha256:${'1'.repeat(64)}: family debian, default user 1001`,
    );
    const slim = report.files.find((f) => f.path === 'slim/Dockerfile');
    expect(slim?.diff).toContain('+COPY --chown=$PEAK_USER_ID:$PEAK_USER_ID app /app');
    expect(slim?.diff).not.toContain('+RUN');

    // A second run finds everything in the facts file, and works with no engine at all.
    const again = await runCli(['--inspect-images', '--format', 'json'], { cwd: dir, docker: fakeEngine({}, { missing: true }).docker });
    expect(again.stderr).toContain('--inspect-images: every base image is already known; nothing to inspect');
    expect(JSON.parse(again.stdout)).toEqual(report);
  });

  test('with no engine it says so once and goes on with what it knows', async () => {
    const dir = fresh();
    writeTree(dir, tree);
    const r = await runCli(['--inspect-images'], { cwd: dir, docker: fakeEngine({}, { missing: true }).docker });
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.includes('Docker'));
    expect(lines).toEqual([
      'peak-fix: --inspect-images: no Docker engine: the docker command was not found; going on without inspecting corp/hardened:1, corp/slim:2',
    ]);
    expect(r.stdout).toContain('+++ b/svc/Dockerfile');
    expect(existsSync(path.join(dir, 'peak-fix-images.json'))).toBe(false);
  });

  test('without the flag, no engine is asked; the config catalog places the image', async () => {
    const dir = fresh();
    writeTree(dir, { ...tree, '.peak-fix.json': JSON.stringify({ images: { 'corp/hardened': { user: 1001, userCreation: 'useradd' } } }) });
    const engine = fakeEngine(images);
    const r = await runCli(['svc', '--verbose'], { cwd: dir, docker: engine.docker });
    expect(engine.calls).toEqual([]);
    expect(r.stdout).toContain('+USER 1001');
    expect(r.stdout).toContain(
      'facts about corp/hardened:1 from config .peak-fix.json images["corp/hardened"]: family debian, default user 1001',
    );
  });

  test('a bad catalog entry stops the run with one line per entry', async () => {
    const dir = fresh();
    writeTree(dir, { ...tree, '.peak-fix.json': JSON.stringify({ images: { 'corp/*': { user: 'a b' }, 'corp/x': { migrated: 'yes' } } }) });
    const r = await runCli([], { cwd: dir });
    expect(r.code).toBe(2);
    const file = path.join(dir, '.peak-fix.json');
    expect(r.stderr).toBe(
      `peak-fix: ${file}: images["corp/*"].user: expected a name or a UID\npeak-fix: ${file}: images["corp/x"].migrated: expected true or false\n`,
    );
  });
});

describe('images built from each other (compose, bake)', () => {
  const parent = 'FROM debian:bookworm-slim\nRUN mkdir -p /opt/base\nCMD ["bash"]\n';
  const child = 'FROM corp/base:1\nRUN echo child > /etc/child.conf\nCMD ["cat", "/etc/child.conf"]\n';

  test('compose: the parent declares only the ARG, the child goes back to root and sets its own UID', async () => {
    const dir = fresh();
    writeTree(dir, {
      'base/Dockerfile': parent,
      'app/Dockerfile': child,
      'compose.yaml':
        'services:\n  base:\n    build: ./base\n    image: corp/base:${BASE_TAG:-1}\n  app:\n    build:\n      context: app\n    image: corp/app:1\n',
    });
    const r = await runCli(['--write', '--verbose'], { cwd: dir });
    expect(r.code).toBe(0);
    const base = readFileSync(path.join(dir, 'base/Dockerfile'), 'utf8');
    expect(base).toContain('ARG PEAK_USER_ID\n');
    expect(base).not.toContain('ENV PEAK_USER_ID');
    const app = readFileSync(path.join(dir, 'app/Dockerfile'), 'utf8');
    expect(app.startsWith('FROM corp/base:1\nUSER 0\nARG PEAK_USER_ID\nENV PEAK_USER_ID=$PEAK_USER_ID\n')).toBe(true);
    expect(app).toContain('usermod -o -u "$PEAK_USER_ID"');
    expect(app.trimEnd().endsWith('USER $PEAK_USER_ID')).toBe(true);
    expect(r.stdout + r.stderr).toContain(
      'facts about corp/base:1 from repository base/Dockerfile (compose.yaml services.base): family debian, default user root, already migrated',
    );
  });

  test('bake (HCL with variables and inherits) and bake JSON name the images too', async () => {
    for (const bake of <Record<string, string>[]>[
      {
        'docker-bake.hcl':
          'variable "TAG" { default = "1" }\ntarget "common" { context = "base" }\ntarget "base" {\n  inherits = ["common"]\n  tags = ["corp/base:${TAG}"]\n}\n',
      },
      { 'docker-bake.json': JSON.stringify({ target: { base: { context: 'base', dockerfile: 'Dockerfile', tags: ['corp/base:1'] } } }) },
    ]) {
      const dir = fresh();
      writeTree(dir, { 'base/Dockerfile': parent, 'app/Dockerfile': child, ...bake });
      const r = await runCli(['--write'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(readFileSync(path.join(dir, 'base/Dockerfile'), 'utf8')).not.toContain('ENV PEAK_USER_ID');
      expect(readFileSync(path.join(dir, 'app/Dockerfile'), 'utf8')).toContain('FROM corp/base:1\nUSER 0\n');
    }
  });

  test('an image that stops at an earlier build stage: that stage is the one migrated, and an image built FROM it goes back to root', async () => {
    const dir = fresh();
    writeTree(dir, {
      'base/Dockerfile': `FROM debian:bookworm-slim AS tools\nRUN echo tools\n\nFROM debian:bookworm-slim\nCMD ["bash"]\n`,
      'app/Dockerfile': child,
      'compose.yaml': 'services:\n  base:\n    build:\n      context: base\n      target: tools\n    image: corp/base:1\n',
    });
    expect((await runCli(['--write'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(path.join(dir, 'app/Dockerfile'), 'utf8')).toContain('FROM corp/base:1\nUSER 0\n');
    const base = readFileSync(path.join(dir, 'base/Dockerfile'), 'utf8');
    // The tools stage is the image: migrated, with the build argument only (children get their own UID).
    expect(base).toMatch(/^FROM debian:bookworm-slim AS tools\nARG PEAK_USER_ID\nRUN : /);
    expect(base).not.toContain('ENV PEAK_USER_ID');
    expect(base).toMatch(/\n\nFROM debian:bookworm-slim\nCMD \["bash"\]\n$/);
  });

  test('a second run changes nothing', async () => {
    const dir = fresh();
    writeTree(dir, {
      'base/Dockerfile': parent,
      'app/Dockerfile': child,
      'docker-compose.yml': 'services:\n  base:\n    build: base\n    image: corp/base:1\n',
    });
    expect((await runCli(['--write'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['--check'], { cwd: dir });
    expect(r.code).toBe(0);
  });
});
