import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import { importCommonJs } from '../lazy-import.js';
import { scriptImages } from './build-scripts.js';

/**
 * Images the organisation builds itself: which Dockerfile produces which image, learned from compose files
 * (`build` + `image`), bake files (HCL or JSON: a target's `context`, `dockerfile` and `tags`) and the `docker build`
 * commands of Makefiles and package.json scripts (build-scripts.ts). A run that
 * migrates both an image and the images built FROM it uses this to keep the children's own steps running as root.
 */
export interface BuiltImage {
  /** The image reference as the file names it (variables replaced by their defaults); empty when it names none. */
  image: string;
  /** Absolute path of the Dockerfile that builds it. */
  dockerfile: string;
  /** Where it was learned: `compose.yaml services.api`, `docker-bake.hcl target.base`. */
  origin: string;
  /** The build stage it stops at (compose `build.target`, bake `target`), when one is named. */
  stage?: string;
}

const COMPOSE = ['**/compose.y?(a)ml', '**/compose.*.y?(a)ml', '**/docker-compose.y?(a)ml', '**/docker-compose.*.y?(a)ml'];
const BAKE = ['**/docker-bake.hcl', '**/docker-bake.*.hcl', '**/docker-bake.json', '**/docker-bake.*.json'];
const SCRIPTS = ['**/Makefile', '**/GNUmakefile', '**/*.mk', '**/package.json'];

/**
 * Every compose, bake and build-script file under `roots`: the images they build (`images`, those that name one) and every build
 * of a Dockerfile (`builds`, with the stage it stops at). Files that cannot be read or parsed are reported, not fatal.
 */
export async function findBuiltImages(
  roots: readonly string[],
  cwd: string,
): Promise<{ images: BuiltImage[]; builds: BuiltImage[]; problems: string[] }> {
  const images: BuiltImage[] = [];
  const problems: string[] = [];
  const files = new Set<string>();
  for (const root of roots) {
    for (const file of await fg([...COMPOSE, ...BAKE, ...SCRIPTS], {
      cwd: root,
      absolute: true,
      ignore: ['**/node_modules/**', '**/.git/**'],
      caseSensitiveMatch: false,
    })) {
      files.add(path.normalize(file));
    }
  }
  for (const file of [...files].sort()) {
    const shown = path.relative(cwd, file) || file;
    try {
      const text = await readFile(file, 'utf8');
      const base = path.basename(file).toLowerCase();
      if (base.startsWith('docker-bake')) images.push(...(await bakeImages(file, shown, text)));
      else if (base.includes('compose')) images.push(...(await composeImages(file, shown, text)));
      else if (/build/.test(text)) images.push(...scriptImages(file, shown, text));
    } catch (error) {
      problems.push(`${shown}: cannot read the images it builds: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { images: images.filter((i) => i.image !== ''), builds: images, problems };
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`: the default (or the known value); undefined when none is known. */
function interpolate(text: string, known: ReadonlyMap<string, string> = new Map()): string | undefined {
  let unresolved = false;
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, fallback, bare) => {
    const name = (braced ?? bare) as string;
    const value = known.get(name) ?? (fallback as string | undefined);
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  return unresolved ? undefined : out;
}

/** `${REPO}/app:${SHA}` where only the tag has no value: the repository alone, which any tag of it matches. */
function repositoryOnly(tag: string, variables: ReadonlyMap<string, string>): string | undefined {
  const repository = /^(.*):\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.exec(tag)?.[1];
  return repository === undefined || repository.includes(':') ? undefined : interpolate(repository, variables);
}

export async function composeImages(file: string, shown: string, text: string): Promise<BuiltImage[]> {
  // Only repositories with a compose file load the YAML parser (a quarter of the CLI's code otherwise).
  const { parse: parseYaml } = await importCommonJs(() => import('yaml'));
  const doc = parseYaml(text) as { services?: Record<string, { build?: unknown; image?: unknown } | null> } | null;
  const images: BuiltImage[] = [];
  for (const [service, spec] of Object.entries(doc?.services ?? {})) {
    if (!spec || spec.build === undefined) continue;
    const build =
      typeof spec.build === 'string'
        ? { context: spec.build }
        : (spec.build as { context?: unknown; dockerfile?: unknown; target?: unknown });
    const context = interpolate(typeof build.context === 'string' ? build.context : '.');
    const dockerfile = interpolate(typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile');
    const image = typeof spec.image === 'string' ? interpolate(spec.image) : '';
    // A remote context (git URL) builds no Dockerfile of this tree.
    if (context === undefined || dockerfile === undefined || image === undefined || /^[a-z]+:\/\/|^git@/.test(context)) continue;
    images.push({
      image,
      dockerfile: path.resolve(path.dirname(file), context, dockerfile),
      origin: `${shown} services.${service}`,
      ...(typeof build.target === 'string' ? { stage: build.target } : {}),
    });
  }
  return images;
}

interface BakeTarget {
  context?: string;
  dockerfile?: string;
  tags?: string[];
  inherits?: string[];
  target?: string;
}

/** Bake HCL is converted to JSON by HashiCorp's own parser (compiled to WebAssembly); the JSON form is read as it is. */
/**
 * HCL bake files through @cdktf/hcl2json, imported only when there is one: on import it inflates and starts a Go
 * WebAssembly runtime (about 0.3 s of CPU, measured), which every other run would pay for nothing.
 */
async function parseHcl(filename: string, text: string): Promise<unknown> {
  const { parse } = await importCommonJs(() => import('@cdktf/hcl2json'));
  return parse(filename, text);
}

export async function bakeImages(file: string, shown: string, text: string): Promise<BuiltImage[]> {
  const json = (file.toLowerCase().endsWith('.hcl') ? await parseHcl(path.basename(file), text) : JSON.parse(text)) as {
    variable?: Record<string, unknown>;
    target?: Record<string, unknown>;
  };
  // HCL blocks come out as arrays of bodies; the JSON form has the bodies directly.
  const body = <T>(value: unknown): T => (Array.isArray(value) ? (value[0] as T) : (value as T));
  const variables = new Map<string, string>();
  for (const [name, value] of Object.entries(json.variable ?? {})) {
    const def = body<{ default?: unknown }>(value)?.default;
    if (def !== undefined && def !== null) variables.set(name, String(def));
  }
  const targets = new Map(Object.entries(json.target ?? {}).map(([name, value]) => [name, body<BakeTarget>(value) ?? {}]));
  const resolved = (name: string, seen = new Set<string>()): BakeTarget => {
    const own = targets.get(name) ?? {};
    if (seen.has(name)) return own;
    seen.add(name);
    let merged: BakeTarget = {};
    for (const parent of own.inherits ?? []) merged = { ...merged, ...resolved(parent, seen) };
    return { ...merged, ...own };
  };
  const images: BuiltImage[] = [];
  for (const name of targets.keys()) {
    const target = resolved(name);
    const context = interpolate(target.context ?? '.', variables);
    const dockerfile = interpolate(target.dockerfile ?? 'Dockerfile', variables);
    if (context === undefined || dockerfile === undefined || /^[a-z]+:\/\/|^git@/.test(context)) continue;
    for (const tag of target.tags ?? []) {
      const image = interpolate(tag, variables) ?? repositoryOnly(tag, variables);
      if (image === undefined) continue;
      images.push({
        image,
        dockerfile: path.resolve(path.dirname(file), context, dockerfile),
        origin: `${shown} target.${name}`,
        ...(target.target ? { stage: target.target } : {}),
      });
    }
  }
  return images;
}
