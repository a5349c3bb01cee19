import { describe, expect, test } from '@jest/globals';
import { engineVersion, inspectImage, InspectError } from '../src/gather/inspect.js';
import { DEBIAN_GROUP, DEBIAN_PASSWD, fakeEngine, type FakeImage } from './helpers/fake-docker.js';

const ID = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const opts = { user: 'peak-user', uidArg: 'PEAK_USER_ID', now: () => new Date('2026-11-30T12:00:00Z') };
const debianLike = (extra: Partial<FakeImage> = {}): FakeImage => ({
  id: ID(1),
  files: { '/bin/sh': '', '/etc/passwd': DEBIAN_PASSWD, '/etc/group': DEBIAN_GROUP },
  tools: ['useradd', 'usermod'],
  ...extra,
});

/** The command lines that started or created a container. */
const containerCalls = (calls: string[][]) => calls.filter((c) => c[0] === 'run' || c[0] === 'create');

describe('inspectImage against a fake engine', () => {
  test('a root Debian-like image: useradd, no default user, system UIDs not counted as taken', async () => {
    const { docker, calls } = fakeEngine({ 'corp/base:1': debianLike({ repoDigests: [`corp/base@${ID(9)}`] }) });
    const image = await inspectImage(docker, 'corp/base:1', opts);
    expect(image).toMatchObject({
      repository: 'corp/base',
      tag: '1',
      digest: ID(9),
      id: ID(1),
      engine: '20.10.24+dfsg1',
      inspected: '2026-11-30T12:00:00.000Z',
    });
    expect(image.facts).toMatchObject({ os: 'linux', shell: true, userCreation: 'useradd', takenUids: [], known: true });
    expect(image.facts.defaultUser).toBeUndefined();
    expect(image.facts.takenNames).toEqual(['root', 'daemon', '_apt', 'nobody']);
    expect(image.facts.source).toEqual({ kind: 'inspected', ref: ID(9) });
    // one throw-away container, no network, never a pull, by image ID
    const runs = containerCalls(calls);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toEqual(expect.arrayContaining(['run', '--rm', '--network=none', '--pull=never', ID(1)]));
    expect(calls.some((c) => c[0] === 'pull')).toBe(false);
  });

  test('a non-root default user by name: its UID and home come from /etc/passwd, its UID is taken', async () => {
    const passwd = `${DEBIAN_PASSWD}\napp:x:1500:1500::/home/app:/bin/sh`;
    const { docker } = fakeEngine({ 'corp/app-base:2': debianLike({ user: 'app', files: { '/bin/sh': '', '/etc/passwd': passwd } }) });
    const { facts } = await inspectImage(docker, 'corp/app-base:2', opts);
    expect(facts.defaultUser).toEqual({ name: 'app', uid: 1500 });
    expect(facts.home).toBe('/home/app');
    expect(facts.takenUids).toEqual([1500]);
    expect(facts.migrated).toBeUndefined();
  });

  test('a non-root default user by UID with no passwd entry (USER 1001)', async () => {
    const { docker } = fakeEngine({ 'corp/hardened:1': debianLike({ user: '1001:0' }) });
    const { facts } = await inspectImage(docker, 'corp/hardened:1', opts);
    expect(facts.defaultUser).toEqual({ uid: 1001 });
    expect(facts.home).toBeUndefined();
    expect(facts.userCreation).toBe('useradd');
  });

  test('an image migrated by peak-fix (it runs as peak-user) is recognised as migrated', async () => {
    const passwd = `${DEBIAN_PASSWD}\npeak-user:x:1001:1001::/home/peak-user:/bin/sh`;
    const { docker } = fakeEngine({ 'corp/base:3': debianLike({ user: '1001', files: { '/bin/sh': '', '/etc/passwd': passwd } }) });
    const { facts } = await inspectImage(docker, 'corp/base:3', opts);
    expect(facts.migrated).toBe(true);
    expect(facts.defaultUser).toEqual({ uid: 1001, name: 'peak-user' });
  });

  test('busybox adduser and no useradd: busybox', async () => {
    const { docker } = fakeEngine({ 'corp/tiny:1': debianLike({ tools: ['busybox'] }) });
    expect((await inspectImage(docker, 'corp/tiny:1', opts)).facts.userCreation).toBe('busybox');
  });

  test('a shell but no user tool: the passwd file is appended to', async () => {
    const { docker } = fakeEngine({ 'corp/minimal:1': debianLike({ tools: [] }) });
    expect((await inspectImage(docker, 'corp/minimal:1', opts)).facts.userCreation).toBe('passwd-file');
  });

  test('no shell: read from a created, never started, container with docker cp, which is removed', async () => {
    const passwd = 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin';
    const { docker, calls } = fakeEngine({ 'corp/slim:2': { id: ID(2), user: '65532', files: { '/etc/passwd': passwd } } });
    const { facts } = await inspectImage(docker, 'corp/slim:2', opts);
    expect(facts).toMatchObject({
      shell: false,
      userCreation: 'none',
      defaultUser: { uid: 65532, name: 'nonroot' },
      home: '/home/nonroot',
    });
    const create = calls.find((c) => c[0] === 'create') as string[];
    expect(create).toEqual(expect.arrayContaining(['--network=none', '--pull=never', ID(2)]));
    expect(calls.some((c) => c[0] === 'start')).toBe(false);
    expect(calls.filter((c) => c[0] === 'cp').map((c) => c[1].split(':')[1])).toEqual(['/bin/sh', '/etc/passwd', '/etc/group']);
    const rm = calls.find((c) => c[0] === 'rm') as string[];
    expect(rm).toEqual(['rm', '-f', `c0${'0'.repeat(63)}`]); // the container the fake created
    expect(calls.indexOf(rm)).toBe(calls.length - 1);
  });

  test('no passwd file, with a shell and without one', async () => {
    const { docker } = fakeEngine({
      'corp/nopasswd:1': { id: ID(3), files: { '/bin/sh': '' }, tools: ['busybox'] },
      'corp/scratchy:1': { id: ID(4), files: {} },
    });
    const withShell = await inspectImage(docker, 'corp/nopasswd:1', opts);
    expect(withShell.facts).toMatchObject({ shell: true, userCreation: 'busybox', takenUids: [], takenNames: [] });
    const without = await inspectImage(docker, 'corp/scratchy:1', opts);
    expect(without.facts).toMatchObject({ shell: false, userCreation: 'none', takenUids: [], takenNames: [] });
    expect(without.facts.defaultUser).toBeUndefined();
  });

  test('a Windows image: no container at all', async () => {
    const { docker, calls } = fakeEngine({ 'corp/win:ltsc2022': { id: ID(5), os: 'windows', user: 'ContainerUser', files: {} } });
    const { facts } = await inspectImage(docker, 'corp/win:ltsc2022', opts);
    expect(facts).toMatchObject({ os: 'windows', shell: false, userCreation: 'none' });
    expect(facts.defaultUser).toBeUndefined();
    expect(containerCalls(calls)).toEqual([]);
  });

  test('engine missing: no docker command, or a daemon that does not answer', async () => {
    await expect(engineVersion(fakeEngine({}, { missing: true }).docker)).rejects.toMatchObject({
      kind: 'no-engine',
      message: expect.stringContaining('docker command was not found'),
    });
    const down = inspectImage(fakeEngine({}, { daemonDown: true }).docker, 'x:1', opts);
    await expect(down).rejects.toBeInstanceOf(InspectError);
    await expect(down).rejects.toMatchObject({
      kind: 'no-engine',
      message: expect.stringContaining('Cannot connect to the Docker daemon'),
    });
  });

  test('image missing: never pulled unless asked', async () => {
    const { docker, calls } = fakeEngine({});
    await expect(inspectImage(docker, 'corp/absent:1', opts)).rejects.toMatchObject({
      kind: 'image-missing',
      message: expect.stringContaining('never pulls unless --pull'),
    });
    expect(calls.some((c) => c[0] === 'pull')).toBe(false);
    await expect(inspectImage(docker, 'corp/absent:1', { ...opts, pull: true })).rejects.toMatchObject({
      kind: 'image-missing',
      message: expect.stringContaining('cannot pull corp/absent:1'),
    });
    expect(calls.filter((c) => c[0] === 'pull')).toEqual([['pull', 'corp/absent:1']]);
  });

  test('engine error: a failing inspect, or a probe that fails after starting, is reported as such', async () => {
    const broken = fakeEngine({});
    const docker = async (args: readonly string[]) =>
      args[0] === 'image' ? { code: 1, stdout: Buffer.alloc(0), stderr: 'Error response from daemon: i/o timeout' } : broken.docker(args);
    await expect(inspectImage(docker, 'corp/base:1', opts)).rejects.toMatchObject({
      kind: 'engine-error',
      message: expect.stringContaining('i/o timeout'),
    });

    const image = debianLike();
    const probeFails = fakeEngine({ 'corp/base:1': image });
    const failing = async (args: readonly string[]) => {
      const r = await probeFails.docker(args);
      return args[0] === 'run' ? { ...r, code: 2, stderr: 'cat: /etc/passwd: Input/output error' } : r;
    };
    await expect(inspectImage(failing, 'corp/base:1', opts)).rejects.toMatchObject({
      kind: 'engine-error',
      message: expect.stringContaining('Input/output error'),
    });
  });
});
