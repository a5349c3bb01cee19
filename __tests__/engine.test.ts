import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { applyEdits, LineIndex } from '../src/edits.js';
import { lookupImage, parseImageRef } from '../src/images.js';
import { fixDockerfile, PeakFixError, validateOptions } from '../src/index.js';

describe('edits', () => {
  test('apply in offset order, same-offset insertions in the order given', () => {
    expect(
      applyEdits('abc', [
        { offset: 3, remove: 0, insert: 'Y' },
        { offset: 1, remove: 1, insert: 'B' },
        { offset: 3, remove: 0, insert: 'Z' },
      ]),
    ).toBe('aBcYZ');
  });

  test('overlapping edits are rejected', () => {
    expect(() =>
      applyEdits('abcdef', [
        { offset: 1, remove: 3, insert: '' },
        { offset: 2, remove: 0, insert: 'x' },
      ]),
    ).toThrow(/overlapping/);
  });

  test('line index handles CRLF, lone CR and LF', () => {
    const index = new LineIndex('a\r\nb\rc\nd');
    expect(index.offsetAt({ line: 1, character: 0 })).toBe(3);
    expect(index.offsetAt({ line: 2, character: 0 })).toBe(5);
    expect(index.offsetAt({ line: 3, character: 1 })).toBe(8);
    expect(index.lineContentEnd(0)).toBe(1);
    expect(new LineIndex('a\r\nb\r\n').eol).toBe('\r\n');
    expect(new LineIndex('a\nb\n').eol).toBe('\n');
  });
});

describe('image catalog', () => {
  test.each([
    ['debian:bookworm-slim', 'debian'],
    ['python:3.11-alpine', 'alpine'],
    ['node:20-alpine', 'alpine'],
    ['docker.io/library/node:20', 'debian'],
    ['registry.access.redhat.com/ubi9/ubi:9.3', 'rhel'],
    ['gcr.io/distroless/static-debian12', 'distroless'],
    ['scratch', 'distroless'],
    ['mcr.microsoft.com/windows/servercore:ltsc2022', 'windows'],
    ['mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022', 'windows'],
    ['mcr.microsoft.com/dotnet/aspnet:8.0', 'debian'],
    ['registry.example.com/team/base:1', 'unknown'],
  ])('%s is %s', (ref, family) => {
    expect(lookupImage(ref).family).toBe(family);
  });

  test('known users: node owns uid 1000, bitnami runs as 1001, distroless nonroot as 65532', () => {
    expect(lookupImage('node:18').takenUids).toContain(1000);
    expect(lookupImage('node:18-alpine').takenUids).toContain(1000);
    expect(lookupImage('rocker/r-ver:4.3').takenUids).toContain(1000);
    expect(lookupImage('bitnami/python:3.11').defaultUser).toBe('1001');
    expect(lookupImage('gcr.io/distroless/base:nonroot').defaultUser).toBe('65532');
    expect(lookupImage('debian').defaultUser).toBeUndefined();
  });

  test('references split into repository and tag, digests dropped', () => {
    expect(parseImageRef('localhost:5000/team/app:1.2@sha256:abc')).toEqual({ repository: 'localhost:5000/team/app', tag: '1.2' });
    expect(parseImageRef('library/python')).toEqual({ repository: 'python', tag: '' });
  });
});

describe('options', () => {
  test.each([
    [{ user: 'a;rm -rf /' }, /invalid user name/],
    [{ user: 'peak user' }, /invalid user name/],
    [{ user: '$(id)' }, /invalid user name/],
    [{ user: 'x\nRUN id' }, /invalid user name/],
    [{ home: '/home/../etc' }, /invalid home/],
    [{ home: 'relative/home' }, /invalid home/],
    [{ home: '/home/a b' }, /invalid home/],
    [{ home: '/home/$USER' }, /invalid home/],
    [{ uidArg: 'UID;echo' }, /invalid build argument/],
    [{ uidArg: '1UID' }, /invalid build argument/],
    [{ preset: 'literal' as never }, /invalid preset/],
    [{ workdir: 'sometimes' as never }, /invalid workdir/],
  ])('%j is rejected', (options, message) => {
    expect(() => validateOptions(options)).toThrow(message);
    expect(() => fixDockerfile('FROM debian\n', options)).toThrow(PeakFixError);
  });

  test('plain names are accepted', () => {
    expect(validateOptions({ user: 'svc_app-1', home: '/srv/svc.home', uidArg: 'APP_UID' })).toMatchObject({ user: 'svc_app-1' });
  });
});

describe('bad input', () => {
  test('no FROM is an error naming the reason', () => {
    expect(() => fixDockerfile('RUN echo hi\n')).toThrow(/no FROM instruction/);
    expect(() => fixDockerfile('')).toThrow(PeakFixError);
  });

  test('a FROM whose variable has no default is an error with its line', () => {
    let error: unknown;
    try {
      fixDockerfile('ARG BASE\nFROM $BASE\n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeakFixError);
    expect((error as PeakFixError).message).toMatch(/variable BASE/);
    expect((error as PeakFixError).line).toBe(2);
  });

  test('an unterminated heredoc is an error: appended lines would become part of it', () => {
    expect(() => fixDockerfile('FROM debian\nRUN <<EOF\necho hi\n')).toThrow(/unterminated heredoc: <<EOF has no closing EOF line/);
    expect(errorLine(() => fixDockerfile('FROM debian\nRUN <<EOF\necho hi\n'))).toBe(2);
  });

  test('a line continuation on the last line is an error, comments and blank lines after it included', () => {
    expect(() => fixDockerfile('FROM debian\nRUN echo hi \\\n')).toThrow(/unterminated line continuation/);
    expect(errorLine(() => fixDockerfile('FROM debian\nCOPY a /a\nRUN echo hi \\\n'))).toBe(3);
    expect(() => fixDockerfile('FROM debian\nRUN echo hi \\\n# comment\n\n')).toThrow(/unterminated line continuation/);
    expect(() => fixDockerfile('# escape=`\nFROM debian\nRUN echo `\n')).toThrow(/after the '`'/);
    expect(fixDockerfile('FROM debian\nRUN echo a \\\n  b\n').changed).toBe(true);
  });

  test('an unresolvable builder stage is fine when only the final stage is migrated', () => {
    expect(fixDockerfile('ARG BUILDER\nFROM $BUILDER AS b\nFROM debian\n').changed).toBe(true);
  });
});

describe('engine behaviour', () => {
  test('a Windows final stage is skipped with a reason and left byte-identical', () => {
    const text = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY a C:/a\n';
    const result = fixDockerfile(text);
    expect(result.skipped).toMatch(/Windows/);
    expect(result.output).toBe(text);
  });

  test('a JSON-form COPY to an absolute path does not rely on the working directory', () => {
    const json = fixDockerfile('FROM debian\nCOPY ["app dir", "/srv/app/"]\nWORKDIR /srv/app\n');
    // Nothing relies on the inherited directory, and the stage sets its own: WORKDIR <home> would change nothing.
    expect(json.findings.map((f) => f.rule)).not.toContain('workdir-kept');
    expect(json.output).not.toContain('WORKDIR /home/peak-user\n');
    const relative = fixDockerfile('FROM debian\nCOPY ["app dir", "app/"]\nWORKDIR /srv/app\n');
    expect(relative.output).not.toContain('WORKDIR /home/peak-user\n');
    expect(relative.findings.map((f) => f.rule)).toContain('workdir-kept');
  });

  test('# peak-fix-disable leaves the file untouched', () => {
    const text = '# syntax=docker/dockerfile:1\n# peak-fix-disable\nFROM debian\n';
    expect(fixDockerfile(text)).toMatchObject({ changed: false, output: text });
  });

  test('the empty-UID guard names the build argument', () => {
    expect(fixDockerfile('FROM debian\n', { uidArg: 'APP_UID' }).output).toContain('${APP_UID:?build argument APP_UID is required');
  });

  test('COPY before a hand-written user creation gets no --chown (the user does not exist yet)', () => {
    const text = 'FROM debian\nCOPY a /a\nARG PEAK_USER_ID\nRUN useradd -m -u $PEAK_USER_ID peak-user\nCOPY b /b\nUSER $PEAK_USER_ID\n';
    const output = fixDockerfile(text).output;
    expect(output).toContain('COPY a /a\n');
    expect(output).toContain('COPY --chown=peak-user b /b\n');
    expect(output.match(/useradd/g)).toHaveLength(1);
  });

  test('a non-root user in force gets USER 0 around the inserted RUNs and is restored after', () => {
    const output = fixDockerfile('FROM node:20\nUSER node\nRUN npm ci\n').output;
    expect(output).toMatch(/USER node\nRUN npm ci\nUSER 0\nRUN find /);
    const bitnami = fixDockerfile('FROM bitnami/python:3.11\nRUN pip install x\n').output;
    expect(bitnami).toMatch(/USER 0\nRUN : .*\n.*\n.*\nUSER 1001\nRUN pip install x\n/);
  });
});

describe('presets recognise each other', () => {
  const root = new URL('../fixtures/', import.meta.url);
  const inputs = readdirSync(root).map((name) => readFileSync(new URL(`${name}/input.Dockerfile`, root), 'utf8'));

  test.each([
    ['peak-doc', 'safe'],
    ['safe', 'peak-doc'],
  ] as const)('a file migrated with %s is compliant for %s', (first, second) => {
    for (const input of inputs) {
      let migrated: string;
      try {
        migrated = fixDockerfile(input, { preset: first }).output;
      } catch {
        continue; // inputs that are errors by design
      }
      expect(fixDockerfile(migrated, { preset: second }).output).toBe(migrated);
    }
  });
});

describe('the README', () => {
  test('its before/after example is what peak-fix prints', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const before = readme.split('## Before and after')[1].split('```Dockerfile\n')[1].split('```')[0];
    const diff = readme.split('```diff\n')[1].split('```')[0];
    const after = diff
      .split('\n')
      .filter((line) => !line.startsWith('-'))
      .map((line) => line.slice(1))
      .join('\n');
    expect(fixDockerfile(before).output).toBe(after);
  });
});

function errorLine(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as PeakFixError).line;
  }
  return undefined;
}

describe('no quadratic paths, no deep recursion (issue 8)', () => {
  // Bounds are generous (a quadratic path took 110 s on 20,000 VOLUME lines; the chain overflowed the stack).
  test('20,000 VOLUME lines', () => {
    const text = 'FROM debian\n' + Array.from({ length: 20000 }, (_, i) => `VOLUME /v${i}`).join('\n') + '\n';
    const result = fixDockerfile(text);
    expect(result.output.match(/^RUN mkdir -p \/v\d+ /gm)?.length).toBe(20000);
  }, 60_000);

  test('20,000 chained stages with --all-stages', () => {
    const stages = Array.from({ length: 20000 }, (_, i) => `FROM s${i} AS s${i + 1}\nRUN true`).join('\n');
    const result = fixDockerfile(`FROM debian AS s0\n${stages}\n`, { allStages: true });
    expect(result.output.endsWith('USER $PEAK_USER_ID\n')).toBe(true);
  }, 60_000);

  test('40,000 words in one RUN', () => {
    const text = 'FROM debian\nRUN git config ' + Array.from({ length: 40000 }, (_, i) => `w${i}`).join(' ') + '\n';
    expect(fixDockerfile(text).changed).toBe(true);
  }, 60_000);
});
