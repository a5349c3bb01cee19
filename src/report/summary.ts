import pc from 'picocolors';
import type { Finding } from '../index.js';
import type { FileResult, FileStatus, Mode, Reporter, ReporterContext, RunEnd, Summary } from './types.js';
import { boundedDiff, colorizeDiff, type Colors } from './diff.js';
import type { Explanation } from '../edits.js';
import { visible, visibleLine } from './visible.js';

/** A diff with its file names on one line each and no raw control characters in its lines. */
function visibleDiff(patch: string): string {
  return patch
    .split('\n')
    .map((line) => {
      if (line.startsWith('--- ') || line.startsWith('+++ ')) return line.slice(0, 4) + visibleLine(line.slice(4));
      return line.endsWith('\r') ? visible(line.slice(0, -1)) + '\r' : visible(line); // a CRLF line end stays
    })
    .join('\n');
}

/**
 * The diff with each added instruction followed by the reason it is there (`--explain`), after its continuation
 * lines: a reading aid, not a patch.
 */
export function explainDiff(patch: string, explanations: readonly Explanation[], colors: Colors): string {
  const why = new Map(explanations.map((e) => [e.line, e.why]));
  // eslint-style: colours are stripped to read the diff's own markers.
  const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '');
  const out: string[] = [];
  let line = 0;
  let pending: string | undefined;
  const flush = () => {
    if (pending !== undefined) out.push(colors.dim(`    \u21b3 ${visibleLine(pending)}`));
    pending = undefined;
  };
  for (const raw of patch.split('\n')) {
    const text = plain(raw);
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    const continuation = text.startsWith('+') && /^\+\s/.test(text) && pending !== undefined;
    if (!continuation) flush();
    out.push(raw);
    if (hunk) line = Number(hunk[1]);
    else if (text.startsWith('+') && !text.startsWith('+++')) {
      if (why.has(line)) pending = why.get(line);
      line++;
    } else if (text.startsWith(' ')) line++;
  }
  flush();
  const text = out.join('\n');
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

/** `  path:line  severity  message  (rule)`, and the hint on its own indented line. */
export function formatFinding(path: string, finding: Finding, colors: Colors = pc.createColors(false)): string {
  const severity =
    finding.severity === 'error'
      ? colors.red(finding.severity)
      : finding.severity === 'warning'
        ? colors.yellow(finding.severity)
        : colors.blue(finding.severity);
  // A finding about a build-context file names it too: `Dockerfile:5 (docker-entrypoint.sh:4)`.
  const where = finding.context ? ` (${visibleLine(contextPath(path, finding.context.file))}:${finding.context.line})` : '';
  let text = `  ${visibleLine(path)}:${finding.line}${where}  ${severity}  ${visibleLine(finding.message)}  ${colors.dim(`(${finding.rule})`)}\n`;
  if (finding.hint) text += `      ${colors.dim('hint:')} ${visibleLine(finding.hint)}\n`;
  return text;
}

/** A build-context file's path as shown next to its Dockerfile's (`svc/Dockerfile` + `run.sh` -> `svc/run.sh`). */
export function contextPath(dockerfilePath: string, file: string): string {
  const slash = Math.max(dockerfilePath.lastIndexOf('/'), dockerfilePath.lastIndexOf('\\'));
  return slash >= 0 ? dockerfilePath.slice(0, slash + 1) + file : file;
}

/** `2 would change, 5 unchanged, 1 skipped, 0 errors` (`changed` once written). */
export function formatSummary(summary: Summary, mode: Mode): string {
  const changed = mode === 'write' ? 'changed' : 'would change';
  const errors = summary.errors === 1 ? 'error' : 'errors';
  return `${summary.changed} ${changed}, ${summary.unchanged} unchanged, ${summary.skipped} skipped, ${summary.errors} ${errors}`;
}

/**
 * The human output. stdout: diffs (dry run), written paths (--write), `[warn] path` (--check), bare paths
 * (--list-different), with each file's findings under it. stderr: errors, skips, notices and the summary.
 * Unchanged files are not mentioned unless --verbose.
 */
export function createTextReporter(context: ReporterContext): Reporter {
  const out: TextOutput = { context, colors: pc.createColors(context.color) };
  return {
    notice(message) {
      context.stderr(`peak-fix: ${visibleLine(message)}\n`);
    },
    file(result) {
      FILE_OUTPUT[result.status](out, result);
    },
    done(end: RunEnd) {
      reportEnd(context, end);
    },
  };
}

/** What each part of the text output reads: the run's context and its colours. */
interface TextOutput {
  context: ReporterContext;
  colors: Colors;
}

/** How each file is shown, by its status. */
const FILE_OUTPUT: Record<FileStatus, (out: TextOutput, result: FileResult) => void> = {
  error: reportError,
  skipped: reportSkipped,
  unchanged: reportUnchanged,
  changed: reportChanged,
};

/** Informational findings ask nothing of anyone, so only --verbose shows them. */
export function visibleFindings(findings: readonly Finding[], verbose: boolean): readonly Finding[] {
  return verbose ? findings : findings.filter((f) => f.severity !== 'info');
}

/** The file's findings as shown under it. */
function shownFindings({ context, colors }: TextOutput, result: FileResult): string {
  return visibleFindings(result.findings, context.verbose)
    .map((finding) => formatFinding(result.path, finding, colors))
    .join('');
}

/** An error finding: the file is not compliant, though left as it is. */
function failing(result: FileResult): boolean {
  return result.findings.some((f) => f.severity === 'error');
}

function reportError({ context }: TextOutput, result: FileResult): void {
  context.stderr(`peak-fix: ${visibleLine(result.path)}: ${visibleLine(result.error ?? '')}\n`);
  if (context.debug && result.stack) context.stderr(`${visible(result.stack)}\n`);
}

function reportSkipped(out: TextOutput, result: FileResult): void {
  // Left alone but not compliant (a stage that cannot run as the user as it is): --check and
  // --list-different name it, like an unchanged file with an error.
  if (listedOnly(out, result)) return;
  out.context.stderr(`peak-fix: ${visibleLine(result.path)}: skipped: ${visibleLine(result.skipped ?? '')}\n`);
  warnIfFailing(out, result);
  if (out.context.mode !== 'check') out.context.stdout(shownFindings(out, result));
}

function reportUnchanged(out: TextOutput, result: FileResult): void {
  // Unchanged but not compliant (an error finding): --check and --list-different still name the file.
  if (listedOnly(out, result)) return;
  warnIfFailing(out, result);
  if (out.context.verbose) out.context.stderr(`${visibleLine(result.path)}: unchanged\n`);
  if (out.context.mode !== 'check') out.context.stdout(shownFindings(out, result));
}

/** --list-different prints paths only: a file left as it is, when an error finding says it is not compliant. */
function listedOnly({ context }: TextOutput, result: FileResult): boolean {
  if (context.mode !== 'list-different') return false;
  if (failing(result)) context.stdout(`${visibleLine(result.path)}\n`);
  return true;
}

/** --check names a file left as it is that is not compliant, with its findings. */
function warnIfFailing(out: TextOutput, result: FileResult): void {
  if (failing(result) && out.context.mode === 'check') {
    out.context.stdout(`${out.colors.yellow('[warn]')} ${visibleLine(result.path)}\n${shownFindings(out, result)}`);
  }
}

function reportChanged(out: TextOutput, result: FileResult): void {
  const { mode, stdout } = out.context;
  const path = visibleLine(result.path);
  if (mode === 'list-different') stdout(`${path}\n`);
  else if (mode === 'check') stdout(`${out.colors.yellow('[warn]')} ${path}\n`);
  else if (mode === 'write') stdout(`${path}\n${shownFindings(out, result)}`);
  else stdout(changedDiff(out, result) + shownFindings(out, result));
}

/** A dry run's diff of a changed file (with the reasons under added lines with --explain); none when too large. */
function changedDiff({ context, colors }: TextOutput, result: FileResult): string {
  const diff = boundedDiff(result.path, result.original ?? '', result.output ?? '');
  if ('omitted' in diff) context.stderr(`peak-fix: ${visibleLine(result.path)}: ${diff.omitted}\n`);
  const patch = 'patch' in diff ? visibleDiff(diff.patch) : '';
  const shown = context.color ? colorizeDiff(patch, colors) : patch;
  return context.explain ? explainDiff(shown, result.explanations ?? [], colors) : shown;
}

/** An interrupt, then the summary line (none with --list-different, whose output is paths only). */
function reportEnd({ mode, stderr }: ReporterContext, end: RunEnd): void {
  if (end.interrupted)
    stderr(
      `peak-fix: interrupted${end.signal ? ` (${end.signal})` : ''}: ${end.notStarted} file${end.notStarted === 1 ? '' : 's'} not processed\n`,
    );
  if (mode === 'list-different') return;
  let line = formatSummary(end.summary, mode);
  if (mode === 'check' && end.summary.changed > 0) line += ' (run peak-fix --write to fix)';
  if (mode === 'dry-run' && end.summary.changed > 0) line += ' (dry run: pass --write to apply)';
  stderr(line + '\n');
}
