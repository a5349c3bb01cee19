import { createHash } from 'node:crypto';
import { RULES } from '../rewrite/rules.js';
import type { Finding, Severity } from '../types.js';
import type { FileResult, Reporter, ReporterContext } from './types.js';
import { createCollectingReporter } from './collect.js';
import { contextPath } from './summary.js';

/**
 * `--format sarif`: a SARIF 2.1.0 log, so code-scanning tools show findings inline. Each finding is a result;
 * a file that still needs migrating is a `not-migrated` result on line 1 (unless it was just written); files
 * that could not be processed are tool execution notifications.
 */

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

const NOT_MIGRATED = {
  id: 'not-migrated',
  shortDescription: { text: 'The Dockerfile does not yet run as the Peak user; peak-fix --write migrates it.' },
  defaultConfiguration: { level: 'warning' },
};

export interface SarifLog {
  version: '2.1.0';
  $schema: string;
  runs: unknown[];
}

export function toSarif(files: FileResult[], toolVersion: string, wrote: boolean, signal?: string): SarifLog {
  const rules = sarifRules();
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const results = files.flatMap((file) => fileResults(file, ruleIndex, wrote));
  const failures = files.filter((file) => file.status === 'error');
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'peak-fix', version: toolVersion, rules } },
        invocations: [
          {
            executionSuccessful: failures.length === 0 && signal === undefined,
            ...(signal === undefined ? {} : { exitSignalName: signal }),
            toolExecutionNotifications: failures.map((file) => ({
              level: 'error',
              message: { text: `${file.path}: ${file.error ?? 'could not be processed'}` },
              locations: [location(file.path, 1)],
            })),
          },
        ],
        results,
      },
    ],
  };
}

/** `not-migrated` first (result index 0), then every rule of the catalogue with its explanation. */
function sarifRules() {
  return [
    NOT_MIGRATED,
    ...RULES.map((rule) => ({
      id: rule.id,
      shortDescription: { text: rule.summary },
      fullDescription: { text: rule.description },
      help: { text: `${rule.description}\n\nBefore:\n${rule.before}\n\nAfter:\n${rule.after}` },
      defaultConfiguration: { level: LEVEL[rule.severity] },
    })),
  ];
}

function location(path: string, line: number) {
  return { physicalLocation: { artifactLocation: { uri: pathToUri(path) }, region: { startLine: Math.max(1, line) } } };
}

/** One file's results: `not-migrated` while it still needs migrating (with the whole-file fix), then its findings. */
function fileResults(file: FileResult, ruleIndex: ReadonlyMap<string, number>, wrote: boolean): unknown[] {
  const fingerprint = fingerprinter(file);
  const fix = wholeFileFix(file);
  const notMigrated =
    file.status === 'changed' && !wrote
      ? [
          {
            ruleId: NOT_MIGRATED.id,
            ruleIndex: 0,
            level: 'warning',
            message: { text: NOT_MIGRATED.shortDescription.text },
            locations: [location(file.path, 1)],
            partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(NOT_MIGRATED.id, 0) },
            ...(fix ? { fixes: [fix] } : {}),
          },
        ]
      : [];
  return [...notMigrated, ...file.findings.map((finding) => findingResult(file.path, finding, ruleIndex, fingerprint))];
}

function findingResult(
  path: string,
  finding: Finding,
  ruleIndex: ReadonlyMap<string, number>,
  fingerprint: (rule: string, line: number) => string,
): unknown {
  return {
    ruleId: finding.rule,
    ...(ruleIndex.has(finding.rule) ? { ruleIndex: ruleIndex.get(finding.rule) } : {}),
    level: LEVEL[finding.severity],
    message: { text: finding.hint ? `${finding.message} (${finding.hint})` : finding.message },
    // A finding about a build-context file (an entrypoint script) points there; the Dockerfile line is related.
    locations: [finding.context ? location(contextPath(path, finding.context.file), finding.context.line) : location(path, finding.line)],
    ...(finding.context ? { relatedLocations: [{ id: 1, ...location(path, finding.line) }] } : {}),
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(finding.rule, finding.line) },
  };
}

/**
 * A path as a URI reference: each segment percent-encoded, so `#` and `?` stay part of the name (`encodeURI`
 * left them as a fragment and a query) and a `:` in the first segment is not read as a scheme.
 */
export function pathToUri(path: string): string {
  return path
    .split('\\')
    .join('/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * Code scanning matches a result across runs by `partialFingerprints`. Ours is a hash of the file's path, the
 * rule, the text of the instruction's line (trimmed) and how many identical results came before it in the
 * file: it survives lines added above or below, and changes only when the flagged line itself changes.
 */
export const FINGERPRINT_KEY = 'peakFixFinding/v1';

function fingerprinter(file: FileResult): (rule: string, line: number) => string {
  const lines = file.original?.split(/\r\n|\r|\n/) ?? [];
  const seen = new Map<string, number>();
  return (rule, line) => {
    const content = line > 0 ? (lines[line - 1] ?? '').replace(/^\uFEFF/, '').trim() : '';
    const key = `${file.path.split('\\').join('/')}\0${rule}\0${content}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return createHash('sha256').update(`${key}\0${occurrence}`).digest('hex').slice(0, 32);
  };
}

/**
 * The migration of a file that still needs it, as one SARIF fix replacing the file's text. Only emitted when
 * there is a change to describe: a `fixes` entry is never empty.
 */
function wholeFileFix(file: FileResult): unknown {
  if (file.original === undefined || file.output === undefined || file.original === file.output) return undefined;
  const uri = pathToUri(file.path);
  return {
    description: { text: 'Migrate to the Peak non-root user (peak-fix --write)' },
    artifactChanges: [
      {
        artifactLocation: { uri },
        replacements: [{ deletedRegion: { charOffset: 0, charLength: file.original.length }, insertedContent: { text: file.output } }],
      },
    ],
  };
}

export function createSarifReporter(context: ReporterContext): Reporter {
  return createCollectingReporter(context, (files, end) =>
    toSarif(files, context.version ?? 'unknown', context.mode === 'write', end.signal),
  );
}
