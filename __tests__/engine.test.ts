import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { applyEdits, LineIndex } from '../src/edits.js';
import { builtInFacts, lookupImage } from '../src/facts/image.js';
import { parseReference } from '../src/facts/reference.js';
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

  test('known users: node owns uid 1000, bitnami applications run as 1001, distroless nonroot as 65532', () => {
    expect(lookupImage('node:18').takenUids).toContain(1000);
    expect(lookupImage('node:18-alpine').takenUids).toContain(1000);
    expect(lookupImage('rocker/tidyverse:4.3').takenUids).toContain(1000);
    expect(lookupImage('bitnami/nginx:1.27').defaultUser).toBe('1001');
    expect(lookupImage('gcr.io/distroless/base:nonroot').defaultUser).toBe('nonroot');
    expect(lookupImage('debian').defaultUser).toBeUndefined();
  });

  // Each row of the table, as facts (the golden fixtures under fixtures/base-image/ show the rewrites).
  test.each([
    ['bitnami/minideb:bookworm', { os: 'linux', shell: true, userCreation: 'useradd' }, undefined],
    ['bitnami/python:3.12', { userCreation: 'useradd' }, undefined],
    ['bitnami/node:20', { userCreation: 'useradd' }, undefined],
    ['bitnami/postgresql:16', { userCreation: 'useradd' }, { uid: 1001 }],
    ['memcached:1.6', { userCreation: 'useradd', takenUids: [11211] }, { name: 'memcache', uid: 11211 }],
    ['grafana/grafana:11.2.0', { userCreation: 'busybox', takenUids: [472] }, { uid: 472 }],
    ['mcr.microsoft.com/mssql/server:2022-latest', { userCreation: 'useradd' }, { name: 'mssql', uid: 10001 }],
    ['registry.access.redhat.com/ubi9/python-311', { userCreation: 'useradd', takenUids: [1001] }, { uid: 1001 }],
    ['quay.io/sclorg/python-311-c9s', { userCreation: 'useradd' }, { uid: 1001 }],
    ['quay.io/jupyter/base-notebook', { userCreation: 'useradd', takenUids: [1000] }, { uid: 1000 }],
    ['gitpod/workspace-full', { userCreation: 'useradd' }, { name: 'gitpod', uid: 33333 }],
    ['registry.access.redhat.com/ubi9/ubi-minimal', { shell: true, userCreation: 'passwd-file' }, undefined],
    ['registry.access.redhat.com/ubi8-minimal:8.10', { shell: true, userCreation: 'passwd-file' }, undefined],
    ['registry.access.redhat.com/ubi9/ubi', { userCreation: 'useradd' }, undefined],
    ['mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled', { shell: false, userCreation: 'none' }, { name: 'app', uid: 1654 }],
    ['mcr.microsoft.com/dotnet/aspnet:9.0-noble-chiseled-extra', { shell: false, userCreation: 'none' }, { name: 'app', uid: 1654 }],
    ['mcr.microsoft.com/azurelinux/distroless/base:3.0', { shell: false, userCreation: 'none' }, undefined],
    ['node:20-alpine', { userCreation: 'busybox', takenUids: [1000] }, undefined],
    ['mcr.microsoft.com/powershell:lts-ubuntu-22.04', { os: 'linux', userCreation: 'useradd' }, undefined],
    ['mcr.microsoft.com/powershell:7.2-debian-11', { os: 'linux', userCreation: 'useradd' }, undefined],
    ['mcr.microsoft.com/powershell:latest', { os: 'linux', userCreation: 'useradd' }, undefined],
    ['mcr.microsoft.com/powershell:lts-nanoserver-ltsc2022', { os: 'windows' }, undefined],
    ['mcr.microsoft.com/windowsservercore-insider:10.0.20344.1', { os: 'windows' }, undefined],
    ['microsoft/iis', { os: 'windows' }, undefined],
    ['microsoft/windowsservercore:ltsc2016', { os: 'windows' }, undefined],
    ['portainer/agent-windows:2.19.4', { os: 'windows' }, undefined],
    ['mcr.microsoft.com/dotnet/framework/aspnet:4.8', { os: 'windows' }, undefined],
  ])('%s: %j, default user %j', (ref, expected, defaultUser) => {
    const facts = builtInFacts(ref);
    expect(facts).toMatchObject({ ...expected, known: true });
    expect(facts?.defaultUser).toEqual(defaultUser);
    // Every built-in fact names where it was read.
    expect(facts?.source.ref).toMatch(/^https:\/\//);
  });

  test('a row names its repository exactly, on any registry', () => {
    expect(lookupImage('mirror.example.com/node:20').takenUids).toEqual([1000]);
    expect(lookupImage('localhost:5000/library/postgres:16').takenUids).toEqual([999]);
    // circleci/node and bitnami's own node are other images, with other users.
    expect(builtInFacts('circleci/node:20')).toBeUndefined();
    expect(lookupImage('bitnami/node:20').takenUids).toBeUndefined();
  });

  test('an image nobody knows is not in the built-in catalog', () => {
    expect(builtInFacts('registry.example.com/team/base:1')).toBeUndefined();
  });

  test('references split into repository and tag, digests dropped', () => {
    expect(parseReference('localhost:5000/team/app:1.2@sha256:abc')).toMatchObject({ repository: 'localhost:5000/team/app', tag: '1.2' });
    expect(parseReference('library/python')).toMatchObject({ repository: 'python', tag: '' });
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

  test('a FROM whose variable has no value is skipped, not an error: the file is fine, its base unknown', () => {
    const text = 'ARG BASE\nFROM $BASE\nCOPY a /a\n';
    const result = fixDockerfile(text);
    expect(result.output).toBe(text);
    expect(result.skipped).toMatch(/BASE has no value/);
    expect(result.findings).toEqual([
      expect.objectContaining({ rule: 'unresolved-base', severity: 'warning', line: 2, hint: expect.stringContaining('--arg BASE=') }),
    ]);
  });

  test('--arg values (buildArgs) resolve a FROM and win over ARG defaults', () => {
    const skipped = fixDockerfile('ARG BASE\nFROM $BASE\n');
    expect(skipped.changed).toBe(false);
    const given = fixDockerfile('ARG BASE\nFROM $BASE\n', {}, { buildArgs: { BASE: 'alpine:3.19' } });
    expect(given.output).toContain('adduser -D');
    const overridden = fixDockerfile('ARG BASE=debian\nFROM $BASE\n', {}, { buildArgs: { BASE: 'scratch' } });
    expect(overridden.output).not.toContain('RUN');
  });

  test('facts given by the caller come before the built-in catalog', () => {
    const text = 'FROM debian:bookworm-slim\nCOPY a /a\n';
    const inputs = {
      facts: (ref: string) =>
        ref.startsWith('debian')
          ? {
              os: 'linux' as const,
              shell: true,
              userCreation: 'passwd-file' as const,
              takenUids: [],
              defaultUser: { name: 'app', uid: 4000 },
              known: true,
              source: { kind: 'config' as const, ref: '.peak-fix.json' },
            }
          : undefined,
    };
    const output = fixDockerfile(text, {}, inputs).output;
    expect(output).toContain('>> /etc/passwd');
    expect(output).toMatch(/USER 0\nRUN[^]*USER app\n/);
    // Without them the catalog's own facts apply.
    expect(fixDockerfile(text).output).toContain('useradd -l -m');
  });

  test('FROM base-$TARGETARCH follows the stages it can name when they agree, and gives up when they do not', () => {
    const agree = 'FROM alpine:3.19 AS base-amd64\nFROM alpine:3.19 AS base-arm64\nFROM base-$TARGETARCH\n';
    expect(fixDockerfile(agree).output).toContain('adduser -D');
    const disagree = 'FROM alpine:3.19 AS base-amd64\nFROM debian AS base-arm64\nFROM base-$TARGETARCH\n';
    expect(fixDockerfile(disagree).findings.map((f) => f.rule)).toEqual(['unresolved-base']);
    // A pattern with no literal text would name any stage: it names none.
    expect(fixDockerfile('FROM alpine AS a\nFROM $X\n').findings.map((f) => f.rule)).toEqual(['unresolved-base']);
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
    // The closing step needs root too, where it has something to give.
    const output = fixDockerfile(
      'FROM node:20\nUSER node\nRUN npm ci\nUSER root\nRUN mkdir -p /app/cache && chown node /app/cache\nUSER node\n',
    ).output;
    expect(output).toMatch(/USER node\nUSER 0\nRUN find \/app\/cache -type d \\\( .*\nENV HOME=\/home\/peak-user\nUSER \$PEAK_USER_ID\n$/);
    const bitnami = fixDockerfile('FROM bitnami/nginx:1.27\nRUN echo x\n').output;
    expect(bitnami).toMatch(/USER 0\nRUN : .*\n.*\n.*\nUSER 1001\nRUN echo x\n/);
    // bitnami's language runtimes are root images: nothing to switch.
    expect(fixDockerfile('FROM bitnami/python:3.11\nRUN pip install x\n').output).not.toContain('USER 0');
  });
});

describe('presets recognise each other', () => {
  const root = new URL('../fixtures/', import.meta.url);
  // Cases may nest (fixtures/base-image/memcached/): every input.Dockerfile at any depth.
  const inputs = (readdirSync(root, { recursive: true }) as string[])
    .filter((path) => path.endsWith('input.Dockerfile'))
    .map((path) => readFileSync(new URL(path, root), 'utf8'));

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
