/**
 * `peak-fix verify` against real images: a correct rewrite passes; a base image whose ENV PEAK_USER_ID
 * overrides the build argument builds fine and is caught only here.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fixDockerfile } from '../../src/index.js';
import { build, dockerAvailable, removeContext, removeImage, tempContext, testTag } from './docker.js';
import { CLI } from './migrate.js';

const tags: string[] = [];
const dirs: string[] = [];

function image(name: string, dockerfile: string, args: Record<string, string> = {}): string {
  const dir = tempContext({ Dockerfile: dockerfile });
  dirs.push(dir);
  const tag = testTag(name);
  tags.push(tag);
  const result = build(dir, tag, args);
  if (!result.ok) throw new Error(`${name} does not build:\n${result.output}`);
  return tag;
}

function verify(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'verify', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('peak-fix verify', () => {
  beforeAll(() => {
    if (!dockerAvailable()) throw new Error('no Docker engine answers: run `npm run test:e2e`, which installs and starts one');
  });
  afterAll(() => {
    for (const tag of tags) removeImage(tag);
    for (const dir of dirs) removeContext(dir);
  });

  test('a migrated image passes every check', () => {
    const tag = image('verify-ok', fixDockerfile('FROM debian:bookworm-slim\nWORKDIR /app\nCMD ["sleep", "1"]\n').output, {
      PEAK_USER_ID: '1234',
    });
    const result = verify(tag, '--uid', '1234', '--dir', '/app');
    expect(result.out).toMatch(/ok +config user: Config.User is 1234/);
    expect(result.out).toMatch(/ok +process uid: id -u prints 1234/);
    expect(result.out).toMatch(/ok +home: HOME is \/home\/peak-user/);
    expect(result.out).toMatch(/ok +writable: writable: \/home\/peak-user, \/app/);
    expect(result.code).toBe(0);
  });

  test('an unmigrated image fails with the reason', () => {
    const tag = image('verify-root', 'FROM debian:bookworm-slim\nCMD ["sleep", "1"]\n');
    const result = verify(tag, '--uid', '1234');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/FAIL +config user: Config.User is empty \(root\), expected 1234/);
    expect(result.out).toMatch(/FAIL +process uid: id -u prints 0, expected 1234/);
  });

  test('a base image ENV PEAK_USER_ID silently overrides the build argument: only verify notices', () => {
    const base = image('verify-env-base', 'FROM debian:bookworm-slim\nENV PEAK_USER_ID=4000\n');
    const child = fixDockerfile(`FROM ${base}\nCMD ["sleep", "1"]\n`).output;
    const tag = image('verify-env-child', child, { PEAK_USER_ID: '1234' });
    const result = verify(tag, '--uid', '1234');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /FAIL +config user: Config.User is "4000", expected 1234 \(a base image ENV of the same name overrides the build argument\)/,
    );
  });

  test('usage errors exit 2 and nothing unsafe reaches the container shell', () => {
    expect(verify('debian:bookworm-slim').code).toBe(2);
    const injected = verify('debian:bookworm-slim', '--uid', '0', '--dir', "/tmp'; touch /pwned; '");
    expect(injected.code).toBe(2);
    expect(injected.out).toMatch(/not a plain absolute path/);
    expect(verify('missing-image-peak-fix:none', '--uid', '1').out).toMatch(/cannot inspect missing-image-peak-fix:none/);
  });
});
