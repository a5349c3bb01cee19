import { spawn } from 'node:child_process';

/**
 * The only door to a Docker engine for `peak-fix inspect` and `--inspect-images`: one call runs one `docker`
 * command. Tests hand `inspectImage` a fake with the same shape, so the inspection logic is tested without an
 * engine; the real one spawns the docker CLI with an argument array (never a shell line).
 */
export interface DockerResult {
  /** Exit code; -1 when the command could not run at all. */
  code: number;
  stdout: Buffer;
  stderr: string;
  /** The docker executable could not be started (not installed, not on PATH). */
  missing?: boolean;
}

export type DockerEngine = (args: readonly string[]) => Promise<DockerResult>;

export interface DockerCliOptions {
  /** The docker executable (default `docker`). */
  bin?: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds per command (default 2 minutes). */
  timeout?: number;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

export function dockerCli(options: DockerCliOptions = {}): DockerEngine {
  const bin = options.bin ?? 'docker';
  return (args) =>
    new Promise((resolve) => {
      const child = spawn(bin, [...args], {
        env: options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: options.timeout ?? 120_000,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT) out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        resolve({ code: -1, stdout: Buffer.alloc(0), stderr: error.message, missing: error.code === 'ENOENT' });
      });
      child.on('close', (code, signal) => {
        const stderr = Buffer.concat(err).toString('utf8') + (signal ? `\nkilled by ${signal}` : '');
        resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr });
      });
    });
}
