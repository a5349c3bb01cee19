import { stat } from 'node:fs/promises';
import path from 'node:path';
import pc from 'picocolors';
import { ConfigError, loadConfig, type LoadedConfig } from '../gather/config.js';
import { factsFilePath } from '../gather/facts-file.js';
import { gatherFacts, type RunFactsOptions } from '../gather/run-facts.js';
import { PeakFixError, validateOptions, type EngineInputs, type FixOptions } from '../index.js';
import { HARD_MAX_BYTES, removePendingTemporaries } from '../runner/io.js';
import { formatFinding, isFormat, reporters, visibleFindings, type Format, type Mode, type ReporterContext } from '../report/index.js';
import type { FileResult, Summary } from '../report/types.js';
import { visible, visibleLine } from '../report/visible.js';
import type { RuleDoc } from '../rewrite/rules.js';
import { runText } from '../runner/job.js';
import { run, summarize } from '../runner/runner.js';
import type { Severity } from '../types.js';
import { readFleetEnv, type FleetEnv } from '../fleet/context.js';
import { createProgress, type Progress } from '../fleet/progress.js';
import { FleetSession } from '../fleet/session.js';
import { EXIT, packageVersion, UsageError, type CliIO, type CommandDefinition, type CommandIO } from './command.js';
import { FIX_DESCRIPTION, FIX_EPILOG, FIX_EXAMPLES, FIX_OPTIONS, PATHS, failFlags, readFlags, type Flags } from './fix-flags.js';

/**
 * The signals that stop a run the same way: Ctrl-C, CI cancellation and `timeout` (SIGTERM), a closed
 * terminal or session (SIGHUP). Each exits with 128 + the signal's number.
 */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** `peak-fix [paths..]`: the default command, the rewrite (and --list-rules, --explain). */
export const fixCommand: CommandDefinition<Flags> = {
  command: '$0 [paths..]',
  describe: FIX_DESCRIPTION,
  builder: (y) => y.positional('paths', PATHS),
  options: FIX_OPTIONS,
  examples: FIX_EXAMPLES,
  epilog: FIX_EPILOG,
  version: true,
  wrap: 100,
  fail: failFlags,
  read: readFlags,
  debug: (flags) => flags.debug,
  handler: fix,
};

async function fix(flags: Flags, io: CommandIO): Promise<number> {
  if (flags.listRules) return listRules(io.out);
  if (flags.explain !== undefined) return explainFlag(flags.explain, flags, io);
  return execute(flags, io);
}

async function listRules(out: (text: string) => void): Promise<number> {
  const { RULES } = await import('../rewrite/rules.js');
  out(RULES.map((rule) => `${rule.id.padEnd(22)} ${rule.severity.padEnd(8)} ${rule.summary}\n`).join(''));
  return EXIT.OK;
}

/** `--explain RULE` explains the rule; `--explain` alone, or with a file, explains the rewrite line by line. */
async function explainFlag(value: string, flags: Flags, io: CommandIO): Promise<number> {
  const { findRule } = await import('../rewrite/rules.js');
  const rule = value === '' ? undefined : findRule(value);
  if (value !== '' && (rule || !(await isPath(value, io.cwd)))) return explainRule(value, rule, io.out);
  const paths = value === '' ? flags.paths : [value, ...flags.paths];
  return execute({ ...flags, paths, explainLines: true, write: false, check: false, listDifferent: false }, io);
}

/** A glob, a path with a directory, or a file or directory that exists. */
async function isPath(value: string, cwd: string): Promise<boolean> {
  return /[*?[/\\]/.test(value) || (await stat(path.resolve(cwd, value)).catch(() => undefined)) !== undefined;
}

function explainRule(id: string, rule: RuleDoc | undefined, out: (text: string) => void): number {
  if (!rule) throw new UsageError(`unknown rule ${JSON.stringify(id)} (see peak-fix --list-rules), and no such file to explain`);
  const indent = (text: string) => text.replace(/^/gm, '    ');
  out(
    `${rule.id} (${rule.severity})\n\n${rule.summary}\n\n${rule.description}\n\nBefore:\n${indent(rule.before)}\n\nAfter:\n${indent(rule.after)}\n`,
  );
  return EXIT.OK;
}

/** What a run over files works with, once execute has read the flags, the config and the environment. */
interface FilesRun {
  flags: Flags;
  io: CommandIO;
  fix: FixOptions;
  mode: Mode;
  context: ReporterContext;
  progress: Progress;
  fleetEnv: FleetEnv;
  facts: RunFactsOptions;
}

async function execute(flags: Flags, io: CommandIO): Promise<number> {
  const fleetEnv = readFleetEnv(io.env);
  const progress = createProgress(io.stderr);
  const err = progress.wrap(io.err);
  const mode = runMode(flags, fleetEnv, err);
  const { fix, config } = await resolveOptions(flags, io.cwd);
  const context = reporterContext(flags, mode, io, err);
  if (!isFormat(flags.format))
    throw new UsageError(`invalid --format ${JSON.stringify(flags.format)}: use ${orList(Object.keys(reporters))}`);
  const facts = await factsSources(flags, io, fix, config);
  if (flags.stdin) return runStdin(flags, fix, io, context, await stdinInputs(facts, err));
  return runFiles({ flags, io, fix, mode, context, progress, fleetEnv, facts });
}

function runMode(flags: Flags, fleetEnv: FleetEnv, err: (text: string) => void): Mode {
  // A fleet runner's dry run (multi-gitter --dry-run: DRY_RUN=true; git-xargs --dry-run: XARGS_DRY_RUN=true)
  // turns --write into a dry run, so the same script serves both.
  const dryRunByRunner = flags.write && fleetEnv.dryRun;
  if (dryRunByRunner)
    err(`peak-fix: ${fleetEnv.dryRunVariable} (${fleetEnv.runner} dry run): --write becomes a dry run, nothing is written\n`);
  if (flags.write && !dryRunByRunner) return 'write';
  if (flags.check) return 'check';
  return flags.listDifferent ? 'list-different' : 'dry-run';
}

function reporterContext(flags: Flags, mode: Mode, io: CommandIO, err: (text: string) => void): ReporterContext {
  return {
    mode,
    color: flags.color ?? (Boolean(io.stdout.isTTY) && !io.env.NO_COLOR),
    verbose: flags.verbose || flags.debug,
    debug: flags.debug,
    explain: flags.explainLines === true,
    stdout: io.out,
    stderr: err,
    version: packageVersion(),
  };
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

/** Where the facts about base images come from: the catalog, the facts file, compose and bake files, the engine. */
async function factsSources(flags: Flags, io: CliIO, fix: FixOptions, config: LoadedConfig): Promise<RunFactsOptions> {
  return {
    cwd: io.cwd,
    roots: await searchRoots(flags.paths, io.cwd),
    catalog: config.images ?? [],
    factsFile: factsFilePath(io.cwd, config.file),
    inspect: flags.inspectImages ? { docker: io.docker, user: fix.user, uidArg: fix.uidArg } : undefined,
  };
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

/** The facts for the text on stdin. */
async function stdinInputs(facts: RunFactsOptions, err: (text: string) => void): Promise<EngineInputs> {
  // One text, no repository around it: the catalog and the facts file still apply.
  // (--inspect-images needs files: the text on stdin is not inspected for.)
  const { lookup, notices } = await gatherFacts([], { ...facts, roots: [], inspect: undefined });
  for (const notice of notices) err(`peak-fix: ${notice}\n`);
  return { facts: lookup };
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
    const reporter = (await reporters[flags.format as Format]())(context);
    reporter.file(result);
    reporter.done({ summary: summarize([result]), interrupted: false, notStarted: 0 });
  } else if (result.status === 'error') {
    context.stderr(`peak-fix: ${visibleLine(name)}: ${visibleLine(result.error ?? '')}\n`);
  } else {
    context.stdout(result.output ?? result.original ?? '');
    if (result.status === 'skipped') context.stderr(`peak-fix: ${visibleLine(name)}: skipped: ${visibleLine(result.skipped ?? '')}\n`);
    const colors = pc.createColors(context.color);
    context.stderr(
      visibleFindings(result.findings, context.verbose)
        .map((finding) => formatFinding(name, finding, colors))
        .join(''),
    );
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

/** The files: each reported as it comes, the fleet outputs once the exit code is known. */
async function runFiles(files: FilesRun): Promise<number> {
  const { flags, io, fix, mode, context, progress } = files;
  const reporter = (await reporters[flags.format as Format]())(context);
  const fleet = fleetSession(files);
  const tally: Tally = { failingFindings: 0, nonCompliant: 0 };
  const stop = listenForStop(io.signals);
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
      // The summary is all runFiles needs; the reporter sees every file as it comes.
      keepFiles: false,
      signal: stop.signal,
      prepare: (targets) => gatherFacts(targets, files.facts),
      onNotice: (message) => reporter.notice(message),
      onStart: (total) => progress.start(total),
      onResult: (file) => {
        progress.tick();
        countFile(tally, file, flags.failOn);
        fleet.onResult(file);
        reporter.file(file);
      },
    });
    progress.end();
    reporter.done({ summary: result.summary, interrupted: result.interrupted, notStarted: result.notStarted, signal: stop.received() });
    const code = exitCode(stop.received(), result.summary, mode, tally);
    await fleet.finish({ exitCode: code, summary: result.summary, interrupted: result.interrupted });
    return code;
  } finally {
    progress.end();
    stop.dispose();
  }
}

/** `--pr-body`, `--report-file`: what a fleet runner keeps of the run. */
function fleetSession({ flags, io, fix, mode, context, fleetEnv }: FilesRun): FleetSession {
  return new FleetSession(
    { prBody: flags.prBody, reportFile: flags.reportFile, guideUrl: flags.guideUrl ?? (io.env.PEAK_FIX_GUIDE_URL || undefined) },
    {
      cwd: io.cwd,
      env: fleetEnv,
      fix,
      failOn: flags.failOn,
      mode,
      version: context.version ?? 'unknown',
      notice: (m) => context.stderr(`peak-fix: ${m}\n`),
    },
  );
}

/** What the exit code counts besides the summary. */
interface Tally {
  /** Findings of --fail-on's severity or a higher one. */
  failingFindings: number;
  /** Files --check must not pass even though nothing would change in them. */
  nonCompliant: number;
}

function countFile(tally: Tally, file: FileResult, failOn: Severity | undefined): void {
  if (failOn) tally.failingFindings += file.findings.filter((f) => atLeast(f.severity, failOn)).length;
  // Not compliant as it is: an error finding (a fixed UID), or a file skipped because its base cannot be known.
  if (notCompliant(file)) tally.nonCompliant++;
}

function exitCode(received: StopSignal | undefined, summary: Summary, mode: Mode, tally: Tally): number {
  if (received !== undefined) return STOP_SIGNALS[received];
  if (summary.errors > 0) return EXIT.ERROR;
  const gate = mode === 'check' || mode === 'list-different';
  if ((gate && summary.changed + tally.nonCompliant > 0) || tally.failingFindings > 0) return EXIT.CHANGES;
  return EXIT.OK;
}

/** Listens to the stop signals while the files run: the first stops the run, a second ends the process. */
function listenForStop(signals: CliIO['signals']): { signal: AbortSignal; received(): StopSignal | undefined; dispose(): void } {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const onSignal = (signal: StopSignal): void => {
    // A second signal does not wait: temporary files of writes in flight are removed and every file is
    // still either old or new (a write is a rename); the report is not printed then.
    if (received !== undefined && signals === process) {
      removePendingTemporaries();
      process.exit(STOP_SIGNALS[received]);
    }
    received ??= signal;
    controller.abort();
  };
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) signals?.on(signal, handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      for (const [signal, handler] of handlers) signals?.off(signal, handler);
    },
  };
}

/** A file --check must not pass even though nothing would change in it. */
export function notCompliant(file: { status: string; findings: readonly { rule: string; severity: string }[] }): boolean {
  if (file.status === 'skipped' && file.findings.some((f) => f.rule === 'unresolved-base')) return true;
  return file.findings.some((f) => f.severity === 'error');
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}

/** `a, b or c` */
function orList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
