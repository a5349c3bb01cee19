/**
 * What the refusals of src/model/dockerfile.ts claim about Docker, checked on the real engine (legacy builder,
 * `FROM scratch`: no base image needed): a lone CR does not end a line for Docker, an escape directive after
 * an unknown one is ignored, an instruction indented with a no-break space is read, `$(( 1 << 2 ))` and
 * `CMD cat <<EOF` are not heredocs. peak-fix refuses the first three and accepts the last two.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { fixDockerfile, PeakFixError } from '../../src/index.js';
import { build, docker, dockerAvailable, removeContext, removeImage, tempContext, testTag } from './docker.js';

const made: { tags: string[]; dirs: string[] } = { tags: [], dirs: [] };

beforeAll(() => {
  expect(dockerAvailable()).toBe(true);
});
afterAll(() => {
  for (const tag of made.tags) removeImage(tag);
  for (const dir of made.dirs) removeContext(dir);
});

function dockerBuild(name: string, dockerfile: string): { ok: boolean; output: string; labels: Record<string, string> } {
  const dir = tempContext({ Dockerfile: dockerfile });
  made.dirs.push(dir);
  const tag = testTag(`reading-${name}`);
  made.tags.push(tag);
  const result = build(dir, tag);
  if (!result.ok) return { ...result, labels: {} };
  const inspect = docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', tag]);
  return { ...result, labels: JSON.parse(inspect.stdout.trim() || '{}') as Record<string, string> };
}

function refused(text: string): string {
  try {
    fixDockerfile(text);
  } catch (error) {
    if (error instanceof PeakFixError) return error.message;
    throw error;
  }
  throw new Error('peak-fix accepted the file');
}

describe('Docker reads these differently from the parser: peak-fix refuses them', () => {
  test('a lone CR is inside the line for Docker (one LABEL, not two)', () => {
    const text = 'FROM scratch\nLABEL a=1\rLABEL b=2\n';
    const result = dockerBuild('cr', text);
    expect(result.ok).toBe(false);
    expect(result.output).toContain(`can't find = in "LABEL"`); // the second LABEL is a word of the first
    expect(refused(text)).toMatch(/^a carriage return \(CR\) without a line feed/);
  });

  test('# escape= after an unknown directive is ignored by Docker', () => {
    const text = '# foo=bar\n# escape=`\nFROM scratch\nLABEL a=1 `\n b=2\n';
    const result = dockerBuild('escape', text);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('can\'t find = in "`"'); // the backtick is a word, not a continuation
    expect(refused(text)).toMatch(/^Docker reads the escape character as '\\' here/);
    // The same directive first is honoured by both.
    const first = dockerBuild('escape-first', '# escape=`\nFROM scratch\nLABEL a=1 `\n b=2\n');
    expect(first.labels).toEqual({ a: '1', b: '2' });
  });

  test('an instruction indented with a no-break space is read by Docker', () => {
    const text = 'FROM scratch\n\u00a0LABEL a=1\n';
    expect(dockerBuild('nbsp', text).labels).toEqual({ a: '1' });
    expect(refused(text)).toMatch(/^indented with U\+00A0 \(no-break space\)/);
  });
});

describe('not heredocs for Docker: peak-fix accepts them', () => {
  test('`<<` alone in RUN and `<<EOF` in CMD leave the next line an instruction', () => {
    const text = 'FROM scratch\nRUN echo $(( 1 << 2 ))\nCMD cat <<EOF\nLABEL after=yes\n';
    // RUN cannot run on scratch, so only the parse is checked: Docker counts four instructions (a heredoc
    // would have swallowed the LABEL line) and reaches the RUN step.
    const result = dockerBuild('heredoc', text);
    expect(result.output).toMatch(/Step 2\/4 : RUN echo \$\(\( 1 << 2 \)\)/);
    expect(fixDockerfile(text.replace('FROM scratch', 'FROM debian:bookworm-slim')).changed).toBe(true);
  });
});
