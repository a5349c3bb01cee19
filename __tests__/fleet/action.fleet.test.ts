import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { exec, ROOT } from './fleet-harness.js';

/**
 * action.yml cannot run GitHub's runner here, so its shell steps run as the runner runs them: `bash` with
 * the step's `env` (inputs substituted), GITHUB_ACTION_PATH at this checkout (built by test:fleet) and a
 * GITHUB_OUTPUT file; the upload step is checked for what it hands to github/codeql-action/upload-sarif.
 */
interface Step {
  name?: string;
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
  run?: string;
}
const action = parse(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default: string }>;
  runs: { using: string; steps: Step[] };
};
const step = (name: string): Step => {
  const found = action.runs.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'peak-fix-action-')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runStep(name: string, workspace: string, inputs: Record<string, string>) {
  const s = step(name);
  const values = { ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default])), ...inputs };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GITHUB_ACTION_PATH: ROOT,
    GITHUB_OUTPUT: path.join(workspace, '.github-output'),
    NO_COLOR: '1',
  };
  for (const [key, value] of Object.entries(s.env ?? {}))
    env[key] = value.replace(/\$\{\{ inputs\.([a-z-]+) \}\}/g, (_m, input: string) => values[input] ?? '');
  writeFileSync(env.GITHUB_OUTPUT as string, '');
  return exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', s.run ?? ''], { cwd: workspace, env });
}

function workspace(name: string, files: Record<string, string>): string {
  const root = path.join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return root;
}

const LOW_PORT = 'FROM nginx:1.27\nCOPY site/ /usr/share/nginx/html/\nEXPOSE 80\n';

describe('GitHub Action (action.yml)', () => {
  test('a composite action: set up node, install, SARIF, upload with a category, gate', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.runs.steps.map((s) => s.name ?? s.uses)).toEqual([
      'actions/setup-node@v4',
      'Install peak-fix',
      'Findings as SARIF',
      'Upload to code scanning',
      'Gate',
    ]);
    const upload = step('Upload to code scanning');
    expect(upload.uses).toBe('github/codeql-action/upload-sarif@v3');
    expect(upload.with).toEqual({ sarif_file: '${{ steps.sarif.outputs.file }}', category: 'peak-fix' });
    expect(upload.if).toContain('always()');
    // Inputs reach scripts only through env, never pasted into the script text.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toContain('${{');
  });

  test('unmigrated files: SARIF written with fingerprints and non-empty fixes, then the gate fails', async () => {
    const ws = workspace('unmigrated', {
      'web/Dockerfile': LOW_PORT,
      'api/Dockerfile': 'FROM python:3.11-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n',
    });
    const sarif = await runStep('Findings as SARIF', ws, {});
    expect(sarif.code).toBe(0);
    expect(readFileSync(path.join(ws, '.github-output'), 'utf8')).toBe('file=peak-fix.sarif\n');
    const log = JSON.parse(readFileSync(path.join(ws, 'peak-fix.sarif'), 'utf8')) as {
      runs: { results: { ruleId: string; partialFingerprints: Record<string, string>; fixes?: unknown[] }[] }[];
    };
    const results = log.runs[0].results;
    expect(results.map((r) => r.ruleId).sort()).toEqual([
      // The site copied into nginx's own tree keeps root as its owner (the ownership policy).
      'chown-system-path',
      'not-migrated',
      'not-migrated',
      'privileged-port',
      'workdir-kept',
      'workdir-kept',
    ]);
    for (const r of results) expect(Object.values(r.partialFingerprints)[0]).toMatch(/^[0-9a-f]{32}$/);
    for (const r of results) if (r.fixes !== undefined) expect(r.fixes.length).toBeGreaterThan(0);
    const gate = await runStep('Gate', ws, {});
    expect(gate.code).toBe(1);
    expect(gate.stdout).toBe('[warn] api/Dockerfile\n[warn] web/Dockerfile\n');
  });

  test('migrated files pass the gate; fail-on: warning still fails on the low port', async () => {
    const ws = workspace('migrated', { 'web/Dockerfile': LOW_PORT });
    expect((await exec('node', [path.join(ROOT, 'bin/peak-fix.js'), '--write'], { cwd: ws, env: { PATH: process.env.PATH } })).code).toBe(
      0,
    );
    expect((await runStep('Gate', ws, {})).code).toBe(0);
    expect((await runStep('Gate', ws, { 'fail-on': 'warning' })).code).toBe(1);
  });

  test('a path that matches nothing stops the job (exit 2); inputs are never run as shell', async () => {
    const ws = workspace('typo', { 'web/Dockerfile': LOW_PORT });
    const typo = await runStep('Findings as SARIF', ws, { paths: 'web/Dockerfile services/' });
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('::error::services: no such file or directory\n');
    const pattern = await runStep('Findings as SARIF', ws, { paths: 'web/Dockerfile deploy/*.Dockerfile' });
    expect([pattern.code, pattern.stdout]).toEqual([2, '::error::deploy/*.Dockerfile: no files match this pattern\n']);
    const injected = await runStep('Gate', ws, { paths: 'web/Dockerfile $(touch pwned) `touch pwned2`' });
    expect(injected.code).toBe(2);
    expect(existsSync(path.join(ws, 'pwned'))).toBe(false);
    expect(existsSync(path.join(ws, 'pwned2'))).toBe(false);
  });
});
