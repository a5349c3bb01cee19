import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { main } from '../../src/cli/index.js';
import type { FleetResult } from '../../src/fleet/results.js';

/**
 * The HTML fleet report in a real browser: Debian's Chromium (scripts/fleet/ensure-tools.sh installs it),
 * headless, networking shut off, a fresh profile. The page must render, show the totals of its input, and
 * sort and filter its table.
 */
const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

const BASES = [
  'python:3.11-slim',
  'node:20-bookworm-slim',
  'alpine:3.20',
  'registry.access.redhat.com/ubi9/ubi:9.4',
  'gcr.io/distroless/static-debian12',
];

async function cli(argv: string[], cwd: string, env: Record<string, string>): Promise<number> {
  return main(argv, {
    cwd,
    env,
    stdout: { write: () => true, isTTY: false },
    stderr: { write: () => true, isTTY: false },
    stdin: Readable.from([]),
    signals: null,
  });
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'peak-fix-browser-')));
  const results = path.join(dir, 'results.jsonl');
  // 24 repositories: every base in turn, every fifth with a low port (needs a person), one unprocessable,
  // one already migrated (run twice), one without a Dockerfile.
  for (let i = 0; i < 24; i++) {
    const repo = path.join(dir, 'repos', `svc-${String(i).padStart(2, '0')}`);
    mkdirSync(repo, { recursive: true });
    const base = BASES[i % BASES.length];
    if (i === 7) writeFileSync(path.join(repo, 'Dockerfile'), 'RUN echo this is not a Dockerfile\n');
    else if (i !== 13) {
      writeFileSync(path.join(repo, 'Dockerfile'), `FROM ${base}\nCOPY app /app\n${i % 5 === 0 ? 'EXPOSE 80\n' : ''}CMD ["/app"]\n`);
    }
    const env = { PEAK_FIX_REPOSITORY: `acme/svc-${String(i).padStart(2, '0')}` };
    await cli(['--write', '--report-file', results], repo, env);
    if (i === 3) await cli(['--write', '--report-file', results], repo, env); // the second run finds it migrated
  }
  expect(await cli(['report', results, '--html', 'fleet.html', '--quiet'], dir, {})).toBe(0);

  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`file://${path.join(dir, 'fleet.html')}`);
}, 120_000);

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

function latestResults(): FleetResult[] {
  const latest = new Map<string, FleetResult>();
  for (const line of readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n')) {
    const result = JSON.parse(line) as FleetResult;
    latest.set(result.repository, result);
  }
  return [...latest.values()];
}

const cellTexts = (key: string): Promise<string[]> =>
  page.$$eval(`#files tbody tr:not([hidden]) td[data-key="${key}"]`, (cells) => cells.map((cell) => cell.textContent ?? ''));

describe('the HTML fleet report in Chromium', () => {
  test('renders with no request leaving the page and no script or CSP error', async () => {
    expect(await page.title()).toBe('peak-fix fleet report');
    expect(await page.locator('h1').textContent()).toBe('peak-fix fleet report');
    expect(await page.locator('#chart-family g.bar').count()).toBe(
      new Set(latestResults().flatMap((r) => r.files.map((f) => f.family ?? 'not parsed'))).size,
    );
    expect(await page.locator('#chart-rules g.bar[data-rule="privileged-port"]').count()).toBe(1);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  });

  test('the totals are those of the input (the latest line of each repository)', async () => {
    const latest = latestResults();
    const total = async (key: string) => Number(await page.locator(`[data-total="${key}"] .n`).textContent());
    expect(latest).toHaveLength(24);
    expect(await total('repositories')).toBe(24);
    for (const outcome of ['migrated', 'needs-person', 'failed', 'compliant'] as const) {
      expect([outcome, await total(outcome)]).toEqual([outcome, latest.filter((r) => r.outcome === outcome).length]);
    }
    expect(await total('failed')).toBe(1);
    expect(await total('needs-person')).toBe(5);
    expect(await total('files')).toBe(latest.reduce((sum, r) => sum + r.files.length, 0));
    expect(await total('findings')).toBe(latest.reduce((sum, r) => sum + r.files.reduce((n, f) => n + f.findings.length, 0), 0));
    expect(await page.locator('#files tbody tr').count()).toBe(latest.reduce((sum, r) => sum + Math.max(1, r.files.length), 0));
    expect(await page.locator('#shown').textContent()).toBe('24 of 24 rows');
  });

  test('a header click sorts the table, a second click reverses it; numbers sort as numbers', async () => {
    const names = (await cellTexts('repository')).slice();
    await page.locator('th[data-key="repository"] button').click();
    const ascending = await cellTexts('repository');
    expect(ascending).toEqual([...names].sort());
    expect(await page.locator('th[data-key="repository"]').getAttribute('aria-sort')).toBe('ascending');
    await page.locator('th[data-key="repository"] button').click();
    expect(await cellTexts('repository')).toEqual([...names].sort().reverse());
    await page.locator('th[data-key="findings"] button').click();
    const counts = (await cellTexts('findings')).map(Number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBeLessThan(counts[counts.length - 1]);
  });

  test('typing filters rows on any cell; the outcome menu narrows them; clearing brings all back', async () => {
    await page.locator('#filter').fill('alpine');
    const families = await cellTexts('family');
    expect(families.length).toBe(latestResults().filter((r) => r.files.some((f) => f.family === 'alpine')).length);
    expect(families.every((f) => f === 'alpine')).toBe(true);
    expect(await page.locator('#shown').textContent()).toBe(`${families.length} of 24 rows`);
    await page.locator('#filter').fill('');
    await page.locator('#outcome').selectOption('needs-person');
    const rules = await cellTexts('detail');
    expect(rules).toHaveLength(5);
    expect(rules.every((r) => r.includes('privileged-port'))).toBe(true);
    await page.locator('#filter').fill('svc-05');
    expect(await cellTexts('repository')).toEqual(['acme/svc-05']);
    await page.locator('#outcome').selectOption('failed');
    expect(await cellTexts('repository')).toEqual([]);
    await page.locator('#filter').fill('');
    expect(await cellTexts('repository')).toEqual(['acme/svc-07']);
    await page.locator('#outcome').selectOption('');
    expect(await page.locator('#shown').textContent()).toBe('24 of 24 rows');
  });
});
