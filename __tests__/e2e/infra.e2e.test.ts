/**
 * Smoke test of the end-to-end infrastructure: the engine answers, every
 * stand-in base image exists and behaves like the family it stands for, and
 * two facts about the legacy builder are recorded (not asserted) in
 * .e2e-work/facts.json.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASES,
  PYTHON_ALIAS,
  SCRATCH_BINARY,
  STAND_IN_LABEL,
  build,
  configUser,
  dockerAvailable,
  imageExists,
  imageLabel,
  removeContext,
  removeImage,
  run,
  tempContext,
  testTag,
  type BaseName,
} from './docker.js';

const made: { tags: string[]; dirs: string[] } = { tags: [], dirs: [] };
const facts: Record<string, unknown> = {};

/** tempContext + build, remembering what to clean up. */
function buildCtx(name: string, files: Record<string, string>, args: Record<string, string> = {}) {
  const dir = tempContext(files);
  const tag = testTag(name);
  made.dirs.push(dir);
  made.tags.push(tag);
  return { tag, ...build(dir, tag, args) };
}

/** The error line(s) of a failed legacy build, for the record. */
function errorLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|invalid|failed|unable|must|can't|cannot|not found|no such/i.test(l))
    .slice(-3);
}

beforeAll(() => {
  if (!dockerAvailable()) throw new Error('no Docker engine answers: run `npm run test:e2e` (scripts/e2e/run.sh)');
});

afterAll(() => {
  for (const tag of made.tags) removeImage(tag);
  for (const dir of made.dirs) removeContext(dir);
  if (Object.keys(facts).length) {
    const dir = join(process.cwd(), '.e2e-work');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'facts.json'), JSON.stringify(facts, null, 2) + '\n');
  }
});

describe('stand-in base images', () => {
  test.each(Object.entries(BASES) as [BaseName, string][])('%s (%s) exists', (name, tag) => {
    expect(imageExists(tag)).toBe(true);
    // a real image of that name (laptop) carries no stand-in label
    expect(['', name]).toContain(imageLabel(tag, STAND_IN_LABEL));
  });

  test(`${PYTHON_ALIAS} is tagged too`, () => {
    expect(imageExists(PYTHON_ALIAS)).toBe(true);
  });

  test('debian: runs as root', () => {
    const r = run(BASES.debian, ['id', '-u']);
    expect(r).toMatchObject({ code: 0, stdout: '0\n' });
  });

  test('bullseye: shadow 4.8.1 (useradd without -l fills lastlog)', () => {
    const r = run(BASES.bullseye, ['dpkg-query', '-W', '-f', '${Version}', 'passwd']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^1:4\.8\.1/);
  });

  test('node: user node is 1000:1000 with /home/node', () => {
    const r = run(BASES.node, ['sh', '-c', 'id -u node; id -g node; getent passwd node | cut -d: -f6; test -d /home/node']);
    expect(r).toMatchObject({ code: 0, stdout: '1000\n1000\n/home/node\n' });
  });

  test('python: python3 runs, http.server serves on loopback', () => {
    const script = [
      'import http.server, threading, urllib.request',
      's = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)',
      'threading.Thread(target=s.serve_forever, daemon=True).start()',
      'print(urllib.request.urlopen("http://127.0.0.1:%d/" % s.server_address[1], timeout=10).status)',
    ].join('\n');
    const r = run(BASES.python, ['python3', '-c', script]);
    expect(r.stdout).toBe('200\n');
    const m = run(BASES.python, ['python3', '-m', 'http.server', '--help']);
    expect(m.code).toBe(0);
    expect(run(PYTHON_ALIAS, ['python', '-c', 'print(6*7)']).stdout).toBe('42\n');
  });

  test('alpine: busybox adduser works, useradd does not exist, ids stop at 256000', () => {
    const b = buildCtx('alpine-adduser', {
      Dockerfile: `FROM ${BASES.alpine}\nRUN adduser -D -h /home/x -u 4242 x && id -u x\n`,
    });
    expect(b.output).toContain('4242');
    expect(b.ok).toBe(true);
    expect(run(b.tag, ['id', '-u', 'x'])).toMatchObject({ code: 0, stdout: '4242\n' });
    expect(run(b.tag, ['stat', '-c', '%u:%g', '/home/x']).stdout).toBe('4242:4242\n');

    expect(run(BASES.alpine, ['sh', '-c', 'useradd -u 5000 y']).code).toBe(127);
    const big = run(BASES.alpine, ['adduser', '-D', '-u', '300000', 'big']);
    expect(big.code).not.toBe(0);
    expect(big.stderr).toMatch(/256000/);
    expect(run(BASES.alpine, ['id', '-u', 'nobody']).stdout).toBe('65534\n');
    expect(run(BASES.alpine, ['find', '/tmp', '-maxdepth', '0', '-perm', '1777']).stdout).toBe('/tmp\n');
  });

  test('bitnami/python: a root image, as its own Dockerfile (no USER)', () => {
    expect(configUser(BASES.bitnami)).toBe('');
    expect(run(BASES.bitnami, ['id', '-u'])).toMatchObject({ code: 0, stdout: '0\n' });
  });

  test('distroless: only a static binary, no /bin/sh, no /etc/passwd', () => {
    expect(run(BASES.distroless, [])).toMatchObject({ code: 0, stdout: 'uid=0 gid=0\n' });
    expect(run(BASES.distroless, [SCRATCH_BINARY, 'a b'])).toMatchObject({ code: 0, stdout: 'uid=0 gid=0\na b\n' });
    const st = run(BASES.distroless, [SCRATCH_BINARY, '--stat', '/etc/passwd', '/bin/sh']);
    expect(st.code).toBe(1);
    expect(st.stdout).toBe('/etc/passwd error=No such file or directory\n/bin/sh error=No such file or directory\n');
    const b = buildCtx('distroless-run', { Dockerfile: `FROM ${BASES.distroless}\nRUN true\n` });
    expect(b.ok).toBe(false);
    expect(b.output).toMatch(/\/bin\/sh/);
  });
});

// The distroless rewrite relies on these (it has no shell for a RUN guard); they are also saved in .e2e-work/facts.json.
describe('legacy builder facts the rewrite relies on', () => {
  test('USER ${PEAK_USER_ID:?msg}', () => {
    const files = {
      Dockerfile: `FROM ${BASES.debian}\nARG PEAK_USER_ID\nUSER \${PEAK_USER_ID:?PEAK_USER_ID must be set}\n`,
    };
    const record = (args: Record<string, string>) => {
      const b = buildCtx('user-required', files, args);
      return {
        buildArgs: args,
        ok: b.ok,
        configUser: b.ok ? configUser(b.tag) : null,
        idU: b.ok ? run(b.tag, ['id', '-u']).stdout.trim() : null,
        errors: b.ok ? [] : errorLines(b.output),
      };
    };
    const fact = {
      dockerfile: files.Dockerfile,
      withValue: record({ PEAK_USER_ID: '4321' }),
      notPassed: record({}),
      passedEmpty: record({ PEAK_USER_ID: '' }),
    };
    facts['USER ${VAR:?msg}'] = fact;
    console.log(`fact: USER \${PEAK_USER_ID:?msg}\n${JSON.stringify(fact, null, 2)}`);
    expect(fact.withValue).toMatchObject({ ok: true, configUser: '4321', idU: '4321' });
    for (const missing of [fact.notPassed, fact.passedEmpty]) {
      expect(missing.ok).toBe(false);
      expect(missing.errors.join('\n')).toMatch(/PEAK_USER_ID must be set/);
    }
  });

  test('COPY --chown=$PEAK_USER_ID:$PEAK_USER_ID with an empty value', () => {
    const scratchProbe = { stat: [SCRATCH_BINARY, '--stat', '/f'], id: [SCRATCH_BINARY] };
    const debianProbe = { stat: ['stat', '-c', '/f uid=%u gid=%g mode=0%a', '/f'], id: ['id'] };
    const variants = {
      'scratch, --chown=$V:$V': [BASES.distroless, '$PEAK_USER_ID:$PEAK_USER_ID', scratchProbe],
      'debian, --chown=$V:$V': [BASES.debian, '$PEAK_USER_ID:$PEAK_USER_ID', debianProbe],
      'scratch, --chown=${V:?msg}:${V:?msg}': [BASES.distroless, '${PEAK_USER_ID:?required}:${PEAK_USER_ID:?required}', scratchProbe],
      // the flag is split on whitespace before expansion: a message with a space breaks it
      'scratch, --chown=${V:?two words}': [BASES.distroless, '${PEAK_USER_ID:?set it}', scratchProbe],
    } as const;
    const fact: Record<string, unknown> = {};
    let scratchWithValue: unknown;
    for (const [variant, [base, chown, probe]] of Object.entries(variants)) {
      const files = {
        Dockerfile: `FROM ${base}\nARG PEAK_USER_ID\nCOPY --chown=${chown} f /f\nUSER $PEAK_USER_ID\n`,
        f: 'x\n',
      };
      const record = (args: Record<string, string>) => {
        const b = buildCtx('chown', files, args);
        return {
          buildArgs: args,
          ok: b.ok,
          configUser: b.ok ? configUser(b.tag) : null,
          stat: b.ok ? run(b.tag, [...probe.stat]).stdout.trim() : null,
          runsAs: b.ok ? run(b.tag, [...probe.id]).stdout.trim() : null,
          errors: b.ok ? [] : errorLines(b.output),
        };
      };
      const one = {
        dockerfile: files.Dockerfile,
        withValue: record({ PEAK_USER_ID: '4321' }),
        notPassed: record({}),
        passedEmpty: record({ PEAK_USER_ID: '' }),
      };
      if (variant === 'scratch, --chown=$V:$V') scratchWithValue = one.withValue;
      fact[variant] = one;
    }
    facts['COPY --chown with an empty value'] = fact;
    console.log(`fact: COPY --chown=$PEAK_USER_ID:$PEAK_USER_ID, empty\n${JSON.stringify(fact, null, 2)}`);
    // An empty UID never falls back to root: the COPY fails, on scratch and on Debian alike.
    for (const variant of ['scratch, --chown=$V:$V', 'debian, --chown=$V:$V']) {
      const outcome = fact[variant] as { notPassed: { ok: boolean }; passedEmpty: { ok: boolean } };
      expect([outcome.notPassed.ok, outcome.passedEmpty.ok]).toEqual([false, false]);
    }
    // shared/DOCKER.md: numeric --chown and USER work on scratch (USER without a group: gid 0)
    expect(scratchWithValue).toMatchObject({
      ok: true,
      configUser: '4321',
      stat: '/f uid=4321 gid=4321 mode=0644',
    });
  });
});
