import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, Options } from 'yargs';
import type { DockerEngine } from '../gather/docker-engine.js';

/** Exit codes. */
export const EXIT = {
  /** Nothing to report (or --write applied the changes). */
  OK: 0,
  /** --check / --list-different found files that would change. */
  CHANGES: 1,
  /** Usage error (bad flag, invalid option or config), or a file could not be processed. */
  ERROR: 2,
  /** Interrupted by SIGINT (SIGTERM: 143, SIGHUP: 129, as shells report a signal: 128 + its number). */
  INTERRUPTED: 130,
} as const;

interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIO {
  stdout: Output;
  stderr: Output;
  stdin: AsyncIterable<string | Uint8Array>;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Source of SIGINT, SIGTERM and SIGHUP (the process by default); null to listen to none. */
  signals: Pick<NodeJS.Process, 'on' | 'off'> | null;
  /** The Docker engine for `inspect` and `--inspect-images` (the docker CLI with `env` by default). */
  docker: DockerEngine;
}

/** What a command's handler is given: the CLI's surroundings, and writers that drop empty texts. */
export interface CommandIO extends CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A usage error: printed as one line, exit 2. */
export class UsageError extends Error {}

/** A usage error printed as it is, never escaped and never with a stack trace (`peak-fix report`'s). */
export class PlainUsageError extends Error {}

/**
 * A command of the CLI, registered on the scaffold in index.ts, which parses its arguments with the settings every
 * command shares (strict, --help, wrap, exit codes) and the parts below, in this order.
 */
export interface CommandDefinition<Value> {
  /** The word after `peak-fix` that runs it; none for the default command. */
  name?: string;
  /** The usage line and description --help starts with; the default command describes itself in `describe`. */
  usage?: string;
  /** The yargs command (`$0 <image>`), its description in --help (false: none) and its positionals. */
  command: string;
  describe: string | false;
  builder: (y: Argv) => Argv;
  options: Record<string, Options>;
  examples: readonly (readonly [command: string, description: string])[];
  epilog: string;
  /** Whether --version prints the package version. */
  version?: boolean;
  /** The width --help wraps at (yargs' own when unset). */
  wrap?: number;
  /** The error a parse failure (yargs' message, or the error it caught) is thrown as. */
  fail(message: string | undefined, error: Error | undefined): Error;
  /** The parsed arguments as the handler takes them; throws UsageError on a value the parser let through. */
  read(args: Record<string, unknown>): Value;
  /** Whether errors are printed with their stack traces (default: when --debug is in the arguments). */
  debug?(value: Value): boolean;
  handler(value: Value, io: CommandIO): Promise<number>;
}

/** yargs' messages as one line, starting lower-case: `peak-fix: unknown argument: …`. */
export function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.charAt(0).toLowerCase() + line.slice(1);
}

/** What yargs failed with: the error it caught, else its message. */
export function failure(message: string | undefined, error: Error | undefined): string {
  return error?.message ?? message ?? 'invalid arguments';
}

/** A subcommand's usage error: `NAME: what went wrong (see peak-fix NAME --help)`. */
export function seeHelp(name: string, text: string): string {
  return `${name}: ${text} (see peak-fix ${name} --help)`;
}

/** The version in the package.json next to the sources (src/ or dist/src/). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'peak-fix' && pkg.version) return pkg.version;
    } catch {
      // keep looking
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
