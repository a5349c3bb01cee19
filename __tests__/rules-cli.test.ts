import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import AjvDraft04 from 'ajv-draft-04';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../src/rewrite/rules.js';
import { cleanup, DEBIAN, NO_FROM, runCli, tempDir, writeTree } from './helpers/cli.js';

/** The official SARIF 2.1.0 schema (draft-04); one of its patterns is not valid with the `u` flag. */
const schema = JSON.parse(readFileSync(new URL('./schemas/sarif-2.1.0.json', import.meta.url), 'utf8')) as object;

type AjvConstructor = new (options: Record<string, unknown>) => Ajv;
const unwrap = <T>(module: T): T => (module as { default?: T }).default ?? module;

function validateSarif(document: unknown): string[] {
  const ajv = new (unwrap(AjvDraft04) as unknown as AjvConstructor)({ allErrors: true, strict: false, unicodeRegExp: false });
  (unwrap(addFormats) as unknown as (instance: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

const LOW_PORT = 'FROM python:3.11-slim\nEXPOSE 80\nCMD ["python", "-m", "http.server", "80"]\n';

describe('--format sarif', () => {
  test('is a valid SARIF 2.1.0 log with findings, not-migrated files and failures', async () => {
    writeTree(dir, { 'a/Dockerfile': LOW_PORT, 'b/Dockerfile': DEBIAN, 'c/Dockerfile': NO_FROM });
    const run = await runCli(['--format', 'sarif', '.'], { cwd: dir });
    expect(run.code).toBe(2);
    const log = JSON.parse(run.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          level: string;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
        invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string } }[] }[];
      }[];
    };
    expect(validateSarif(log)).toEqual([]);
    const [runLog] = log.runs;
    expect(log.version).toBe('2.1.0');
    expect(runLog.tool.driver.name).toBe('peak-fix');
    expect(runLog.tool.driver.rules.map((r) => r.id)).toEqual(['not-migrated', ...RULES.map((r) => r.id)]);
    const port = runLog.results.find((r) => r.ruleId === 'privileged-port');
    expect(port?.level).toBe('warning');
    expect(port?.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'a/Dockerfile' }, region: { startLine: 2 } });
    expect(
      runLog.results.filter((r) => r.ruleId === 'not-migrated').map((r) => r.locations[0].physicalLocation.artifactLocation.uri),
    ).toEqual(['a/Dockerfile', 'b/Dockerfile']);
    expect(runLog.invocations[0].executionSuccessful).toBe(false);
    expect(runLog.invocations[0].toolExecutionNotifications[0].message.text).toMatch(/^c\/Dockerfile: .*no FROM/);
  });

  test('the schema check itself rejects a broken log', () => {
    expect(validateSarif({ version: '2.1.0', runs: [{ tool: {} }] })).not.toEqual([]);
  });

  test('after --write, migrated files are no longer reported as not migrated', async () => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const run = await runCli(['--write', '--format', 'sarif'], { cwd: dir });
    expect(run.code).toBe(0);
    const log = JSON.parse(run.stdout) as { runs: { results: { ruleId: string }[] }[] };
    expect(validateSarif(log)).toEqual([]);
    expect(log.runs[0].results.map((r) => r.ruleId)).not.toContain('not-migrated');
  });
});

describe('--fail-on', () => {
  test('warning: exit 1 when a warning is found, even after --write', async () => {
    writeTree(dir, { Dockerfile: LOW_PORT });
    expect((await runCli(['--write', '--fail-on', 'warning'], { cwd: dir })).code).toBe(1);
    expect((await runCli(['--fail-on', 'warning'], { cwd: dir })).code).toBe(1);
  });

  test('error: warnings alone do not fail; without the flag findings never fail', async () => {
    writeTree(dir, { Dockerfile: LOW_PORT });
    expect((await runCli(['--fail-on', 'error'], { cwd: dir })).code).toBe(0);
    expect((await runCli([], { cwd: dir })).code).toBe(0);
  });

  test('info findings do not count, and a bad value is a usage error', async () => {
    writeTree(dir, { Dockerfile: 'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n' });
    expect((await runCli(['--fail-on', 'warning'], { cwd: dir })).code).toBe(0);
    const bad = await runCli(['--fail-on', 'info'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --fail-on "info"/);
  });
});

describe('rules', () => {
  test('--list-rules lists every rule with its severity', async () => {
    const run = await runCli(['--list-rules'], { cwd: dir });
    expect(run.code).toBe(0);
    for (const rule of RULES) expect(run.stdout).toMatch(new RegExp(`^${rule.id} +${rule.severity} +`, 'm'));
  });

  test('--explain prints the description and a before/after example', async () => {
    const run = await runCli(['--explain', 'privilege-drop'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('privilege-drop (warning)');
    expect(run.stdout).toMatch(/Before:\n {4}ENTRYPOINT \["gosu"/);
    expect(run.stdout).toMatch(/After:\n {4}ENTRYPOINT \["node"/);
  });

  test('--explain of an unknown rule is a usage error', async () => {
    const run = await runCli(['--explain', 'nope'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown rule "nope"/);
  });

  test('every rule has a summary, a description and an example', () => {
    for (const rule of RULES) {
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.description.length).toBeGreaterThan(20);
      expect(rule.before.length).toBeGreaterThan(0);
    }
  });
});

describe('--explain with files: why each added line is there (issue 18)', () => {
  test('each added instruction and flag is followed by its reason; the file is not written', async () => {
    writeTree(dir, {
      Dockerfile: 'FROM debian:bookworm-slim\nWORKDIR /app\nCOPY . .\nVOLUME /app/data\nCMD ["sh", "run.sh"]\n',
    });
    for (const args of [['--explain', 'Dockerfile'], ['--explain']]) {
      const run = await runCli(args, { cwd: dir });
      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      const reasonAfter = (added: RegExp) => {
        const at = lines.findIndex((l) => added.test(l));
        expect(at).toBeGreaterThanOrEqual(0);
        // After the instruction's continuation lines.
        let next = at + 1;
        while (/^\+\s/.test(lines[next] ?? '')) next++;
        return lines[next];
      };
      expect(reasonAfter(/^\+ARG PEAK_USER_ID$/)).toMatch(/^ {4}\u21b3 Peak passes the UID as the build argument PEAK_USER_ID/);
      expect(reasonAfter(/^\+RUN : "\$\{PEAK_USER_ID:\?/)).toMatch(/an empty PEAK_USER_ID fails the build here.*creates peak-user/);
      expect(reasonAfter(/^\+COPY --chown=peak-user \. \.$/)).toMatch(/owns the application's files it copies in \(guide, step 2\)/);
      expect(reasonAfter(/^\+RUN mkdir -p \/app\/data/)).toMatch(/VOLUME \/app\/data.*before the VOLUME line/);
      expect(reasonAfter(/^\+RUN find \/app -type d/)).toMatch(/\/app: made while root ran the program/);
      expect(reasonAfter(/^\+USER \$PEAK_USER_ID$/)).toMatch(/the image runs as the UID Peak passes/);
      expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain('COPY . .\n');
    }
  });

  test('a rule name still explains the rule, and a name that is neither is a usage error', async () => {
    writeTree(dir, { Dockerfile: 'FROM debian\n' });
    expect((await runCli(['--explain', 'sudo'], { cwd: dir })).stdout).toContain('sudo (warning)');
    const run = await runCli(['--explain', 'nope'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown rule "nope".*no such file to explain/);
  });
});

describe('a stage that cannot run as a non-root user (issue 18)', () => {
  const SSHD = 'FROM debian:bookworm-slim\nRUN apt-get install -y openssh-server\nCMD ["/usr/sbin/sshd", "-D"]\n';

  test('is left unchanged; --check fails and says why; --force rewrites it', async () => {
    writeTree(dir, { Dockerfile: SSHD });
    const check = await runCli(['--check'], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('[warn] Dockerfile');
    expect(check.stdout).toMatch(
      /error {2}the final stage was left unchanged: it cannot run as a non-root user as it is \(root-start \(line 3\)\)/,
    );
    expect((await runCli(['--list-different'], { cwd: dir })).stdout).toBe('Dockerfile\n');
    const write = await runCli(['--write'], { cwd: dir });
    expect(write.code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(SSHD);
    expect(write.stderr).toMatch(/skipped: the final stage was left unchanged/);
    const forced = await runCli(['--write', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toMatch(/\nUSER \$PEAK_USER_ID\n$/);
  });
});
