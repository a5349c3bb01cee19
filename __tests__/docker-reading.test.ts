import { describe, expect, test } from '@jest/globals';
import { fixDockerfile, PeakFixError } from '../src/index.js';

/**
 * Input Docker accepts is accepted; input Docker reads differently from the parser is refused with a reason,
 * never rewritten into something else. The rules are BuildKit's (moby/buildkit frontend/dockerfile/parser).
 */

function refusal(text: string): PeakFixError {
  try {
    fixDockerfile(text);
  } catch (error) {
    expect(error).toBeInstanceOf(PeakFixError);
    return error as PeakFixError;
  }
  throw new Error('the file was not refused');
}

describe('not heredocs for Docker, so not refused as unterminated', () => {
  test('RUN echo $(( 1 << 2 )): `<<` alone is a shell word, not a heredoc', () => {
    const text = 'FROM debian:bookworm-slim\nRUN echo $(( 1 << 2 ))\nCOPY app /app\n';
    const { output } = fixDockerfile(text);
    expect(output).toContain('\nRUN echo $(( 1 << 2 ))\n');
    expect(output).toContain('COPY --chown=peak-user app /app\n');
  });

  test('CMD cat <<EOF: only RUN, COPY and ADD take heredocs; the next line is an instruction', () => {
    const text = 'FROM debian:bookworm-slim\nCMD cat <<EOF\nCOPY app /app\n';
    const { output } = fixDockerfile(text);
    expect(output).toContain('CMD cat <<EOF\n');
    expect(output).toContain('COPY --chown=peak-user app /app\n');
  });

  test('a real heredoc without its delimiter is still refused', () => {
    expect(refusal('FROM debian\nRUN <<EOF\necho hi\n').message).toMatch(/^unterminated heredoc: <<EOF/);
  });
});

describe('a lone carriage return', () => {
  test('inside a line is refused: Docker reads one line, other tools two', () => {
    const error = refusal('FROM debian\nRUN echo a\rCOPY app /app\nCOPY b /b\n');
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/^a carriage return \(CR\) without a line feed: Docker reads it as part of the line/);
  });

  test('old Mac line ends (CR only) are refused', () => {
    expect(refusal('FROM debian\rCOPY a /a\r').line).toBe(1);
  });

  test('a final CR too: the closing lines would be appended to the last instruction', () => {
    expect(refusal('FROM debian\nCOPY a /a\r').line).toBe(2);
  });

  test('CRLF files are fine', () => {
    expect(fixDockerfile('FROM debian\r\nCOPY a /a\r\n').output).toContain('COPY --chown=peak-user a /a\r\n');
  });
});

describe('parser directives', () => {
  test('# escape= after an unknown directive: Docker ignores it (keeps \\), so the file is refused', () => {
    const text = '# foo=bar\n# escape=`\nFROM debian\nRUN echo a `\n  b\nCOPY a /a\n';
    const error = refusal(text);
    expect(error.message).toBe(
      "Docker reads the escape character as '\\' here, not '`': parser directives end at the first line that is not one (# foo= on line 1 is not a directive Docker knows); put # escape= on the first line",
    );
    expect(error.line).toBe(1);
  });

  test('# escape= after # check=: which escape applies depends on the Docker version: refused', () => {
    expect(refusal('# check=skip=all\n# escape=`\nFROM debian\nCOPY a /a\n').message).toMatch(
      /# check= on line 1 is not a directive older Docker knows/,
    );
  });

  test('a repeated directive is refused, as Docker refuses it', () => {
    const error = refusal('# escape=`\n# escape=\\\nFROM debian\nCOPY a /a\n');
    expect(error.message).toBe('a second # escape= directive: Docker refuses the file (only one is allowed)');
    expect(error.line).toBe(2);
  });

  test('# escape= first, or after # syntax=, is read as Docker reads it', () => {
    for (const head of ['# escape=`\n', '# syntax=docker/dockerfile:1\n# escape=`\n', '#escape = `\n']) {
      const { output } = fixDockerfile(`${head}FROM debian\nRUN echo a \`\n  b\nCOPY a /a\n`);
      expect(output).toContain('COPY --chown=peak-user a /a\n');
      expect(output.startsWith(head)).toBe(true);
    }
  });
});

describe('indentation Docker skips and other parsers do not', () => {
  test.each([
    ['\u00a0', 'U+00A0 (no-break space)'],
    ['\v', 'U+000B (vertical tab)'],
    ['\f', 'U+000C (form feed)'],
    ['\u2003', 'U+2003 (a Unicode space)'],
  ])('%j before COPY is refused, naming the character', (space, name) => {
    const error = refusal(`FROM debian\n${space}COPY app /app\n`);
    expect(error.line).toBe(2);
    expect(error.message).toBe(
      `indented with ${name}: Docker skips it and reads the instruction, other tools do not; indent with spaces or tabs`,
    );
  });

  test('a no-break space inside a heredoc body is content, and fine', () => {
    const { output } = fixDockerfile('FROM debian\nRUN <<EOF\n\u00a0echo hi\nEOF\nCOPY a /a\n');
    expect(output).toContain('RUN <<EOF\n\u00a0echo hi\nEOF\n');
  });

  test('a no-break space at the start of a continuation line is part of the arguments for both: fine', () => {
    const { output } = fixDockerfile('FROM debian\nRUN echo a \\\n\u00a0b\nCOPY a /a\n');
    expect(output).toContain('RUN echo a \\\n\u00a0b\n');
  });

  test('spaces and tabs are fine', () => {
    expect(fixDockerfile('FROM debian\n  \tCOPY a /a\n').output).toContain('  \tCOPY --chown=peak-user a /a\n');
  });
});
