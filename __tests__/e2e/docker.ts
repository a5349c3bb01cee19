/**
 * Helpers for the end-to-end tests: a thin, typed layer over the `docker` CLI.
 *
 * Every call goes through spawnSync with an argument array (never a shell
 * string), builds use the legacy builder with networking off, and runs never
 * pull: no traffic leaves the machine. The stand-in base images in BASES are
 * made by scripts/e2e/images.sh (run by `npm run test:e2e`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

/** Stand-in name (the value of its `io.peak-fix.stand-in` label) -> tag. */
export const BASES = {
  /** debootstrap --variant=minbase bookworm */
  debian: 'debian:bookworm-slim',
  /** debootstrap --variant=minbase bullseye (shadow 4.8.1) */
  bullseye: 'debian:bullseye-slim',
  /** debian + user/group `node` 1000:1000 with /home/node */
  node: 'node:20-bookworm-slim',
  /** debian + python3 (3.11); also tagged PYTHON_ALIAS */
  python: 'python:3.11-slim-bookworm',
  /** FROM scratch + static busybox (adduser/addgroup, ids <= 256000) + Alpine's passwd/group */
  alpine: 'alpine:3.19',
  /** python, root: bitnami/python's own Dockerfile has no USER */
  bitnami: 'bitnami/python:3.11',
  /** FROM scratch + SCRATCH_BINARY only: no /bin/sh, no /etc/passwd */
  distroless: 'gcr.io/distroless/static-debian12',
  // Issue 9 (facts about base images): each carries the true facts of the image it is named after.
  /** debian + install_packages; root */
  minideb: 'bitnami/minideb:bookworm',
  /** debian + memcache 11211, USER memcache; CMD memcached prints who runs it */
  memcached: 'memcached:1.6',
  /** debian WITHOUT any user tool, find or microdnf (stands in for ubi-minimal: no shadow-utils, no findutils) */
  ubi_minimal: 'registry.access.redhat.com/ubi9/ubi-minimal:9.4',
  /** FROM scratch + SCRATCH_BINARY + passwd root/app 1654, USER 1654: no /bin/sh */
  chiseled: 'mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled',
  /** alpine + node 1000 (busybox adduser, which refuses a taken UID) */
  node_alpine: 'node:20-alpine',
  /** debian + a pwsh script that cats the script it is given; root */
  powershell: 'mcr.microsoft.com/powershell:lts-ubuntu-22.04',
  /** debian + Debian's nginx in nginx.org's layout: user nginx 101, /var/cache/nginx and /var/run root's, logs to stdout */
  nginx: 'nginx:1.27',
  /** debian + Debian's redis in the official layout: user redis 999, /data (VOLUME, WORKDIR), gosu entrypoint */
  redis: 'redis:7.2-bookworm',
  /** debian + jovyan 1000 in group users (100); /opt/conda and /home/jovyan group users, g+rwX; USER 1000 */
  jupyter: 'quay.io/jupyter/base-notebook:latest',
} as const;

export type BaseName = keyof typeof BASES;

/** The python stand-in is tagged a second time under this name. */
export const PYTHON_ALIAS = 'python:3.11-slim';

/** Label every stand-in image carries (value: its BaseName). */
export const STAND_IN_LABEL = 'io.peak-fix.stand-in';

/**
 * The one binary of the distroless stand-in (scripts/e2e/hello.c), also its CMD:
 * `/hello` prints `uid=U gid=G` then its arguments one a line;
 * `/hello --stat PATH...` prints `PATH uid=U gid=G mode=0NNN`;
 * `/hello --touch PATH...` creates the files (exit 1 on failure).
 */
export const SCRATCH_BINARY = '/hello';

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  entrypoint?: string;
  user?: string;
  env?: Record<string, string>;
  /** extra `docker run` flags, placed before the image */
  flags?: string[];
  /** milliseconds; default 5 minutes */
  timeout?: number;
}

const MAX_BUFFER = 256 * 1024 * 1024;

/** Runs `docker ARGS...` (legacy builder); never throws for a non-zero exit. */
export function docker(args: string[], timeout = 10 * 60 * 1000): DockerResult {
  const r = spawnSync('docker', args, {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    maxBuffer: MAX_BUFFER,
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errText = r.error ? `\n${r.error.message}` : '';
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + errText };
}

let available: boolean | undefined;

/** True when a Docker engine answers `docker info` (cached). */
export function dockerAvailable(): boolean {
  if (available === undefined) available = docker(['info'], 30_000).code === 0;
  return available;
}

/**
 * `docker build --network=none --force-rm` (legacy builder) of contextDir,
 * with contextDir/dockerfile as the Dockerfile. output = stdout + stderr.
 */
export function build(
  contextDir: string,
  tag: string,
  buildArgs: Record<string, string> = {},
  dockerfile = 'Dockerfile',
  extraFlags: string[] = [],
): { ok: boolean; output: string } {
  const args = ['build', '--network=none', '--force-rm', '-t', tag, '-f', resolve(contextDir, dockerfile)];
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  args.push(...extraFlags, contextDir);
  const r = docker(args);
  return { ok: r.code === 0, output: r.stdout + r.stderr };
}

/** The image's configured user (`docker inspect -f '{{.Config.User}}'`), '' when unset. */
export function configUser(tag: string): string {
  const r = docker(['image', 'inspect', '-f', '{{.Config.User}}', tag]);
  if (r.code !== 0) throw new Error(`docker image inspect ${tag} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** `docker run --rm --network=none --pull=never [opts] tag args...` */
export function run(tag: string, args: string[] = [], opts: RunOptions = {}): DockerResult {
  const flags = ['run', '--rm', '--network=none', '--pull=never'];
  if (opts.entrypoint !== undefined) flags.push('--entrypoint', opts.entrypoint);
  if (opts.user !== undefined) flags.push('--user', opts.user);
  for (const [k, v] of Object.entries(opts.env ?? {})) flags.push('-e', `${k}=${v}`);
  flags.push(...(opts.flags ?? []));
  return docker([...flags, tag, ...args], opts.timeout ?? 5 * 60 * 1000);
}

/** Image size in bytes (`docker image inspect -f '{{.Size}}'`). */
export function imageSize(tag: string): number {
  const r = docker(['image', 'inspect', '-f', '{{.Size}}', tag]);
  if (r.code !== 0) throw new Error(`docker image inspect ${tag} failed: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/** True when the image exists locally. */
export function imageExists(tag: string): boolean {
  return docker(['image', 'inspect', tag], 60_000).code === 0;
}

/** Value of one label of an image, '' when absent. */
export function imageLabel(tag: string, label: string): string {
  const r = docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', tag]);
  if (r.code !== 0) return '';
  const labels = JSON.parse(r.stdout.trim() || 'null') as Record<string, string> | null;
  return labels?.[label] ?? '';
}

const protectedTags = new Set<string>([...Object.values(BASES), PYTHON_ALIAS]);

/** Removes a test image (ignores a missing one). Refuses to remove a base image. */
export function removeImage(tag: string): void {
  if (protectedTags.has(tag)) throw new Error(`refusing to remove base image ${tag}`);
  docker(['image', 'rm', '-f', tag], 120_000);
}

/**
 * Writes a build context under os.tmpdir() ({ 'Dockerfile': '...', 'app/x.py': '...' })
 * and returns its directory. Remove it with removeContext().
 */
export function tempContext(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'peak-fix-e2e-'));
  for (const [name, content] of Object.entries(files)) {
    const path = resolve(dir, name);
    if (!path.startsWith(dir + sep)) throw new Error(`context file outside the context: ${name}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** Deletes a directory made by tempContext(). */
export function removeContext(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A unique, valid tag for a test image: `peak-fix-e2e/<name>:<random>`. */
export function testTag(name: string): string {
  const clean =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'img';
  return `peak-fix-e2e/${clean.slice(0, 60)}:${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
