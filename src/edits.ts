/** A change to the original text: at `offset`, drop `remove` characters and put `insert` there. */
export interface TextEdit {
  offset: number;
  remove: number;
  insert: string;
  /**
   * Why, for `--explain`: one reason per instruction the insert starts (an inserted flag has one), in order.
   */
  reasons?: string[];
}

/** An explained line of the rewritten text: 1-based line, and why it is there. */
export interface Explanation {
  line: number;
  why: string;
}

/**
 * Where each reason of `edits` lands in `applyEdits(text, edits)`: the output line of each inserted instruction
 * (a line of the insert that does not start with white space, so continuation lines are not counted), or of the
 * original line a flag was inserted into.
 */
export function explainEdits(text: string, edits: readonly TextEdit[]): Explanation[] {
  const ordered = edits.map((edit, index) => ({ edit, index })).sort((a, b) => a.edit.offset - b.edit.offset || a.index - b.index);
  const out: Explanation[] = [];
  let cursor = 0;
  let line = 1;
  const count = (chunk: string) => (chunk.match(/\r\n|\r|\n/g) ?? []).length;
  for (const { edit } of ordered) {
    line += count(text.slice(cursor, edit.offset));
    cursor = edit.offset + edit.remove;
    const reasons = edit.reasons ?? [];
    if (!/[\r\n]/.test(edit.insert)) {
      if (reasons[0]) out.push({ line, why: reasons[0] });
      continue;
    }
    // Lines of the insert, the first joined to the line it is inserted into.
    const pieces = edit.insert.split(/\r\n|\r|\n/);
    let next = 0;
    pieces.forEach((piece, k) => {
      const starts = piece !== '' && !/^\s/.test(piece) && (k > 0 || edit.insert.startsWith(piece));
      if (starts && reasons[next] !== undefined) out.push({ line: line + k, why: reasons[next] });
      if (starts) next++;
    });
    line += pieces.length - 1;
  }
  return out.sort((a, b) => a.line - b.line);
}

export interface Position {
  line: number;
  character: number;
}

/**
 * Maps dockerfile-ast's LSP positions (line, UTF-16 character) to string offsets.
 * Lines split on `\r\n`, `\r` and `\n`, exactly as the parser does, so CRLF, lone CR and a BOM stay exact.
 */
export class LineIndex {
  readonly starts: number[] = [0];
  readonly eol: string;

  constructor(readonly text: string) {
    const breaks = /\r\n|\r|\n/g;
    let crlf = 0;
    let lf = 0;
    for (let m = breaks.exec(text); m; m = breaks.exec(text)) {
      this.starts.push(m.index + m[0].length);
      if (m[0] === '\r\n') crlf++;
      else lf++;
    }
    this.eol = crlf > lf ? '\r\n' : '\n';
  }

  offsetAt(pos: Position): number {
    const start = this.starts[Math.min(pos.line, this.starts.length - 1)];
    return Math.min(start + pos.character, this.text.length);
  }

  /** Offset just past the line's content, before its line break. */
  lineContentEnd(line: number): number {
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    const brk = this.text.slice(next - 2, next);
    return next - (brk === '\r\n' ? 2 : 1);
  }

  /** Offset of the start of the line after `line` (end of text when it is the last line). */
  nextLineStart(line: number): number {
    return this.starts[line + 1] ?? this.text.length;
  }

  lineCount(): number {
    return this.starts.length;
  }
}

/**
 * Applies edits right to left. Edits at the same offset keep the order they were given in,
 * so a transform that runs first has its insertion first in the output.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const ordered = edits.map((edit, index) => ({ edit, index })).sort((a, b) => a.edit.offset - b.edit.offset || a.index - b.index);
  for (let i = 1; i < ordered.length; i++) {
    const prev = ordered[i - 1].edit;
    const cur = ordered[i].edit;
    if (prev.offset + prev.remove > cur.offset) {
      throw new Error(`overlapping edits at offsets ${prev.offset} and ${cur.offset}`);
    }
  }
  let out = '';
  let cursor = 0;
  for (const { edit } of ordered) {
    out += text.slice(cursor, edit.offset) + edit.insert;
    cursor = edit.offset + edit.remove;
  }
  return out + text.slice(cursor);
}
