import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * A unified diff (3 lines of context, `--- a/<path>` / `+++ b/<path>` headers, as `git diff` and
 * `patch -p1` read them), or '' when the texts are equal.
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const name = path.startsWith('/') ? path : `a/${path}`;
  const newName = path.startsWith('/') ? path : `b/${path}`;
  const patch = createTwoFilesPatch(name, newName, before, after, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY });
  return patch.endsWith('\n') ? patch : patch + '\n';
}

/**
 * The bound on the diffs shown: Myers' algorithm costs O(N·D) and its worst cases more, so a file with tens of
 * thousands of changed lines (20,000 COPY lines given `--chown`) would take minutes. Past either bound the
 * diff is left out and the report says so.
 */
export const DIFF_MAX_CHANGED_LINES = 2000;
export const DIFF_TIMEOUT_MS = 3000;

export type BoundedDiff = { patch: string } | { omitted: string };

/** `unifiedDiff` within DIFF_MAX_CHANGED_LINES and DIFF_TIMEOUT_MS; past them, why it was left out. */
export function boundedDiff(path: string, before: string, after: string): BoundedDiff {
  if (before === after) return { patch: '' };
  const name = path.startsWith('/') ? path : `a/${path}`;
  const newName = path.startsWith('/') ? path : `b/${path}`;
  const patch = createTwoFilesPatch(name, newName, before, after, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
    maxEditLength: DIFF_MAX_CHANGED_LINES,
    timeout: DIFF_TIMEOUT_MS,
  });
  if (patch === undefined) {
    const lines = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    return {
      omitted:
        `diff not shown: more than ${DIFF_MAX_CHANGED_LINES} changed lines, or over ${DIFF_TIMEOUT_MS / 1000} s to compute ` +
        `(the rewrite takes the file from ${lines(before)} to ${lines(after)} lines); review it after --write with git diff`,
    };
  }
  return { patch: patch.endsWith('\n') ? patch : patch + '\n' };
}

/** Colours a unified diff line by line: headers bold, hunk ranges cyan, removals red, additions green. */
export function colorizeDiff(patch: string, colors: Colors): string {
  return patch
    .split('\n')
    .map((line) => {
      if (line.startsWith('--- ') || line.startsWith('+++ ')) return colors.bold(line);
      if (line.startsWith('@@')) return colors.cyan(line);
      if (line.startsWith('+')) return colors.green(line);
      if (line.startsWith('-')) return colors.red(line);
      if (line.startsWith('\\')) return colors.dim(line);
      return line;
    })
    .join('\n');
}
