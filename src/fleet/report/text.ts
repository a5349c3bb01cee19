import type { FleetData } from './data.js';
import { STATUSES } from './data.js';

const OUTCOME_LABEL = { failed: 'failed', 'needs-person': 'need a person', migrated: 'migrated', compliant: 'already compliant' } as const;

/** Markdown: a table cell that cannot break the table. */
function cell(value: string): string {
  return value.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/** The Markdown summary `peak-fix report` prints: totals, by family, by rule, who needs a person and why. */
export function fleetMarkdown(data: FleetData): string {
  const { totals } = data;
  const out: string[] = ['# peak-fix fleet report', ''];
  out.push(
    `${totals.repositories} repositories (${data.lines} result lines from ${data.sources.length} file${data.sources.length === 1 ? '' : 's'}): ` +
      (['migrated', 'needs-person', 'failed', 'compliant'] as const).map((o) => `${totals.outcomes[o]} ${OUTCOME_LABEL[o]}`).join(', ') +
      '.',
    '',
  );
  out.push(
    `Dockerfiles: ${totals.files.changed} changed, ${totals.files.unchanged} unchanged, ${totals.files.skipped} skipped, ${totals.files.error} could not be processed. ` +
      `Findings: ${totals.findings} (${totals.actionable} need a person).`,
    '',
  );
  out.push(
    '## By base family',
    '',
    '| family | Dockerfiles | changed | unchanged | skipped | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const row of data.families) out.push(`| ${cell(row.family)} | ${row.total} | ${STATUSES.map((s) => row.counts[s]).join(' | ')} |`);
  out.push('');
  out.push('## By finding rule', '');
  if (data.rules.length === 0) out.push('No findings.');
  else {
    out.push('| rule | severity | findings | repositories |', '| --- | --- | ---: | ---: |');
    for (const row of data.rules) out.push(`| \`${row.rule}\` | ${row.severity} | ${row.findings} | ${row.repositories} |`);
  }
  out.push('');
  out.push('## Base images no catalog knows', '');
  if (data.unknownBases.length === 0) out.push('None: every base image is in the built-in catalog, the config "images" or the facts file.');
  else {
    out.push(
      'Describe them in the config `"images"` (or run `peak-fix inspect`): their Dockerfiles get the generic user line and an `unknown-base` warning until then.',
      '',
      '| image | Dockerfiles | repositories |',
      '| --- | ---: | ---: |',
    );
    for (const row of data.unknownBases) out.push(`| \`${cell(row.image)}\` | ${row.files} | ${row.repositories} |`);
  }
  out.push('');
  const attention = data.repositories.filter((repo) => repo.outcome === 'failed' || repo.outcome === 'needs-person' || repo.runAgain);
  out.push(`## Repositories that need a person (${attention.length})`, '');
  if (attention.length === 0) out.push('None.');
  else {
    out.push('| repository | outcome | reason |', '| --- | --- | --- |');
    for (const repo of attention) out.push(`| ${cell(repo.repository)} | ${repo.outcome} | ${cell(repo.reason ?? '')} |`);
  }
  out.push('');
  return out.join('\n');
}

/** RFC 4180 field; a leading `=`, `+`, `-`, `@` is quoted with `'` so spreadsheets never run it as a formula. */
function csvField(value: string | number | undefined): string {
  let text = value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  'repository',
  'outcome',
  'exit_code',
  'commit',
  'file',
  'status',
  'base_image',
  'family',
  'findings',
  'rules',
  'detail',
] as const;

/** One row per Dockerfile (a repository without Dockerfiles gets one row with no file). */
export function fleetCsv(data: FleetData): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const repo of data.repositories) {
    const common = [repo.repository, repo.outcome, repo.exitCode, repo.commit];
    if (repo.files.length === 0) rows.push([...common, '', '', '', '', 0, '', repo.reason].map(csvField).join(','));
    for (const file of repo.files) {
      const rules = [...new Set(file.findings.map((f) => f.rule))].join(' ');
      rows.push(
        [...common, file.path, file.status, file.baseImage, file.family, file.findings.length, rules, file.error ?? file.skipped]
          .map(csvField)
          .join(','),
      );
    }
  }
  return rows.join('\r\n') + '\r\n';
}

/** The repositories to run again, one `owner/name` a line: turbolift `foreach --repos FILE`, git-xargs `--repos FILE`. */
export function fleetFailed(data: FleetData): string {
  return data.repositories
    .filter((repo) => repo.runAgain)
    .map((repo) => `${repo.repository}\n`)
    .join('');
}
