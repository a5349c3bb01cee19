import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeDockerfile, fsError } from '../src/runner/io.js';
import { visible } from '../src/report/visible.js';
import { cleanup, DEBIAN, runCli, tempDir, writeTree } from './helpers/cli.js';

/** The smaller promises: SARIF URIs, no raw control characters, one error code, .gitignore, encodings, NUL. */

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

/** Any C0/C1 control but tab and line feed, DEL, or a bidirectional override. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('SARIF URIs escape # and ? (and other reserved characters) in file names', async () => {
  writeTree(dir, { 'a#b/Dockerfile': DEBIAN, 'q?x/Dockerfile': DEBIAN, 'sp ace/Dockerfile': DEBIAN });
  const { stdout } = await runCli(['--format', 'sarif'], { cwd: dir });
  const log = JSON.parse(stdout) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
  const uris = new Set(log.runs[0].results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri));
  expect([...uris].sort()).toEqual(['a%23b/Dockerfile', 'q%3Fx/Dockerfile', 'sp%20ace/Dockerfile']);
  for (const uri of uris)
    expect(decodeURIComponent(new URL(uri, 'file:///repo/').pathname.slice('/repo/'.length))).toMatch(/\/Dockerfile$/);
});

describe('text output never prints raw control characters', () => {
  const evilDir = 'svc\x1b]0;owned\x07\x1b[2J\r';
  const evilRun = 'RUN echo "\x1b[31mred\x1b[0m \u202eevil"\n';

  test.each([[[]], [['--check']], [['--list-different']], [['--write']], [['--verbose']]])('%j', async (flags) => {
    writeTree(dir, { [`${evilDir}/Dockerfile`]: DEBIAN + evilRun, 'bad\x1b[1m/Dockerfile': 'RUN no from\n' });
    const { stdout, stderr } = await runCli(['--no-color', ...flags], { cwd: dir });
    // Shown, escaped: as \x1b in findings and messages, as git's C-style quoting (\033) in a diff header.
    expect(stdout + stderr).toMatch(/svc(\\x1b|\\033)\]0;owned(\\x07|\\a)(\\x1b|\\033)\[2J\\r/);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).not.toMatch(RAW_CONTROL);
  });

  test('the dry-run diff shows the escapes, and a CRLF diff still ends its lines with CRLF', async () => {
    writeTree(dir, { 'a/Dockerfile': DEBIAN + evilRun, 'crlf/Dockerfile': DEBIAN.replace(/\n/g, '\r\n') });
    const { stdout } = await runCli(['--no-color'], { cwd: dir });
    expect(stdout).toContain(' RUN echo "\\x1b[31mred\\x1b[0m \\u202eevil"\n');
    expect(stdout).toContain('+COPY --chown=peak-user a /a\r\n');
  });

  test('visible() keeps tabs, line feeds and CRLF', () => {
    expect(visible('a\tb\r\nc\rd\x00\x9b')).toBe('a\tb\r\nc\\rd\\x00\\x9b');
  });
});

test('error messages name the error code once, without the syscall and path', () => {
  let error: NodeJS.ErrnoException | undefined;
  writeFileSync(path.join(dir, 'regular'), '');
  try {
    readlinkSync(path.join(dir, 'regular'));
  } catch (caught) {
    error = caught as NodeJS.ErrnoException;
  }
  expect(error?.message).toMatch(/^EINVAL: invalid argument, readlink /); // what Node says
  expect(fsError(error).message).toBe('invalid argument (EINVAL)');
});

test('a config that cannot be read: one reason, no repeated code', async () => {
  writeTree(dir, { Dockerfile: DEBIAN, 'conf/.keep': '' });
  const { code, stderr } = await runCli(['--config', 'conf'], { cwd: dir });
  expect(code).toBe(2);
  expect(stderr).toBe(`peak-fix: ${path.join(dir, 'conf')}: cannot read config: not a regular file (a directory)\n`);
});

describe('an unreadable .gitignore is an error, not silently ignored', () => {
  test('a .gitignore that cannot be read (a symbolic-link loop): error naming it, the files it governs left alone, exit 2', async () => {
    writeTree(dir, { 'svc/Dockerfile': DEBIAN, 'ok/Dockerfile': DEBIAN });
    symlinkSync('.gitignore', path.join(dir, 'svc/.gitignore'));
    const { code, stdout, stderr } = await runCli(['--write', '.'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('peak-fix: svc/.gitignore: cannot read .gitignore: too many levels of symbolic links\n');
    expect(stdout).toMatch(/^ok\/Dockerfile\n/);
    expect(stdout).not.toContain('svc/');
    expect(readFileSync(path.join(dir, 'svc/Dockerfile'), 'utf8')).toBe(DEBIAN);
    expect(stderr).toContain('1 changed, 0 unchanged, 0 skipped, 1 error\n');
  });

  test('a FIFO named .gitignore is refused without blocking', async () => {
    writeTree(dir, { 'svc/Dockerfile': DEBIAN });
    execFileSync('mkfifo', [path.join(dir, 'svc/.gitignore')]);
    const { code, stderr } = await runCli(['.'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('peak-fix: svc/.gitignore: cannot read .gitignore: not a regular file (a FIFO)\n');
  }, 10_000);
});

describe('encodings and binary files', () => {
  test.each([
    ['UTF-32 LE', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('F\0\0\0R\0\0\0')])],
    ['UTF-32 BE', Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), Buffer.from('\0\0\0F\0\0\0R')])],
  ])('%s is named UTF-32', (_name, bytes) => {
    expect(() => decodeDockerfile(bytes)).toThrow('UTF-32 encoded file: convert it to UTF-8');
  });

  test('UTF-16 is still UTF-16', () => {
    expect(() => decodeDockerfile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('FROM x\n', 'utf16le')]))).toThrow(
      'UTF-16 encoded file: convert it to UTF-8',
    );
  });

  test('a NUL anywhere, not only in the first 8 KB, makes the file binary', () => {
    const text = 'FROM debian\n' + '# padding\n'.repeat(2000);
    expect(text.length).toBeGreaterThan(8 * 1024);
    expect(() => decodeDockerfile(Buffer.from(text + '\0\n'))).toThrow(`binary file (NUL byte at offset ${text.length})`);
  });
});
