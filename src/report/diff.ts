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
