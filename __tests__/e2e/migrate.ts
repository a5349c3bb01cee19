/**
 * One end-to-end migration, checked the way every e2e suite checks its cases: the original is built, migrated
 * with `peak-fix --write`, built again with the UID build argument, and the image is checked as Peak runs it
 * (builds; Config.User and `id -u` are the UID; HOME and the listed directories writable; the application prints
 * what it printed before; at most 1 MB bigger; no image without the argument).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyImage } from '../../src/runner/verify.js';
import { build, configUser, imageSize, removeContext, removeImage, run, tempContext, testTag } from './docker.js';

export const CLI = resolve(process.env.PEAK_FIX_CLI ?? 'bin/peak-fix.js');
export const HOME = '/home/peak-user';
export const MB = 1024 * 1024;

export interface Case {
  name: string;
  dockerfile: string;
  files?: Record<string, string>;
  uid: string;
  /** Extra peak-fix flags. */
  flags?: string[];
  /** Command whose output must be the same before and after the rewrite. */
  app: { args?: string[]; entrypoint?: string; expect: string };
  /** Directories (WORKDIR, VOLUME) the process must be able to write to. */
  dirs?: string[];
  /** No shell in the image: check the UID with the stand-in's /hello binary instead of id/sh. */
  noShell?: boolean;
  /** The HOME the image sets on purpose (default: the user's home). */
  home?: string;
  /** Paths the user must NOT own afterwards (least privilege: the operating system stays root's). */
  notOwned?: string[];
  /** The input is already migrated: peak-fix leaving it unchanged is expected, not a problem. */
  alreadyMigrated?: boolean;
  /** Applied to the rewritten Dockerfile before building: only the sabotage tests use it. */
  sabotage?: (rewritten: string) => string;
}

const made = { tags: [] as string[], dirs: [] as string[] };

/** Removes every image and build context made by migrate(). */
export function cleanupMigrations(): void {
  for (const tag of made.tags.splice(0)) removeImage(tag);
  for (const dir of made.dirs.splice(0)) removeContext(dir);
}

function peakFix(dir: string, flags: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, '--write', ...flags, 'Dockerfile'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

function appOutput(tag: string, c: Case): string {
  const r = run(tag, c.app.args ?? [], c.app.entrypoint ? { entrypoint: c.app.entrypoint } : {});
  const out = (r.stdout + (r.code === 0 ? '' : `\nexit ${r.code}: ${r.stderr}`)).trim();
  // /hello --stat prints the file's owner, which the rewrite is meant to change.
  return c.noShell ? out.replace(/ uid=\d+ gid=\d+/, '') : out;
}

/** Builds, migrates and checks one case; returns the checks that failed, each named, and the rewritten file. */
export function migrate(c: Case): { problems: string[]; rewritten: string } {
  const problems: string[] = [];
  const dir = tempContext({ Dockerfile: c.dockerfile, ...(c.files ?? {}) });
  made.dirs.push(dir);
  const original = testTag(`${c.name}-orig`);
  const migrated = testTag(`${c.name}-new`);
  const noArg = testTag(`${c.name}-noarg`);
  made.tags.push(original, migrated, noArg);

  // An already migrated original needs the UID too; an unused build argument only warns.
  const before = build(dir, original, { PEAK_USER_ID: c.uid });
  if (!before.ok) throw new Error(`the original of ${c.name} does not build:\n${before.output}`);
  const expected = appOutput(original, c);
  if (!expected.includes(c.app.expect)) throw new Error(`the original of ${c.name} prints ${JSON.stringify(expected)}`);

  const fixed = peakFix(dir, c.flags ?? []);
  if (fixed.code !== 0) throw new Error(`peak-fix --write failed on ${c.name}:\n${fixed.out}`);
  let rewritten = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  if (rewritten === c.dockerfile && !c.alreadyMigrated) return { problems: ['rewrite: peak-fix left the file unchanged'], rewritten };
  if (c.sabotage) {
    rewritten = c.sabotage(rewritten);
    writeFileSync(join(dir, 'Dockerfile'), rewritten);
  }

  // 1. it builds
  const after = build(dir, migrated, { PEAK_USER_ID: c.uid });
  if (!after.ok) return { problems: [`build: ${after.output.split('\n').slice(-6).join(' | ')}`], rewritten };

  // 2. and 3. who the process is, its home, its directories
  if (c.noShell) {
    const user = configUser(migrated);
    if (user !== c.uid) problems.push(`config user: ${JSON.stringify(user)}`);
    const hello = run(migrated, [], { entrypoint: '/hello' });
    if (!hello.stdout.startsWith(`uid=${c.uid} `)) problems.push(`process uid: ${hello.stdout.trim()}`);
  } else {
    const verified = verifyImage({ image: migrated, uid: c.uid, home: c.home ?? HOME, dirs: c.dirs });
    for (const check of verified.checks) if (!check.ok) problems.push(`${check.name}: ${check.detail}`);
    for (const path of c.notOwned ?? []) {
      const owner = run(migrated, ['-c', `stat -c %u ${path}`], { entrypoint: 'sh' }).stdout.trim();
      if (owner === c.uid) problems.push(`least privilege: ${path} is owned by ${c.uid}`);
      else if (!/^\d+$/.test(owner)) problems.push(`least privilege: cannot stat ${path}: ${JSON.stringify(owner)}`);
    }
  }

  // 4. the application does what it did
  const actual = appOutput(migrated, c);
  if (actual !== expected) problems.push(`app: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);

  // 5. no duplicated layers
  const growth = imageSize(migrated) - imageSize(original);
  if (growth > MB) problems.push(`size: the rewritten image is ${(growth / MB).toFixed(1)} MB larger`);

  // 6. no UID, no image
  const missing = build(dir, noArg);
  if (missing.ok) problems.push('empty-arg: the build without PEAK_USER_ID succeeded');
  else if (!missing.output.includes('PEAK_USER_ID'))
    problems.push(`empty-arg: the failure does not name PEAK_USER_ID: ${missing.output.slice(-300)}`);

  return { problems, rewritten };
}
