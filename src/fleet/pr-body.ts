import path from 'node:path';
import type { FixOptions } from '../index.js';
import { findRule } from '../rewrite/rules.js';
import { actionable, type FleetFile } from './results.js';

/** Peak's guide by its title; organisations link their copy with `--guide-url`. */
export const GUIDE_TITLE = 'Non-root users and Peak';

export interface PrBodyInput {
  files: readonly FleetFile[];
  options: FixOptions;
  version: string;
  /** Link for Peak's guide; without one the guide is named, not linked. */
  guideUrl?: string;
  /** The run did not write (a dry run): the text speaks of what would change. */
  dryRun: boolean;
}

export const HOW: Record<string, string> = {
  debian: 'created with `useradd`',
  rhel: 'created with `useradd` (on a minimal image without it, by adding its `passwd` and `group` lines)',
  alpine: "created with busybox's `adduser`",
  distroless: 'no shell in the image: numeric `--chown` and `USER` only, no `RUN`',
  unknown: 'created by a line that works with `useradd` or busybox `adduser` (base image not in the catalog)',
};

/**
 * The pull-request description for one repository, in Markdown that GitHub and GitLab render alike (headings,
 * lists, fenced code, `<details>`): what changed and why, one line per file; what a person must act on, with
 * the rule's explanation; what was left alone and why; how to check the result. Usable as
 * `gh pr create --body-file`, a Sourcegraph step output, or a turbolift campaign's description.
 */
export function renderPrBody(input: PrBodyInput): string {
  const guide = input.guideUrl ? `[${GUIDE_TITLE}](${input.guideUrl})` : `_${GUIDE_TITLE}_`;
  const changed = input.files.filter((file) => file.status === 'changed');
  const out = [
    `## Run the images as Peak's non-root user`,
    '',
    ...introduction(input, changed, guide),
    ...whatChanged(input, changed, guide),
    ...needsPerson(input.files),
    ...leftAlone(input.files),
    ...howToCheck(input.options, changed),
    ...WHY,
  ];
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

/** What the pull request does, or why there is nothing to change. */
function introduction(input: PrBodyInput, changed: readonly FleetFile[], guide: string): string[] {
  const { options, version } = input;
  if (changed.length === 0) {
    const failed = input.files.some((file) => file.status === 'error');
    return [
      failed
        ? `peak-fix ${version} could not process every Dockerfile of this repository, so it changed nothing; see _Left alone_ below.`
        : `peak-fix ${version} found nothing to change: every Dockerfile here already runs as Peak's non-root user (${guide}), or was left alone on purpose.`,
      '',
    ];
  }
  const verb = input.dryRun ? 'would change' : 'changes';
  return [
    `This pull request ${verb} ${count(changed.length, 'Dockerfile')} so the image runs as Peak's non-root user, as Peak's guide ${guide} asks: ` +
      `the UID comes in as the build argument \`${options.uidArg}\`, a \`${options.user}\` user owns its home \`${options.home}\` and what is copied in, ` +
      `and the image ends with \`USER $${options.uidArg}\`. It was written by peak-fix ${version}` +
      (options.preset === 'peak-doc'
        ? " with the guide's lines verbatim (`--preset peak-doc`)."
        : '; every original instruction is kept as it was.'),
    '',
  ];
}

/** One line per changed file: its base, how the user is created there, and why a kept USER line stays. */
function whatChanged(input: PrBodyInput, changed: readonly FleetFile[], guide: string): string[] {
  if (changed.length === 0) return [];
  const { options } = input;
  const out = ['### What changed', ''];
  const perLine = input.guideUrl ? ` (${guide})` : '';
  for (const file of changed) {
    const base = file.baseImage ? ` (\`${file.baseImage}\`${file.family ? `, ${file.family}` : ''})` : '';
    const how = HOW[file.family ?? 'unknown'] ?? HOW.unknown;
    out.push(
      `- ${code(file.path)}${base}: \`${options.user}\` ${how}; \`--chown\` on \`COPY\`/\`ADD\`; ends with \`USER $${options.uidArg}\`${perLine}.`,
    );
    // Two USER lines in a row: say why the original's stays (peak-fix removes no line).
    for (const kept of file.findings.filter((f) => f.messageId === 'kept-in-a-row')) {
      out.push(`  Line ${kept.line}: ${text(kept.message)}; delete it if the image is only built for Peak.`);
    }
  }
  out.push('');
  return out;
}

/** A checkbox per warning or error finding, with the rule's explanation folded under it. */
function needsPerson(files: readonly FleetFile[]): string[] {
  const attention = files.flatMap((file) => file.findings.filter(actionable).map((finding) => ({ file, finding })));
  if (attention.length === 0) return [];
  const out = [`### Needs a person (${attention.length})`, ''];
  out.push('peak-fix could not make these safe on its own; the image may build but misbehave when it runs as a non-root user.', '');
  for (const { file, finding } of attention) {
    const hint = finding.hint ? ` (hint: ${text(finding.hint)})` : '';
    out.push(`- [ ] ${code(file.path)} line ${finding.line}, **${finding.severity}** \`${finding.rule}\`: ${text(finding.message)}${hint}`);
    const rule = findRule(finding.rule);
    if (rule) {
      out.push(`  <details><summary>Why this matters</summary>`, '', `  ${text(rule.description)}`, '', '  </details>');
    }
  }
  out.push('');
  return out;
}

/** The files that could not be processed, then those skipped, then those already migrated. */
function leftAlone(files: readonly FleetFile[]): string[] {
  const lines = [
    ...files
      .filter((file) => file.status === 'error')
      .map((file) => `- ${code(file.path)}: **could not be processed**: ${text(file.error ?? 'unknown error')}`),
    ...files.filter((file) => file.status === 'skipped').map((file) => `- ${code(file.path)}: skipped: ${text(file.skipped ?? '')}`),
    ...files
      .filter((file) => file.status === 'unchanged')
      .map((file) => `- ${code(file.path)}: already runs as the Peak user; nothing to change.`),
  ];
  return lines.length > 0 ? ['### Left alone', '', ...lines, ''] : [];
}

/** The commands that build each changed image with a UID and verify it. */
function howToCheck(options: FixOptions, changed: readonly FleetFile[]): string[] {
  if (changed.length === 0) return [];
  const out = ['### How to check', ''];
  out.push(`Build each image with a UID, then check it runs as that UID with a writable home:`, '', '```sh');
  changed.forEach((file, index) => {
    const dir = path.posix.dirname(file.path.split(path.sep).join('/'));
    const tag = `peak-check-${index + 1}`;
    out.push(`docker build --build-arg ${options.uidArg}=1001 -f ${shellWord(file.path)} -t ${tag} ${shellWord(dir)}`);
    out.push(`peak-fix verify ${tag} --uid 1001 --home ${options.home}`);
  });
  out.push('```', '');
  if (options.preset === 'safe') {
    out.push(
      `A build without \`--build-arg ${options.uidArg}=<uid>\` now stops with a message naming the argument instead of producing a root image.`,
      '',
    );
  }
  return out;
}

const WHY = [
  '### Why',
  '',
  "Peak runs workflow and API containers with a fixed non-root UID. An image that still expects root fails there: files it writes belong to root, its home is not writable, a `USER` the platform does not expect is overridden. peak-fix adds the guide's steps where they are missing and reports what it cannot fix safely instead of guessing.",
  '',
];

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A code span that survives backticks in the path. */
function code(value: string): string {
  const fence = value.includes('`') ? '``' : '`';
  return `${fence}${value.includes('`') ? ` ${value} ` : value}${fence}`;
}

/** Free text: `<`, `>` and `&` outside code spans become entities, so no message turns into HTML. */
function text(value: string): string {
  return value
    .replace(/\r?\n/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

/** A path as one shell word. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
