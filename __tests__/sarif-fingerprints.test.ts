import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { cleanup, DEBIAN, runCli, tempDir, writeTree } from './helpers/cli.js';

interface SarifResult {
  ruleId: string;
  partialFingerprints?: Record<string, string>;
  fixes?: { artifactChanges: { replacements: { insertedContent: { text: string } }[] }[] }[];
  locations: { physicalLocation: { region: { startLine: number } } }[];
}

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

async function sarif(files: Record<string, string>): Promise<SarifResult[]> {
  writeTree(dir, files);
  const run = await runCli(['--format', 'sarif'], { cwd: dir });
  return (JSON.parse(run.stdout) as { runs: { results: SarifResult[] }[] }).runs[0].results;
}

const PORTS = 'FROM python:3.11-slim\nEXPOSE 80\nRUN sudo true\nEXPOSE 80\nCMD ["python", "-m", "http.server", "80"]\n';

describe('SARIF for code scanning', () => {
  test('every result has a partialFingerprint; identical lines get distinct ones', async () => {
    const results = await sarif({ Dockerfile: PORTS });
    expect(results.length).toBeGreaterThan(3);
    const prints = results.map((r) => r.partialFingerprints?.['peakFixFinding/v1']);
    expect(prints.every((p) => typeof p === 'string' && /^[0-9a-f]{32}$/.test(p))).toBe(true);
    expect(new Set(prints).size).toBe(prints.length);
  });

  test('fingerprints survive lines added above and below; the flagged line changing changes its own', async () => {
    const before = await sarif({ Dockerfile: PORTS });
    const shifted = await sarif({ Dockerfile: `# a comment\n\n${PORTS}LABEL x=y\n` });
    const key = (r: SarifResult) => `${r.ruleId} ${r.partialFingerprints?.['peakFixFinding/v1']}`;
    expect(shifted.map(key).sort()).toEqual(before.map(key).sort());
    expect(shifted.find((r) => r.ruleId === 'sudo')?.locations[0].physicalLocation.region.startLine).toBe(5);
    const edited = await sarif({ Dockerfile: PORTS.replace('RUN sudo true', 'RUN sudo  apt-get update') });
    const sudo = (rs: SarifResult[]) => rs.find((r) => r.ruleId === 'sudo')?.partialFingerprints?.['peakFixFinding/v1'];
    expect(sudo(edited)).not.toBe(sudo(before));
  });

  test('a fixes entry is present only with a change, and never empty', async () => {
    const results = await sarif({ 'a/Dockerfile': DEBIAN, 'b/Dockerfile': PORTS });
    const withFixes = results.filter((r) => r.fixes !== undefined);
    expect(withFixes.map((r) => r.ruleId)).toEqual(['not-migrated', 'not-migrated']);
    for (const result of withFixes) {
      expect(result.fixes?.length).toBe(1);
      expect(result.fixes?.[0].artifactChanges[0].replacements[0].insertedContent.text).toContain('USER $PEAK_USER_ID');
    }
    const written = await runCli(['--write', '--format', 'sarif'], { cwd: dir });
    const after = (JSON.parse(written.stdout) as { runs: { results: SarifResult[] }[] }).runs[0].results;
    expect(after.filter((r) => r.fixes !== undefined)).toEqual([]);
  });
});
