import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The generated catalog of the Docker official images (scripts/catalog/update.js): the files under
 * src/facts/catalog/ are valid and sourced, the committed output is what the build phase makes of the committed
 * evidence, every tag of the evidence looks up to its own facts, and the extract phase reads a Dockerfile right.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CATALOG_DIR = path.join(REPO, 'src/facts/catalog');
const EVIDENCE = path.join(REPO, 'scripts/catalog/evidence/official-images.json');

type Facts = Record<string, unknown>;
interface Source {
  repo?: string;
  path?: string;
  commit?: string;
  line?: number;
  url?: string;
}
interface Rule extends Facts {
  tag: string;
  source: Source;
}
interface Row extends Facts {
  match: string[];
  tags?: Rule[];
  source: Source;
}
interface Catalog {
  rows?: Row[];
  variants?: Array<Facts & { source: Source }>;
  generated?: { by: string; at: string; from: Source[] };
}
interface BuildModule {
  build(evidence: unknown, roots: Catalog[]): { catalog: Catalog; warnings: string[]; resolved: Record<string, Map<string, Facts>> };
  stringify(value: unknown): string;
}
interface RootsModule {
  readRootCatalogs(catalogDir: string): Catalog[];
}
interface LookupModule {
  lookup(rows: Row[], repository: string, tag: string): { facts: Facts; source: Source } | undefined;
  factsKey(facts: Facts): string;
}
interface ExtractModule {
  extract(options: { officialImages: string; repos: string; historyYears?: number; today?: string }): {
    extractedAt: string;
    officialImages: { commit: string };
    images: Record<
      string,
      { status: string; entries: Array<{ tags: string[]; source: Source; unavailable?: string; facts?: Record<string, unknown> }> }
    >;
  };
}

// The generator is plain JavaScript run by node: load it by path, typed here by what the tests use.
const load = async <T>(file: string): Promise<T> => (await import(path.join(REPO, 'scripts/catalog', file))) as T;

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function catalogFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? catalogFiles(full) : name.endsWith('.json') ? [full] : [];
    })
    .sort();
}

type AjvLike = {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
};
const AjvClass = ((Ajv as unknown as { default?: unknown }).default ?? Ajv) as unknown as new (options: object) => AjvLike;

describe('src/facts/catalog', () => {
  const schema = readJson<object>(path.join(REPO, 'src/facts/catalog.schema.json'));
  const validate = new AjvClass({ allErrors: true }).compile(schema);
  const files = catalogFiles(CATALOG_DIR);

  test('holds the generated official images and the hand-written distributions', () => {
    const names = files.map((f) => path.relative(CATALOG_DIR, f));
    expect(names).toContain('official-images.json');
    expect(names).toContain('distributions.json');
  });

  test.each(files.map((f) => [path.relative(REPO, f), f]))('%s validates against the schema, every row and rule sourced', (_name, file) => {
    const document = readJson<Catalog>(file);
    const ok = validate(document);
    expect(ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`)).toEqual([]);
    for (const row of document.rows ?? []) {
      expect(row.source).toBeDefined();
      for (const rule of row.tags ?? []) {
        expect(rule.source).toBeDefined();
        expect(() => new RegExp(rule.tag)).not.toThrow();
      }
    }
    for (const variant of document.variants ?? []) expect(variant.source).toBeDefined();
  });

  test('no repository is matched exactly by two files', () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const file of files) {
      for (const row of readJson<Catalog>(file).rows ?? []) {
        for (const name of row.match) {
          if (seen.has(name)) clashes.push(`${name}: ${seen.get(name)} and ${path.basename(file)}`);
          seen.set(name, path.basename(file));
        }
      }
    }
    expect(clashes).toEqual([]);
  });
});

describe('the build phase', () => {
  const evidence = readJson<{ extractedAt: string; officialImages: { commit: string } }>(EVIDENCE);
  let distributions: Catalog[] = [];
  beforeAll(async () => {
    distributions = (await load<RootsModule>('roots.js')).readRootCatalogs(CATALOG_DIR);
  });
  const committed = readFileSync(path.join(CATALOG_DIR, 'official-images.json'), 'utf8');

  test('makes the committed official-images.json of the committed evidence, byte for byte', async () => {
    const { build, stringify } = await load<BuildModule>('build.js');
    const { catalog } = build(evidence, distributions);
    expect(stringify(catalog)).toBe(committed);
    expect(catalog.generated?.at).toBe(evidence.extractedAt);
    expect(catalog.generated?.from.some((s) => s.commit === evidence.officialImages.commit)).toBe(true);
  });

  test('is deterministic', async () => {
    const { build, stringify } = await load<BuildModule>('build.js');
    expect(stringify(build(evidence, distributions).catalog)).toBe(stringify(build(evidence, distributions).catalog));
  });

  test('every tag of every entry in the evidence looks up to that entry’s facts', async () => {
    const { build } = await load<BuildModule>('build.js');
    const { lookup, factsKey } = await load<LookupModule>('lookup.js');
    const { resolved } = build(evidence, distributions);
    const rows = (JSON.parse(committed) as Catalog).rows ?? [];
    const wrong: string[] = [];
    let tags = 0;
    for (const [image, byTag] of Object.entries(resolved)) {
      for (const [tag, facts] of byTag) {
        tags++;
        const found = lookup(rows, image, tag);
        if (!found) wrong.push(`${image}:${tag}: no row`);
        else if (factsKey(found.facts) !== factsKey(facts))
          wrong.push(`${image}:${tag}: ${factsKey(found.facts)} instead of ${factsKey(facts)}`);
      }
    }
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(tags).toBeGreaterThan(1000);
  });

  test('follows FROM through other official images down to a distribution', async () => {
    const { lookup } = await load<LookupModule>('lookup.js');
    const rows = (JSON.parse(committed) as Catalog).rows ?? [];
    // memcached: its Dockerfile ends USER memcache, created with UID 11211
    expect(lookup(rows, 'memcached', 'latest')?.facts).toMatchObject({
      kind: 'debian',
      user: { name: 'memcache', uid: 11211 },
      takenUids: [11211],
    });
    // node creates node 1000 on Debian and on Alpine alike
    expect(lookup(rows, 'node', '22-alpine')?.facts).toMatchObject({ kind: 'alpine', takenUids: [1000], takenNames: ['node'] });
    expect(lookup(rows, 'node', '18-bullseye-slim')?.facts).toMatchObject({ kind: 'debian', takenUids: [1000] });
    // Windows variants
    expect(lookup(rows, 'python', '3.12-windowsservercore-ltsc2022')?.facts.kind).toBe('windows');
  });
});

describe('the extract phase', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'peak-fix-catalog-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const git = (dir: string, ...args: string[]): string =>
    execFileSync(
      'git',
      ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_AUTHOR_DATE: '2026-01-02T00:00:00Z',
          GIT_COMMITTER_DATE: '2026-01-02T00:00:00Z',
        },
      },
    ).trim();
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };

  test('records the facts of each entry’s Dockerfile, with their lines, and the build resolves them', async () => {
    // the image repository, as fetch leaves it: <repos>/<owner>+<name>/repo
    const images = path.join(tmp, 'repos', 'example+images', 'repo');
    mkdirSync(images, { recursive: true });
    git(images, 'init', '-q');
    write(
      path.join(images, 'base/Dockerfile'),
      [
        'ARG DEBIAN=debian:bookworm-slim', // 1
        'FROM ${DEBIAN} AS build', // 2
        'RUN echo build', // 3
        'FROM build', // 4
        'ENV APP_UID=999', // 5
        'RUN set -eux; \\', // 6
        '# the app user', // 7
        '    groupadd --system --gid "$APP_UID" app; \\', // 8
        '    useradd --system --uid "$APP_UID" --gid app --home-dir /srv/app app; \\', // 9
        '    apt-get update', // 10
        'USER app', // 11
        '',
      ].join('\n'),
    );
    write(
      path.join(images, 'child/Dockerfile'),
      ['FROM fakebase:1.0', 'USER root', 'RUN apt-get install -y curl', 'USER 999:999', ''].join('\n'),
    );
    git(images, 'add', '-A');
    git(images, 'commit', '-q', '-m', 'images');
    const commit = git(images, 'rev-parse', 'HEAD');

    // official-images with a library file per image
    const oi = path.join(tmp, 'official-images');
    mkdirSync(oi, { recursive: true });
    git(oi, 'init', '-q');
    write(
      path.join(oi, 'library/fakebase'),
      `Maintainers: Test <test@example.invalid> (@test)\nGitRepo: https://github.com/example/images.git\n\nTags: 1.0, 1, latest\nGitCommit: ${commit}\nDirectory: base\n`,
    );
    write(
      path.join(oi, 'library/fakechild'),
      `Maintainers: Test <test@example.invalid> (@test)\nGitRepo: https://github.com/example/images.git\nGitCommit: ${commit}\n\nTags: 2.0, latest\nDirectory: child\n\nTags: 2.0-missing\nGitCommit: 0123456789012345678901234567890123456789\nDirectory: child\n`,
    );
    git(oi, 'add', '-A');
    git(oi, 'commit', '-q', '-m', 'library');

    const { extract } = await load<ExtractModule>('extract.js');
    const evidence = extract({ officialImages: oi, repos: path.join(tmp, 'repos'), today: '2026-01-02' });
    expect(evidence.extractedAt).toBe('2026-01-02');
    expect(evidence.officialImages.commit).toBe(git(oi, 'rev-parse', 'HEAD'));

    const base = evidence.images.fakebase.entries;
    expect(base).toHaveLength(1);
    expect(base[0].tags).toEqual(['1.0', '1', 'latest']);
    expect(base[0].source).toEqual({ repo: 'example/images', path: 'base/Dockerfile', commit });
    expect(base[0].facts).toEqual({
      from: { image: 'debian:bookworm-slim', line: 2 },
      user: { value: 'app', line: 11 },
      users: [{ name: 'app', uid: 999, home: '/srv/app', line: 9, via: 'useradd' }],
      groups: [{ name: 'app', gid: 999, line: 8, via: 'groupadd' }],
      packageManagers: [{ name: 'apt', line: 10 }],
    });

    const child = evidence.images.fakechild.entries;
    expect(child[0].facts).toEqual({
      from: { image: 'fakebase:1.0', line: 1 },
      user: { value: '999:999', line: 4 },
      packageManagers: [{ name: 'apt', line: 3 }],
    });
    // a commit the snapshot does not hold: recorded, without facts
    expect(child[1].tags).toEqual(['2.0-missing']);
    expect(child[1].facts).toBeUndefined();
    expect(child[1].unavailable).toMatch(/not in the snapshot/);

    // the build follows fakechild -> fakebase -> debian (distributions.json)
    const { build } = await load<BuildModule>('build.js');
    const { lookup } = await load<LookupModule>('lookup.js');
    const roots = (await load<RootsModule>('roots.js')).readRootCatalogs(CATALOG_DIR);
    const { catalog } = build(evidence, roots);
    const rows = catalog.rows ?? [];
    expect(lookup(rows, 'fakebase', '')?.facts).toEqual({
      kind: 'debian',
      packageManager: 'apt',
      user: { name: 'app', uid: 999 },
      home: '/srv/app',
      takenUids: [999],
      takenNames: ['app'],
    });
    expect(lookup(rows, 'fakechild', '2.0')?.facts).toEqual({
      kind: 'debian',
      packageManager: 'apt',
      user: { uid: 999 },
      takenUids: [999],
      takenNames: ['app'],
    });
    expect(lookup(rows, 'fakechild', '2.0')?.source).toEqual({ repo: 'example/images', path: 'child/Dockerfile', commit, line: 4 });
  });
});

describe('peak-fix reads the generated catalog as the generator meant it', () => {
  const evidence = readJson<object>(EVIDENCE);

  test('every tag of every entry in the evidence gets that entry’s facts from builtInCatalogFacts', async () => {
    const { builtInCatalogFacts, KINDS } = await import('../src/facts/builtin.js');
    const { build } = await load<BuildModule>('build.js');
    const distributions = (await load<RootsModule>('roots.js')).readRootCatalogs(CATALOG_DIR);
    const { resolved } = build(evidence, distributions);
    const wrong: string[] = [];
    let tags = 0;
    for (const [image, byTag] of Object.entries(resolved)) {
      for (const [tag, expected] of byTag) {
        tags++;
        const facts = builtInCatalogFacts(`${image}:${tag}`);
        const kind = KINDS[expected.kind as keyof typeof KINDS];
        const user = expected.user as { name?: string; uid?: number } | undefined;
        const got = {
          family: facts?.family,
          userCreation: facts?.userCreation,
          user: facts?.defaultUser,
          takenUids: facts?.takenUids ?? [],
        };
        const want = {
          family: kind.family,
          userCreation: kind.userCreation,
          user: kind.os === 'windows' ? undefined : user,
          takenUids: kind.os === 'windows' ? [] : ((expected.takenUids as number[] | undefined) ?? []),
        };
        if (JSON.stringify(got) !== JSON.stringify(want))
          wrong.push(`${image}:${tag}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
      }
    }
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(tags).toBeGreaterThan(1000);
  });

  test('docs/catalog.md is what npm run catalog:docs writes', async () => {
    const { catalogFiles, CATALOG_FILE_NAMES } = await import('../src/facts/catalog/index.js');
    const { sourceUrl } = await import('../src/facts/builtin.js');
    const { renderCatalogDocs } = await load<{ renderCatalogDocs: (...args: unknown[]) => string }>('docs.js');
    const expected = renderCatalogDocs(catalogFiles(), CATALOG_FILE_NAMES, sourceUrl);
    expect(readFileSync(path.join(REPO, 'docs/catalog.md'), 'utf8')).toBe(expected);
  });
});
