import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveBaseImage } from '../src/facts/image.js';
import { catalogLookup, parseCatalog } from '../src/facts/organisation.js';
import { ConfigError, loadConfig } from '../src/gather/config.js';
import { factsFileLookup, readFactsFile, writeFactsFile } from '../src/gather/facts-file.js';
import { referenceKey } from '../src/facts/reference.js';
import type { InspectedImage } from '../src/gather/inspect.js';

describe('the organisation catalog (config "images")', () => {
  test('one clear error per bad entry, naming the glob and the field', () => {
    const { problems, entries } = parseCatalog(
      {
        'corp/*': { user: 'bad name!' },
        'corp/slim': { shell: 'no', userCreation: 'apk' },
        'corp/ok/**': { user: 1001, takenUids: [1001] },
        'corp/home': { home: 'relative/path', takenUids: [-1], extra: true },
        'corp/x': 'useradd',
        'corp/noshell': { shell: false, userCreation: 'useradd' },
      },
      '.peak-fix.json',
    );
    expect(problems).toEqual([
      'images["corp/*"].user: expected a name or a UID',
      'images["corp/slim"].shell: expected true or false',
      'images["corp/slim"].userCreation: expected one of useradd, busybox, passwd-file, none, unknown',
      'images["corp/home"].extra: unknown field (allowed: os, shell, userCreation, user, takenUids, takenNames, home, migrated)',
      'images["corp/home"].takenUids: expected a list of UIDs',
      'images["corp/home"].home: expected an absolute path',
      'images["corp/x"]: expected an object with os, shell, userCreation, user, takenUids, takenNames, home, migrated',
      'images["corp/noshell"].userCreation: an image without a shell cannot run useradd: use "none"',
    ]);
    expect(entries.map((e) => e.pattern)).toEqual(['corp/ok/**']);
  });

  test('defaults, UIDs as numbers or strings, names, and the first matching glob wins', () => {
    const { entries, problems } = parseCatalog(
      {
        'registry.corp/platform/python': { user: 'app', userCreation: 'useradd', home: '/home/app' },
        'registry.corp/platform/*': { user: '1001' },
        'registry.corp/slim/**': { shell: false },
      },
      '.peak-fix.json',
    );
    expect(problems).toEqual([]);
    const lookup = catalogLookup(entries);
    expect(lookup('registry.corp/platform/python:3.11')).toMatchObject({
      defaultUser: { name: 'app' },
      userCreation: 'useradd',
      home: '/home/app',
    });
    expect(lookup('registry.corp/platform/node:20')).toMatchObject({
      defaultUser: { uid: 1001 },
      userCreation: 'unknown',
      shell: true,
      os: 'linux',
    });
    expect(lookup('registry.corp/platform/team/node:20')).toBeUndefined(); // `*` stays within one segment
    expect(lookup('registry.corp/slim/a/b:1')).toMatchObject({ shell: false, userCreation: 'none' });
    expect(lookup('registry.corp/platform/node:20')?.source).toEqual({
      kind: 'config',
      ref: '.peak-fix.json images["registry.corp/platform/*"]',
    });
  });

  test('loadConfig reports every bad entry, each with the file, and keeps the options working', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'peak-fix-catalog-'));
    const file = path.join(dir, '.peak-fix.json');
    writeFileSync(file, JSON.stringify({ preset: 'safe', images: { 'corp/*': { user: '' }, 'corp/b': { os: 'mac' } } }));
    await expect(loadConfig(dir)).rejects.toThrow(ConfigError);
    await expect(loadConfig(dir)).rejects.toThrow(
      `${file}: images["corp/*"].user: expected a name or a UID\n${file}: images["corp/b"].os: expected "linux" or "windows"`,
    );
    writeFileSync(file, JSON.stringify({ preset: 'safe', images: { 'corp/*': { user: 1001 } } }));
    const loaded = await loadConfig(dir);
    expect(loaded.options).toEqual({ preset: 'safe' });
    expect(loaded.images?.map((e) => e.pattern)).toEqual(['corp/*']);
  });
});

describe('which source wins', () => {
  const inspected: InspectedImage = {
    reference: 'corp/base:1',
    repository: 'corp/base',
    tag: '1',
    digest: 'sha256:' + 'a'.repeat(64),
    id: 'sha256:' + 'b'.repeat(64),
    engine: '20.10.24',
    inspected: '2026-11-30T12:00:00.000Z',
    facts: { os: 'linux', shell: false, userCreation: 'none', takenUids: [], known: true, source: { kind: 'inspected', ref: '' } },
  };
  const catalog = catalogLookup(parseCatalog({ 'corp/*': { userCreation: 'busybox' }, python: { user: 1001 } }, '.peak-fix.json').entries);
  const file = factsFileLookup([inspected]);
  const lookup = (r: string) => file(r) ?? catalog(r);

  test('the facts file wins for the exact image it was read from (tag or digest), the catalog for the rest', () => {
    expect(resolveBaseImage('corp/base:1', lookup)).toMatchObject({
      family: 'distroless',
      source: { kind: 'inspected', ref: inspected.digest },
    });
    expect(resolveBaseImage(`corp/base@${inspected.digest}`, lookup)).toMatchObject({ family: 'distroless' });
    expect(resolveBaseImage('corp/base:2', lookup)).toMatchObject({ family: 'alpine', source: { kind: 'config' } });
  });

  test('the catalog wins over the built-in table; the built-in table is the fallback', () => {
    expect(resolveBaseImage('python:3.11-slim', lookup)).toMatchObject({
      family: 'unknown',
      defaultUser: '1001',
      source: { kind: 'config' },
    });
    expect(resolveBaseImage('python:3.11-slim')).toMatchObject({ family: 'debian', source: { kind: 'built-in' } });
    expect(resolveBaseImage('node:20', lookup)).toMatchObject({ family: 'debian', takenUids: [1000], source: { kind: 'built-in' } });
  });

  test('references: Docker Hub prefixes, default tag, digests', () => {
    expect(referenceKey('docker.io/library/python')).toEqual({ repository: 'python', tag: 'latest' });
    expect(referenceKey('registry.corp:5000/a/b:1.2')).toEqual({ repository: 'registry.corp:5000/a/b', tag: '1.2' });
    expect(referenceKey('a/b@sha256:abc')).toEqual({ repository: 'a/b', tag: '', digest: 'sha256:abc' });
  });

  test('the facts file: entries replaced by repository and tag, sorted, read back; a broken file is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'peak-fix-facts-'));
    const f = path.join(dir, 'peak-fix-images.json');
    expect(await readFactsFile(f)).toEqual([]);
    await writeFactsFile(f, [], [{ ...inspected, tag: '2' }, inspected]);
    const newer = { ...inspected, engine: '24.0.0' };
    const written = await writeFactsFile(f, await readFactsFile(f), [newer]);
    expect(written.map((e) => `${e.tag} ${e.engine}`)).toEqual(['1 24.0.0', '2 20.10.24']);
    expect(await readFactsFile(f)).toEqual(written);
    writeFileSync(f, JSON.stringify({ images: [{ repository: 'x' }] }));
    await expect(readFactsFile(f)).rejects.toThrow(`${f}: images[0]: expected repository, tag, digest and facts`);
  });
});
