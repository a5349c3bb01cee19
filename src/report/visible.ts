/**
 * Control characters from file names and Dockerfiles never reach the terminal raw: an ESC sequence in a path
 * or a RUN line could recolour, move the cursor or retitle the terminal, a CR could overwrite what was printed,
 * and bidirectional overrides could show text in another order than it is. Each is shown as an escape
 * (`\x1b`, `\r`, `\u202e`). Tabs and line feeds stay; so does the CR of a CRLF line end (a diff of a CRLF file
 * must still apply).
 */
const CONTROL = /\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function visible(text: string): string {
  return text.replace(CONTROL, (char) => {
    const code = char.charCodeAt(0);
    if (char === '\r') return '\\r';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The same for one-line texts (paths, messages): a line feed is escaped too, so a name cannot fake a line. */
export function visibleLine(text: string): string {
  return visible(text).replace(/\r?\n/g, (eol) => (eol === '\n' ? '\\n' : '\\r\\n'));
}
