import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { validateOptions } from '../src/index.js';
import { cleanup, DEBIAN, runCli, tempDir, writeTree } from './helpers/cli.js';

/** Options that would give a root image, or hand the system to the user, are refused with a reason. */

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => cleanup(dir));

describe('validateOptions refuses what would undo the migration', () => {
  test.each(['root', '0', '000'])('user %j', (user) => {
    expect(() => validateOptions({ user })).toThrow(
      `invalid user ${JSON.stringify(user)}: the image must run as a non-root user, not root (UID 0)`,
    );
  });

  test.each([
    ['/root', 'a system directory'],
    ['/etc', 'a system directory'],
    ['/usr', 'a system directory'],
    ['/usr/local/app', 'inside the system directory /usr'],
    ['/etc/peak-user', 'inside the system directory /etc'],
    ['/var/log/app', 'inside the system directory /var/log'],
    ['/tmp/home', 'inside the system directory /tmp'],
    ['/bin', 'a system directory'],
    ['/home', 'a directory that holds other homes or data'],
    ['/var', 'a directory that holds other homes or data'],
    ['/opt', 'a directory that holds other homes or data'],
  ])('home %j: %s', (home, reason) => {
    expect(() => validateOptions({ home })).toThrow(`invalid home directory ${JSON.stringify(home)}: ${reason}, which the user would own`);
  });

  test('home "/" is refused', () => {
    expect(() => validateOptions({ home: '/' })).toThrow('invalid home directory "/"');
  });

  test.each(['/home/peak-user', '/home/app', '/opt/app', '/srv/app', '/var/lib/app', '/app', '/workspace'])('home %j is fine', (home) => {
    expect(validateOptions({ home }).home).toBe(home);
  });

  test.each([
    'PATH',
    'HOME',
    'USER',
    'SHELL',
    'PWD',
    'IFS',
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    'LC_ALL',
    'HTTP_PROXY',
    'no_proxy',
    'TARGETARCH',
    'BUILDKIT_SYNTAX',
  ])('uid argument %j', (uidArg) => {
    expect(() => validateOptions({ uidArg })).toThrow(
      `invalid build argument name ${JSON.stringify(uidArg)}: a variable the shell, the loader or Docker already uses`,
    );
  });

  test.each(['PEAK_USER_ID', 'APP_UID', 'path', 'LDAP_UID'])('uid argument %j is fine', (uidArg) => {
    expect(validateOptions({ uidArg }).uidArg).toBe(uidArg);
  });
});

describe('the CLI and the config file', () => {
  test.each([
    [['--user', 'root'], 'peak-fix: invalid user "root": the image must run as a non-root user, not root (UID 0)\n'],
    [['--user', '0'], 'peak-fix: invalid user "0": the image must run as a non-root user, not root (UID 0)\n'],
    [['--home', '/etc'], /^peak-fix: invalid home directory "\/etc": a system directory, which the user would own; use a directory/],
    [['--uid-arg', 'PATH'], /^peak-fix: invalid build argument name "PATH": a variable the shell/],
  ])('%j: one line, exit 2, nothing written', async (flags, message) => {
    writeTree(dir, { Dockerfile: DEBIAN });
    const { code, stdout, stderr } = await runCli(['--write', ...flags], { cwd: dir });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    if (typeof message === 'string') expect(stderr).toBe(message);
    else expect(stderr).toMatch(message);
  });

  test.each([
    ['{"user": "root"}', /\.peak-fix\.json: invalid user "root": the image must run as a non-root user/],
    ['{"home": "/etc"}', /\.peak-fix\.json: invalid home directory "\/etc": a system directory/],
    ['{"uidArg": "PATH"}', /\.peak-fix\.json: invalid build argument name "PATH"/],
  ])('config %s is refused, naming the file', async (config, message) => {
    writeTree(dir, { Dockerfile: DEBIAN, '.peak-fix.json': config });
    const { code, stderr } = await runCli(['--write'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
