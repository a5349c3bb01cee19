/**
 * A progress line on stderr for long runs, like a package manager's: `peak-fix: 120/800 files`, redrawn in
 * place. Only when stderr is a terminal (never in CI logs or pipes) and the run has many files; other stderr
 * output clears the line first so nothing is drawn over, and the line is erased when the run ends.
 */
export const PROGRESS_MIN_FILES = 50;
const REDRAW_MS = 100;

export interface Progress {
  /** The number of files found; nothing is drawn below PROGRESS_MIN_FILES. */
  start(total: number): void;
  /** One more file done. */
  tick(): void;
  /** Erases the line. */
  end(): void;
  /** Wraps another stderr writer so its text never lands on the progress line. */
  wrap(write: (text: string) => void): (text: string) => void;
}

const CLEAR = '\r\x1b[2K';

export function createProgress(
  stderr: { write(chunk: string): unknown; isTTY?: boolean },
  now: () => number = Date.now,
  minFiles = PROGRESS_MIN_FILES,
): Progress {
  let total = 0;
  let done = 0;
  let shown = false;
  let lastDraw = -Infinity;
  const active = (): boolean => Boolean(stderr.isTTY) && total >= minFiles;
  const draw = (): void => {
    stderr.write(`${CLEAR}peak-fix: ${done}/${total} files`);
    shown = true;
    lastDraw = now();
  };
  const clear = (): void => {
    if (shown) stderr.write(CLEAR);
    shown = false;
  };
  return {
    start(count) {
      total = count;
      done = 0;
      if (active()) draw();
    },
    tick() {
      done++;
      if (!active()) return;
      if (done === total || now() - lastDraw >= REDRAW_MS) draw();
    },
    end() {
      clear();
    },
    wrap(write) {
      return (text) => {
        if (!text) return;
        const redraw = shown;
        clear();
        write(text);
        if (redraw && done < total) draw();
      };
    },
  };
}
