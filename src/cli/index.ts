import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pc from 'picocolors';
import yargs from 'yargs';
import { ConfigError, loadConfig, type LoadedConfig } from '../gather/config.js';
import { dockerCli, type DockerEngine } from '../gather/docker-engine.js';
import { FactsFileError } from '../gather/facts-file.js';
import { factsFilePath } from '../gather/facts-file.js';
import { gatherFacts } from '../gather/run-facts.js';
import { PeakFixError, validateOptions, type EngineInputs, type FixOptions } from '../index.js';
import { HARD_MAX_BYTES, removePendingTemporaries } from '../runner/io.js';
import { formatFinding, isFormat, reporters, type Mode, type ReporterContext } from '../report/index.js';
import { visible, visibleLine } from '../report/visible.js';
import { runText } from '../runner/job.js';
import { run, summarize } from '../runner/runner.js';
import type { Severity } from '../types.js';
import { readFleetEnv } from '../fleet/context.js';
import { createProgress } from '../fleet/progress.js';
import { FleetSession } from '../fleet/session.js';

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

/**
 * The signals that stop a run the same way: Ctrl-C, CI cancellation and `timeout` (SIGTERM), a closed
 * terminal or session (SIGHUP). Each exits with 128 + the signal's number.
 */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

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

/** A usage error: printed as one line, exit 2. */
class UsageError extends Error {}

interface Flags {
  paths: string[];
  write: boolean;
  check: boolean;
  listDifferent: boolean;
  stdin: boolean;
  stdinFilepath?: string;
  format: string;
  user?: string;
  home?: string;
  uidArg?: string;
  preset?: string;
  allStages?: boolean;
  force?: boolean;
  workdir?: string;
  config?: string | false;
  color?: boolean;
  verbose: boolean;
  debug: boolean;
  failOn?: Severity;
  listRules: boolean;
  explain?: string;
  /** `--explain` with files: the diff with the reason for each added line. */
  explainLines?: boolean;
  inspectImages: boolean;
  /** `--arg NAME=VALUE`: values for FROM variables. */
  buildArgs: Record<string, string>;
  prBody?: string;
  reportFile?: string;
  guideUrl?: string;
  /** Worker threads; undefined: one per core. */
  jobs?: number;
}

/** Runs the CLI; resolves to the exit code. Never throws, never calls process.exit. */
export async function main(argv: readonly string[], partialIO: Partial<CliIO> = {}): Promise<number> {
  const io = defaultIO(partialIO);
  const out = (text: string): void => {
    if (text) io.stdout.write(text);
  };
  const err = (text: string): void => {
    if (text) io.stderr.write(text);
  };
  let debug = argv.includes('--debug');
  try {
    if (argv[0] === 'verify') return await runVerify(argv.slice(1), out, err);
    // Subcommands load their own code: a plain run never pays for it.
    if (argv[0] === 'inspect') {
      const { runInspectCommand } = await import('./inspect.js');
      return await runInspectCommand(argv.slice(1), { cwd: io.cwd, docker: io.docker, out, err });
    }
    if (argv[0] === 'report') {
      const { runReport } = await import('./report.js');
      return await runReport(argv.slice(1), { cwd: io.cwd, out, err });
    }
    const parsed = await parseFlags(argv);
    if (typeof parsed === 'string') {
      out(parsed.endsWith('\n') ? parsed : parsed + '\n');
      return EXIT.OK;
    }
    debug = parsed.debug;
    if (parsed.listRules) {
      const { RULES } = await import('../rewrite/rules.js');
      out(RULES.map((rule) => `${rule.id.padEnd(22)} ${rule.severity.padEnd(8)} ${rule.summary}\n`).join(''));
      return EXIT.OK;
    }
    if (parsed.explain !== undefined) {
      const { findRule } = await import('../rewrite/rules.js');
      // `--explain RULE` explains the rule; `--explain` alone, or with a file, explains the rewrite line by line.
      const value = parsed.explain;
      const isPath =
        value !== '' && (/[*?[/\\]/.test(value) || (await stat(path.resolve(io.cwd, value)).catch(() => undefined)) !== undefined);
      if (value !== '' && (findRule(value) || !isPath)) return await explain(value, out);
      const paths = parsed.explain === '' ? parsed.paths : [parsed.explain, ...parsed.paths];
      return await execute({ ...parsed, paths, explainLines: true, write: false, check: false, listDifferent: false }, io, out, err);
    }
    return await execute(parsed, io, out, err);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof PeakFixError || error instanceof FactsFileError) {
      // A config with several bad catalog entries says each on its own line.
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
}

async function execute(flags: Flags, io: CliIO, out: (text: string) => void, rawErr: (text: string) => void): Promise<number> {
  const fleetEnv = readFleetEnv(io.env);
  const progress = createProgress(io.stderr);
  const err = progress.wrap(rawErr);
  // A fleet runner's dry run (multi-gitter --dry-run: DRY_RUN=true; git-xargs --dry-run: XARGS_DRY_RUN=true)
  // turns --write into a dry run, so the same script serves both.
  const dryRunByRunner = flags.write && fleetEnv.dryRun;
  if (dryRunByRunner)
    err(`peak-fix: ${fleetEnv.dryRunVariable} (${fleetEnv.runner} dry run): --write becomes a dry run, nothing is written\n`);
  const mode: Mode = flags.write && !dryRunByRunner ? 'write' : flags.check ? 'check' : flags.listDifferent ? 'list-different' : 'dry-run';
  const { fix, config } = await resolveOptions(flags, io.cwd);
  const color = flags.color ?? (Boolean(io.stdout.isTTY) && !io.env.NO_COLOR);
  const context: ReporterContext = {
    mode,
    color,
    verbose: flags.verbose || flags.debug,
    debug: flags.debug,
    explain: flags.explainLines === true,
    stdout: out,
    stderr: err,
    version: packageVersion(),
  };
  if (!isFormat(flags.format))
    throw new UsageError(`invalid --format ${JSON.stringify(flags.format)}: use ${orList(Object.keys(reporters))}`);

  const factsOptions = {
    cwd: io.cwd,
    roots: await searchRoots(flags.paths, io.cwd),
    catalog: config.images ?? [],
    factsFile: factsFilePath(io.cwd, config.file),
    inspect: flags.inspectImages ? { docker: io.docker, user: fix.user, uidArg: fix.uidArg } : undefined,
  };
  if (flags.stdin) {
    // One text, no repository around it: the catalog and the facts file still apply.
    // (--inspect-images needs files: the text on stdin is not inspected for.)
    const { lookup, notices } = await gatherFacts([], { ...factsOptions, roots: [], inspect: undefined });
    for (const notice of notices) err(`peak-fix: ${notice}\n`);
    return runStdin(flags, fix, io, context, { facts: lookup });
  }

  const reporter = (await reporters[flags.format]())(context);
  const fleet = new FleetSession(
    { prBody: flags.prBody, reportFile: flags.reportFile, guideUrl: flags.guideUrl ?? (io.env.PEAK_FIX_GUIDE_URL || undefined) },
    {
      cwd: io.cwd,
      env: fleetEnv,
      fix,
      failOn: flags.failOn,
      mode,
      version: context.version ?? 'unknown',
      notice: (m) => err(`peak-fix: ${m}\n`),
    },
  );
  let failingFindings = 0;
  let nonCompliant = 0;
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    // A second signal does not wait: temporary files of writes in flight are removed and every file is
    // still either old or new (a write is a rename); the report is not printed then.
    if (received !== undefined && io.signals === process) {
      removePendingTemporaries();
      process.exit(STOP_SIGNALS[received]);
    }
    received ??= signal;
    controller.abort();
  };
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) io.signals?.on(signal, handler);
  try {
    const result = await run({
      cwd: io.cwd,
      paths: flags.paths,
      fix,
      inputs: { buildArgs: flags.buildArgs },
      write: mode === 'write',
      jobs: flags.jobs ?? (await import('../runner/pool.js')).defaultJobs(),
      // Only diffs (text dry run, json), SARIF's fixes and fingerprints and the fleet outputs need the texts; the
      // others never copy them from the workers.
      texts: mode === 'dry-run' || flags.format !== 'text' || flags.prBody !== undefined || flags.reportFile !== undefined,
      // The summary is all execute() needs; the reporter sees every file as it comes.
      keepFiles: false,
      signal: controller.signal,
      prepare: (targets) => gatherFacts(targets, factsOptions),
      onNotice: (message) => reporter.notice(message),
      onStart: (total) => progress.start(total),
      onResult: (file) => {
        progress.tick();
        if (flags.failOn) failingFindings += file.findings.filter((f) => atLeast(f.severity, flags.failOn as Severity)).length;
        // Not compliant as it is: an error finding (a fixed UID), or a file skipped because its base cannot be known.
        if (notCompliant(file)) nonCompliant++;
        fleet.onResult(file);
        reporter.file(file);
      },
    });
    progress.end();
    reporter.done({ summary: result.summary, interrupted: result.interrupted, notStarted: result.notStarted, signal: received });
    const code =
      received !== undefined
        ? STOP_SIGNALS[received]
        : result.summary.errors > 0
          ? EXIT.ERROR
          : ((mode === 'check' || mode === 'list-different') && result.summary.changed + nonCompliant > 0) || failingFindings > 0
            ? EXIT.CHANGES
            : EXIT.OK;
    await fleet.finish({ exitCode: code, summary: result.summary, interrupted: result.interrupted });
    return code;
  } finally {
    progress.end();
    for (const [signal, handler] of handlers) io.signals?.off(signal, handler);
  }
}

/** A file --check must not pass even though nothing would change in it. */
export function notCompliant(file: { status: string; findings: readonly { rule: string; severity: string }[] }): boolean {
  if (file.status === 'skipped' && file.findings.some((f) => f.rule === 'unresolved-base')) return true;
  return file.findings.some((f) => f.severity === 'error');
}

/**
 * One Dockerfile from stdin: the migrated text on stdout (the input unchanged when skipped or already
 * compliant), findings and errors on stderr; nothing on stdout when it cannot be processed. With
 * `--format json`, the JSON report instead of the text.
 */
async function runStdin(flags: Flags, fix: FixOptions, io: CliIO, context: ReporterContext, inputs: EngineInputs): Promise<number> {
  const name = flags.stdinFilepath ?? '<stdin>';
  const bytes = await readStdin(io.stdin);
  const result = runText(bytes, name, fix, undefined, { ...inputs, buildArgs: flags.buildArgs });
  if (context.debug && result.stack) context.stderr(`${visible(result.stack)}\n`);
  if (flags.format !== 'text') {
    const reporter = (await reporters[flags.format as keyof typeof reporters]())(context);
    reporter.file(result);
    reporter.done({ summary: summarize([result]), interrupted: false, notStarted: 0 });
  } else if (result.status === 'error') {
    context.stderr(`peak-fix: ${visibleLine(name)}: ${visibleLine(result.error ?? '')}\n`);
  } else {
    context.stdout(result.output ?? result.original ?? '');
    if (result.status === 'skipped') context.stderr(`peak-fix: ${visibleLine(name)}: skipped: ${visibleLine(result.skipped ?? '')}\n`);
    const colors = pc.createColors(context.color);
    context.stderr(result.findings.map((finding) => formatFinding(name, finding, colors)).join(''));
  }
  return result.status === 'error' ? EXIT.ERROR : EXIT.OK;
}

async function readStdin(stdin: AsyncIterable<string | Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    chunks.push(buffer);
    total += buffer.length;
    if (total > HARD_MAX_BYTES) break; // decodeDockerfile reports the size
  }
  return Buffer.concat(chunks, total);
}

/** Config (file or package.json key), then flags over it; both validated. */
async function resolveOptions(flags: Flags, cwd: string): Promise<{ fix: FixOptions; config: LoadedConfig }> {
  const config: LoadedConfig = flags.config === false ? { options: {} } : await loadConfig(cwd, flags.config);
  if (config.file !== undefined) {
    try {
      validateOptions(config.options);
    } catch (error) {
      if (error instanceof PeakFixError) throw new ConfigError(`${config.file}: ${error.message}`);
      throw error;
    }
  }
  const fromFlags: Partial<FixOptions> = {
    user: flags.user,
    home: flags.home,
    uidArg: flags.uidArg,
    preset: flags.preset as FixOptions['preset'] | undefined,
    allStages: flags.allStages,
    workdir: flags.workdir as FixOptions['workdir'] | undefined,
    force: flags.force,
  };
  const merged: Partial<FixOptions> = { ...config.options };
  for (const [key, value] of Object.entries(fromFlags)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return { fix: validateOptions(merged), config };
}

/** Where compose and bake files are looked for: the directories given (a file's own directory), else the cwd. */
async function searchRoots(paths: readonly string[], cwd: string): Promise<string[]> {
  if (paths.length === 0) return [cwd];
  const roots = new Set<string>();
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const stats = await stat(abs).catch(() => undefined);
    roots.add(stats?.isDirectory() ? abs : stats ? path.dirname(abs) : cwd);
  }
  return [...roots];
}

/** Parses argv; a string result is text to print (--help, --version). */
async function parseFlags(argv: readonly string[]): Promise<Flags | string> {
  let output = '';
  const parser = buildParser();
  const args = (await parser.parseAsync([...argv], {}, (_error: Error | undefined, _argv: unknown, text: string) => {
    output = text;
  })) as Record<string, unknown>;
  if (args.help || args.version) return output;

  const strings = (name: string): string | undefined => {
    const value = args[name];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw new UsageError(`--${name} given more than once`);
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs a value`);
    return value;
  };
  const rest = [...((args.paths as unknown[] | undefined) ?? []), ...((args._ as unknown[] | undefined) ?? [])].map(String);
  const stdinFilepath = strings('stdin-filepath');
  const config = args.config === false ? false : strings('config');
  const flags: Flags = {
    paths: rest,
    write: args.write === true,
    check: args.check === true,
    listDifferent: args['list-different'] === true,
    stdin: args.stdin === true || stdinFilepath !== undefined,
    stdinFilepath,
    format: strings('format') ?? 'text',
    user: strings('user'),
    home: strings('home'),
    uidArg: strings('uid-arg'),
    preset: strings('preset'),
    allStages: args['all-stages'] as boolean | undefined,
    force: args.force as boolean | undefined,
    workdir: strings('workdir'),
    config,
    color: args.color as boolean | undefined,
    verbose: args.verbose === true,
    debug: args.debug === true,
    failOn: severityFlag(strings('fail-on')),
    listRules: args['list-rules'] === true,
    explain: args.explain === undefined ? undefined : Array.isArray(args.explain) ? strings('explain') : String(args.explain),
    inspectImages: args['inspect-images'] === true,
    buildArgs: buildArgsFlag(args.arg),
    prBody: strings('pr-body'),
    reportFile: strings('report-file'),
    guideUrl: strings('guide-url'),
    jobs: jobsFlag(strings('jobs')),
  };
  const modes = [flags.write && '--write', flags.check && '--check', flags.listDifferent && '--list-different'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be used together`);
  if (flags.stdin && modes.length > 0) throw new UsageError(`--stdin cannot be used with ${modes[0]}`);
  if (flags.stdin && flags.paths.length > 0) throw new UsageError('--stdin reads one Dockerfile from stdin: give no paths');
  if (flags.stdin && (flags.prBody || flags.reportFile))
    throw new UsageError('--pr-body and --report-file describe a repository: not with --stdin');
  return flags;
}

function buildParser() {
  return yargs()
    .scriptName('peak-fix')
    .locale('en')
    .command(
      '$0 [paths..]',
      "Rewrite Dockerfiles so the image runs as the Peak platform's non-root user.\n" +
        'By default nothing is written: a diff is printed for each file that would change.',
      (y) =>
        y.positional('paths', {
          describe:
            'Files, directories (searched for Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile; .gitignore honoured) and globs. Default: the current directory',
          type: 'string',
          array: true,
        }),
    )
    .parserConfiguration({ 'parse-positional-numbers': false, 'parse-numbers': false, 'camel-case-expansion': false })
    .options({
      write: { alias: 'w', type: 'boolean', group: 'Mode:', describe: 'Rewrite files in place and list them (exit 0)' },
      check: { alias: 'c', type: 'boolean', group: 'Mode:', describe: 'List files that would change; exit 1 if any' },
      'list-different': { alias: 'l', type: 'boolean', group: 'Mode:', describe: 'Print only the paths that would change; exit 1 if any' },
      stdin: { type: 'boolean', group: 'Mode:', describe: 'Read one Dockerfile from stdin, print the result to stdout' },
      'stdin-filepath': { type: 'string', requiresArg: true, group: 'Mode:', describe: 'Name shown for stdin (implies --stdin)' },
      user: { type: 'string', requiresArg: true, group: 'Migration:', describe: 'User to create [default: peak-user]' },
      home: { type: 'string', requiresArg: true, group: 'Migration:', describe: 'Its home directory [default: /home/peak-user]' },
      'uid-arg': {
        type: 'string',
        requiresArg: true,
        group: 'Migration:',
        describe: 'Build argument carrying the UID [default: PEAK_USER_ID]',
      },
      preset: {
        type: 'string',
        requiresArg: true,
        group: 'Migration:',
        describe: "safe (keep behaviour) or peak-doc (the guide's lines verbatim) [default: safe]",
      },
      arg: {
        type: 'string',
        requiresArg: true,
        group: 'Migration:',
        describe: 'NAME=VALUE: a value for a variable used in FROM (repeatable), like docker build --build-arg',
      },
      'all-stages': { type: 'boolean', group: 'Migration:', describe: 'Migrate every stage, not only the final one' },
      force: {
        type: 'boolean',
        group: 'Migration:',
        describe: 'Rewrite stages even where a finding says they cannot run as a non-root user (left unchanged and reported by default)',
      },
      'inspect-images': {
        type: 'boolean',
        group: 'Migration:',
        describe:
          'Inspect, with the local Docker engine, every base image no catalog or facts file knows, and add it to peak-fix-images.json',
      },
      workdir: {
        type: 'string',
        requiresArg: true,
        group: 'Migration:',
        describe: 'Insert WORKDIR <home>: auto (when nothing relies on the inherited one), always, never [default: auto]',
      },
      config: {
        type: 'string',
        group: 'Config:',
        describe: 'Config file to use (default: .peak-fix.json or package.json "peak-fix", searched upwards); --no-config: none',
      },
      format: {
        type: 'string',
        requiresArg: true,
        group: 'Output:',
        describe: 'text, json or sarif (SARIF 2.1.0 for code scanning) [default: text]',
      },
      'fail-on': {
        type: 'string',
        requiresArg: true,
        group: 'Output:',
        describe: 'Exit 1 when a finding has this severity or a higher one: warning or error',
      },
      'pr-body': {
        type: 'string',
        requiresArg: true,
        group: 'Fleet:',
        describe: "Write this repository's pull-request description (Markdown) to FILE ({repository} in FILE: owner/name)",
      },
      'report-file': {
        type: 'string',
        requiresArg: true,
        group: 'Fleet:',
        describe:
          'Append one JSON line for this run to FILE, for peak-fix report (repository: runner variables, PEAK_FIX_REPOSITORY, git remote)',
      },
      'guide-url': {
        type: 'string',
        requiresArg: true,
        group: 'Fleet:',
        describe: "Link to Peak's guide in the pull-request text [default: $PEAK_FIX_GUIDE_URL]",
      },
      'list-rules': { type: 'boolean', group: 'Rules:', describe: 'List the rules that report findings, with their severity' },
      explain: {
        type: 'string',
        group: 'Rules:',
        describe:
          'With a rule: what it means, with a before/after example. With files (or none): the diff, each added line with why it is there',
      },
      color: {
        type: 'boolean',
        group: 'Output:',
        describe: 'Colour the output (default: when stdout is a terminal and NO_COLOR is unset); --no-color: never',
      },
      verbose: { type: 'boolean', group: 'Output:', describe: 'Also list unchanged files and informational findings' },
      debug: { type: 'boolean', group: 'Output:', describe: 'Like --verbose, and print stack traces' },
      jobs: {
        alias: 'j',
        type: 'string',
        requiresArg: true,
        group: 'Performance:',
        describe: 'Worker threads for big batches (output order is unchanged) [default: the number of cores]',
      },
    })
    .example('$0', 'Show the diff for every Dockerfile under the current directory')
    .example('$0 --write .', 'Rewrite them in place')
    .example('$0 --check services/', 'CI: exit 1 if a Dockerfile would change')
    .example("$0 --list-different '**/*.Dockerfile'", 'Print the paths that would change (-l)')
    .example('$0 --stdin --stdin-filepath Dockerfile < Dockerfile', 'Editor integration: stdin to stdout')
    .example('$0 --format json > peak-fix.json', 'Machine-readable report')
    .example('$0 --format sarif > peak-fix.sarif', 'Findings for code scanning (SARIF 2.1.0)')
    .example('$0 --check --fail-on warning .', 'CI: also fail on warnings (e.g. a port below 1024)')
    .example('$0 --write --pr-body /tmp/pr.md --report-file /tmp/results.jsonl', 'Fleet runner script: migrate, describe, record')
    .example('$0 report results.jsonl --html report.html --failed again.txt', 'The fleet report (see peak-fix report --help)')
    .example('$0 --list-rules', 'The rules and their severities')
    .example('$0 --explain privilege-drop', 'What a rule means, with a before/after example')
    .example('$0 --explain Dockerfile', 'The diff, each line peak-fix adds with the reason it is there')
    .example('$0 verify my-image:1.0 --uid 1001', 'Check a built image runs as UID 1001 with a writable home')
    .example('$0 inspect registry.corp/platform/python:3.11', 'Read an internal base image into peak-fix-images.json')
    .example('$0 --inspect-images --write .', 'Inspect unknown base images on the fly, then rewrite')
    .example('$0 --user app --home /home/app --uid-arg APP_UID Dockerfile', 'Another user name, home and UID argument')
    .example('$0 --preset peak-doc --all-stages --workdir never Dockerfile', "The guide's lines, in every stage, no WORKDIR")
    .example('$0 --config ci/peak-fix.json --no-color', 'Options from a given file, no colours')
    .example('$0 --color | less -R', 'Colours even through a pipe')
    .example('$0 --no-config --verbose --debug Dockerfile', 'Ignore config files; say everything, with stack traces')
    .epilog(
      'Config: {"user", "home", "uidArg", "preset", "allStages", "workdir", "force", "images"} in .peak-fix.json or package.json "peak-fix"; flags win.\n' +
        'Base images: images built here (compose, bake) > peak-fix-images.json (peak-fix inspect) > config "images" > built-in table.\n' +
        'Silence one finding with a `# peak-fix-ignore RULE` comment above the instruction; `# peak-fix-disable` in the first lines leaves a file alone.\n' +
        'Verify a built image: peak-fix verify IMAGE --uid N [--home DIR] [--dir DIR...] [--serve PORT] (see peak-fix verify --help).\n' +
        'Fleet runners: DRY_RUN=true with REPOSITORY (multi-gitter) or XARGS_DRY_RUN=true (git-xargs) turn --write into a dry run.\n' +
        'Exit codes: 0 ok (also after --write), 1 --check/--list-different found changes or --fail-on matched, 2 usage error, a file could not be processed or a path matched no file, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.',
    )
    .help('help')
    .alias('help', 'h')
    .version(packageVersion())
    .strict()
    .wrap(100)
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      if (error) throw error instanceof UsageError ? error : new UsageError(oneLine(error.message));
      throw new UsageError(`${oneLine(message ?? 'invalid arguments')} (see peak-fix --help)`);
    });
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.charAt(0).toLowerCase() + line.slice(1);
}

/** The version in the package.json next to the sources (src/ or dist/src/). */
function packageVersion(): string {
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

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

/** `--arg NAME=VALUE`, repeatable: the variables a FROM may use. */
function buildArgsFlag(value: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const item of list) {
    const text = String(item);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
    if (!match) throw new UsageError(`invalid --arg ${JSON.stringify(text)}: use NAME=VALUE`);
    values[match[1]] = match[2];
  }
  return values;
}
function severityFlag(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if (value !== 'warning' && value !== 'error') throw new UsageError(`invalid --fail-on ${JSON.stringify(value)}: use warning or error`);
  return value;
}

function jobsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`invalid --jobs ${JSON.stringify(value)}: use a whole number from 1 to 9999`);
  return Number(value);
}

async function explain(id: string, out: (text: string) => void): Promise<number> {
  const { findRule } = await import('../rewrite/rules.js');
  const rule = findRule(id);
  if (!rule) throw new UsageError(`unknown rule ${JSON.stringify(id)} (see peak-fix --list-rules), and no such file to explain`);
  const indent = (text: string) => text.replace(/^/gm, '    ');
  out(
    `${rule.id} (${rule.severity})\n\n${rule.summary}\n\n${rule.description}\n\nBefore:\n${indent(rule.before)}\n\nAfter:\n${indent(rule.after)}\n`,
  );
  return EXIT.OK;
}

/** `peak-fix verify IMAGE --uid N`: checks a built image the way Peak runs it. Exit 0 when every check passes, 1 when one fails. */
async function runVerify(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  let text = '';
  const args = (await yargs()
    .scriptName('peak-fix verify')
    .locale('en')
    .usage(
      '$0 IMAGE --uid N\n\nChecks a built image: Config.User is the UID, `id -u` in a throw-away container (networking off, never pulls) prints it, ' +
        "HOME is the user's home and writable, and so is every --dir. It catches a base image whose ENV PEAK_USER_ID overrides the build argument. " +
        'With --serve PORT it also starts the image as the UID, waits for the port inside the container, fetches /, checks that PID 1 runs as the UID and reports start-up errors from the logs; the container is always removed.',
    )
    .command('$0 <image>', false, (y) => y.positional('image', { type: 'string', describe: 'The image to check' }))
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false, 'camel-case-expansion': false })
    .options({
      uid: { type: 'string', demandOption: true, requiresArg: true, describe: 'The UID the image was built with (PEAK_USER_ID)' },
      home: { type: 'string', requiresArg: true, default: '/home/peak-user', describe: 'The HOME the process must have' },
      dir: {
        type: 'string',
        array: true,
        requiresArg: true,
        describe: 'Another directory the process must be able to write to (repeatable)',
      },
      serve: {
        type: 'string',
        requiresArg: true,
        describe: 'Start the image as the UID (no network), wait for this port inside it, fetch /, check PID 1 runs as the UID',
      },
      timeout: { type: 'string', requiresArg: true, describe: 'Seconds to wait for the --serve port [default: 30]' },
    })
    .example('$0 registry.example.com/team/app:1.4 --uid 1001', 'Check an image built with --build-arg PEAK_USER_ID=1001')
    .example('$0 app:dev --uid 1001 --dir /app --dir /data', 'Also check that /app and /data are writable')
    .example('$0 web:dev --uid 1001 --serve 8080', 'Also start it as 1001 and check that it serves / on port 8080')
    .epilog('Exit codes: 0 every check passed, 1 a check failed, 2 usage error.')
    .help('help')
    .alias('help', 'h')
    .version(false)
    .strict()
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new UsageError(`verify: ${oneLine(error?.message ?? message ?? 'invalid arguments')} (see peak-fix verify --help)`);
    })
    .parseAsync([...argv], {}, (_error: Error | undefined, _argv: unknown, output: string) => {
      text = output;
    })) as Record<string, unknown>;
  if (args.help) {
    out(text.endsWith('\n') ? text : text + '\n');
    return EXIT.OK;
  }
  const number = (name: string, min: number, max: number): number | undefined => {
    if (args[name] === undefined) return undefined;
    const value = String(args[name]);
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
      throw new UsageError(`verify: --${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return Number(value);
  };
  const { verifyImage } = await import('../runner/verify.js');
  const result = verifyImage({
    image: String(args.image),
    uid: String(args.uid),
    home: String(args.home),
    dirs: ((args.dir as unknown[] | undefined) ?? []).map(String),
    serve: number('serve', 1, 65535),
    timeout: number('timeout', 1, 3600),
  });
  for (const check of result.checks) (check.ok ? out : err)(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
  if (result.checks.some((c) => c.name === 'arguments')) return EXIT.ERROR;
  return result.ok ? EXIT.OK : EXIT.CHANGES;
}

/** `a, b or c` */
function orList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
