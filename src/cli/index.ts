import yargs from 'yargs';
import { ConfigError } from '../gather/config.js';
import { dockerCli } from '../gather/docker-engine.js';
import { FactsFileError } from '../gather/facts-file.js';
import { PeakFixError } from '../index.js';
import { visible, visibleLine } from '../report/visible.js';
import { EXIT, packageVersion, PlainUsageError, UsageError, type CliIO, type CommandDefinition, type CommandIO } from './command.js';
import { fixCommand } from './fix.js';

export { EXIT, type CliIO } from './command.js';
export { notCompliant, STOP_SIGNALS } from './fix.js';

/** A command of any argument type: the scaffold only passes what `read` returns on to `handler`. */
type Command = CommandDefinition<unknown>;

/**
 * The subcommands, by the word that runs them. Each loads its own code when it is used (the bundle splits it off
 * at the dynamic import): a plain run never pays for it.
 */
const SUBCOMMANDS = new Map<string, () => Promise<Command>>([
  ['verify', async () => (await import('./verify.js')).verifyCommand],
  ['inspect', async () => (await import('./inspect.js')).inspectCommand],
  ['report', async () => (await import('./report.js')).reportCommand],
]);

/** Runs the CLI; resolves to the exit code. Never throws, never calls process.exit. */
export async function main(argv: readonly string[], partialIO: Partial<CliIO> = {}): Promise<number> {
  const io = commandIO(defaultIO(partialIO));
  const state = { debug: argv.includes('--debug') };
  try {
    const subcommand = SUBCOMMANDS.get(argv[0]);
    if (subcommand) return await runCommand(await subcommand(), argv.slice(1), io, state);
    return await runCommand(fixCommand, argv, io, state);
  } catch (error) {
    return reportError(error, io.err, state.debug);
  }
}

/** Parses the command's arguments, then runs it: --help and --version print and exit 0. */
async function runCommand(command: Command, argv: readonly string[], io: CommandIO, state: { debug: boolean }): Promise<number> {
  const parsed = await parse(command, argv);
  if (typeof parsed === 'string') {
    io.out(parsed.endsWith('\n') ? parsed : parsed + '\n');
    return EXIT.OK;
  }
  const value = command.read(parsed);
  if (command.debug) state.debug = command.debug(value);
  return await command.handler(value, io);
}

/** Parses argv; a string result is text to print (--help, --version). */
async function parse(command: Command, argv: readonly string[]): Promise<Record<string, unknown> | string> {
  let output = '';
  const args = (await scaffold(command).parseAsync([...argv], {}, (_error: Error | undefined, _argv: unknown, text: string) => {
    output = text;
  })) as Record<string, unknown>;
  return args.help || args.version ? output : args;
}

/** Every command's parser: the settings all share around the command's own usage, positionals, options and help. */
function scaffold(command: Command) {
  let parser = yargs()
    .scriptName(command.name ? `peak-fix ${command.name}` : 'peak-fix')
    .locale('en');
  if (command.usage) parser = parser.usage(command.usage);
  // yargs' own handler does nothing: runCommand runs the command's once its arguments are read.
  parser = parser
    .command({ command: command.command, describe: command.describe, builder: command.builder, handler: () => undefined })
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false, 'camel-case-expansion': false })
    .options(command.options);
  for (const [example, description] of command.examples) parser = parser.example(example, description);
  parser = parser.epilog(command.epilog).help('help').alias('help', 'h');
  parser = (command.version ? parser.version(packageVersion()) : parser.version(false)).strict();
  if (command.wrap) parser = parser.wrap(command.wrap);
  return parser.exitProcess(false).fail((message: string | undefined, error: Error | undefined) => {
    throw command.fail(message, error);
  });
}

/** An error as one line per line of its message (a config with several bad catalog entries says each), exit 2. */
function reportError(error: unknown, err: (text: string) => void, debug: boolean): number {
  if (error instanceof PlainUsageError) {
    err(`peak-fix: ${error.message}\n`);
    return EXIT.ERROR;
  }
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof PeakFixError || error instanceof FactsFileError) {
    err(
      error.message
        .split('\n')
        .map((line) => `peak-fix: ${visibleLine(line)}\n`)
        .join(''),
    );
    if (debug && error.stack) err(`${visible(error.stack)}\n`);
    return EXIT.ERROR;
  }
  const failure = error instanceof Error ? error : new Error(String(error));
  err(`peak-fix: internal error: ${visibleLine(failure.message.split('\n')[0])}\n`);
  if (debug && failure.stack) err(`${visible(failure.stack)}\n`);
  return EXIT.ERROR;
}

function defaultIO(partial: Partial<CliIO>): CliIO {
  const usesProcess = partial.stdout === undefined;
  if (usesProcess) {
    // `peak-fix | head`: a closed pipe ends the output, not the process with a stack trace.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  return {
    stdout: partial.stdout ?? process.stdout,
    stderr: partial.stderr ?? process.stderr,
    stdin: partial.stdin ?? process.stdin,
    cwd: partial.cwd ?? process.cwd(),
    env: partial.env ?? process.env,
    signals: partial.signals === undefined ? process : partial.signals,
    docker: partial.docker ?? dockerCli({ env: partial.env ?? process.env }),
  };
}

/** The IO with writers that drop empty texts. */
function commandIO(io: CliIO): CommandIO {
  return {
    ...io,
    out: (text) => {
      if (text) io.stdout.write(text);
    },
    err: (text) => {
      if (text) io.stderr.write(text);
    },
  };
}
