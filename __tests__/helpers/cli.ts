import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';
import type { DockerEngine } from '../../src/gather/docker-engine.js';

/** A fresh directory (real path, so comparisons with realpath hold); removed by `cleanup`. */
export function tempDir(prefix = 'peak-fix-'): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` (relative path -> content) under `root`, creating directories. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with fake streams. */
export async function runCli(
  argv: string[],
  options: { cwd: string; stdin?: string | Buffer; env?: Record<string, string>; docker?: DockerEngine },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd: options.cwd,
    env: options.env ?? {},
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: false },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: false },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    signals: null,
    ...(options.docker ? { docker: options.docker } : {}),
  });
  return { code, stdout, stderr };
}

/** Small Dockerfiles that the engine changes (no expectation about how: tests ask fixDockerfile). */
export const DEBIAN = 'FROM debian:bookworm-slim\nCOPY a /a\nCMD ["/a"]\n';
export const ALPINE = 'FROM alpine:3.20\nRUN echo hi\n';
/** Not a Dockerfile the engine can migrate (no FROM). */
export const NO_FROM = 'RUN echo no from\n';

/** The repository, the built CLI's launcher and the package version, for tests that run the CLI. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin/peak-fix.js');
export const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** The closing summary line of a text run. */
export const SUMMARY = /^\d+ (would change|changed), \d+ unchanged, \d+ skipped, \d+ errors?\b/m;
