import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCatalog, type CatalogEntry } from '../facts/organisation.js';
import type { FixOptions } from '../index.js';
import { fsError } from '../runner/io.js';

/** A config that cannot be used: one line, naming the file. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const CONFIG_FILE = '.peak-fix.json';
export const PACKAGE_KEY = 'peak-fix';

/** The keys a config may hold, with their JSON types (the same names as the library's FixOptions). */
const KEYS = {
  user: 'string',
  home: 'string',
  uidArg: 'string',
  preset: 'string',
  allStages: 'boolean',
  workdir: 'string',
  force: 'boolean',
} as const satisfies Record<keyof FixOptions, 'string' | 'boolean'>;

/** The organisation's catalog of base images (issue 13). */
const IMAGES_KEY = 'images';

export interface LoadedConfig {
  /** Options as written in the file, checked for keys and types but not yet validated. */
  options: Partial<FixOptions>;
  /** The file they came from (undefined: no config). */
  file?: string;
  /** The organisation's catalog (`images`: repository glob -> facts), validated. */
  images?: CatalogEntry[];
}

/** The options and the `images` catalog of one config object. */
function loaded(value: unknown, where: string, file: string): LoadedConfig {
  const options = checkConfig(value, where);
  const images = (value as Record<string, unknown>).images;
  if (images === undefined) return { options, file };
  const { entries, problems } = parseCatalog(images, path.basename(file));
  // One line per bad entry, each naming the file.
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${where}: ${p}`).join('\n'));
  return { options, file, images: entries };
}

/**
 * Finds the config like prettier: walking up from `cwd`, the first directory holding `.peak-fix.json`, or a
 * package.json with a `"peak-fix"` key, wins (`.peak-fix.json` first within a directory). `explicit` names a
 * file instead (a `.json` file holding the options, or a package.json whose `"peak-fix"` key holds them).
 */
export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`${file}: cannot read config: ${error.code === 'ENOENT' ? 'no such file' : fsError(error).message}`);
    });
    const json = parseJson(file, text);
    if (path.basename(file) === 'package.json') {
      if (!isObject(json) || !(PACKAGE_KEY in json)) throw new ConfigError(`${file}: no "${PACKAGE_KEY}" key`);
      return loaded(json[PACKAGE_KEY], `${file}: "${PACKAGE_KEY}"`, file);
    }
    return loaded(json, file, file);
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const own = path.join(dir, CONFIG_FILE);
    const text = await readOptional(own);
    if (text !== undefined) return loaded(parseJson(own, text), own, own);
    const pkg = path.join(dir, 'package.json');
    const pkgText = await readOptional(pkg);
    if (pkgText !== undefined) {
      const json = parseJson(pkg, pkgText);
      if (isObject(json) && PACKAGE_KEY in json) {
        return loaded(json[PACKAGE_KEY], `${pkg}: "${PACKAGE_KEY}"`, pkg);
      }
    }
    if (path.dirname(dir) === dir) return { options: {} };
  }
}

/** Keys and types only; the values are validated with the CLI flags (validateOptions). */
export function checkConfig(value: unknown, where: string): Partial<FixOptions> {
  if (!isObject(value)) throw new ConfigError(`${where}: the config must be a JSON object`);
  const options: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key === IMAGES_KEY) continue; // the organisation's catalog: validated by parseCatalog
    if (!Object.hasOwn(KEYS, key)) {
      throw new ConfigError(`${where}: unknown key ${JSON.stringify(key)} (allowed: ${[...Object.keys(KEYS), IMAGES_KEY].join(', ')})`);
    }
    const type = KEYS[key as keyof typeof KEYS];
    if (typeof entry !== type) throw new ConfigError(`${where}: ${JSON.stringify(key)} must be a ${type}`);
    options[key] = entry;
  }
  return options as Partial<FixOptions>;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new ConfigError(`${file}: cannot read config: ${fsError(error).message}`);
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigError(`${file}: invalid JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
