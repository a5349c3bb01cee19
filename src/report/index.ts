import type { ReporterFactory } from './types.js';

export { unifiedDiff, colorizeDiff } from './diff.js';
export { visibleFindings, formatFinding, formatSummary } from './summary.js';
export type { JsonFile, JsonReport } from './json.js';
export type { FileResult, FileStatus, Mode, Reporter, ReporterContext, ReporterFactory, RunEnd, Summary } from './types.js';

/**
 * Output formats by name, each module loaded only when its format is used (start-up time): adding one means
 * one module and one entry here.
 */
export const reporters = {
  text: async () => (await import('./summary.js')).createTextReporter,
  json: async () => (await import('./json.js')).createJsonReporter,
  sarif: async () => (await import('./sarif.js')).createSarifReporter,
} satisfies Record<string, () => Promise<ReporterFactory>>;

export type Format = keyof typeof reporters;

export function isFormat(name: string): name is Format {
  return Object.hasOwn(reporters, name);
}
