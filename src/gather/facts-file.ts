import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FactsLookup } from '../facts/types.js';
import { referenceKey } from '../facts/reference.js';
import type { InspectedImage } from './inspect.js';

/**
 * The facts file, `peak-fix-images.json` beside the config file (or in the working directory): what
 * `peak-fix inspect` and `--inspect-images` read from a Docker engine, keyed by repository, tag and digest, with
 * the engine's version and the date. A team commits it, so every machine (and CI, with no engine) rewrites the
 * same way. For the exact image it was read from, it wins over the organisation's catalog and the built-in table.
 */
export const FACTS_FILE = 'peak-fix-images.json';

/** Where the facts file lives: beside the config file, else in the working directory. */
export function factsFilePath(cwd: string, configFile: string | undefined): string {
  return path.join(configFile ? path.dirname(configFile) : cwd, FACTS_FILE);
}

export class FactsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FactsFileError';
  }
}

interface FactsFileJson {
  $comment?: string;
  images: InspectedImage[];
}

const COMMENT =
  'Written by `peak-fix inspect` / `peak-fix --inspect-images`: facts read from a Docker engine. Commit it; re-run inspect to refresh.';

/** The file's entries; none when it does not exist. */
export async function readFactsFile(file: string): Promise<InspectedImage[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FactsFileError(`${file}: cannot read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new FactsFileError(`${file}: invalid JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const images = (json as Partial<FactsFileJson> | null)?.images;
  if (!Array.isArray(images)) throw new FactsFileError(`${file}: expected { "images": [...] }`);
  images.forEach((entry: unknown, index) => {
    const e = entry as Partial<InspectedImage> | null;
    const f = e?.facts;
    const ok =
      typeof e?.repository === 'string' &&
      typeof e.tag === 'string' &&
      typeof e.digest === 'string' &&
      typeof f === 'object' &&
      f !== null &&
      (f.os === 'linux' || f.os === 'windows') &&
      typeof f.shell === 'boolean' &&
      typeof f.userCreation === 'string' &&
      Array.isArray(f.takenUids);
    if (!ok)
      throw new FactsFileError(
        `${file}: images[${index}]: expected repository, tag, digest and facts { os, shell, userCreation, takenUids }`,
      );
  });
  return images as InspectedImage[];
}

/** Adds (or replaces, by repository and tag) entries and writes the file atomically, sorted so diffs stay small. */
export async function writeFactsFile(
  file: string,
  existing: readonly InspectedImage[],
  added: readonly InspectedImage[],
): Promise<InspectedImage[]> {
  const key = (e: InspectedImage) => `${e.repository}:${e.tag}`;
  const byKey = new Map(existing.map((e) => [key(e), e]));
  for (const entry of added) byKey.set(key(entry), entry);
  const images = [...byKey.values()].sort((a, b) => key(a).localeCompare(key(b)));
  const json: FactsFileJson = { $comment: COMMENT, images };
  // Lists of numbers and names on one line each, so a reviewer sees one line change per fact.
  const text = JSON.stringify(json, null, 2).replace(
    /\[\n\s+([^[\]{}]*?)\n\s*\]/g,
    (_m, inner: string) => `[${inner.split(/,\n\s*/).join(', ')}]`,
  );
  await writeWhole(file, text + '\n');
  return images;
}

/**
 * The facts file is written whole or not at all: a temporary file beside it (O_EXCL, never through a link), every
 * byte written and synced, then renamed over it. A full disk leaves the old file as it was.
 */
async function writeWhole(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Facts for the exact image: by digest when the reference has one, else by repository and tag. */
export function factsFileLookup(entries: readonly InspectedImage[]): FactsLookup {
  return (reference) => {
    const { repository, tag, digest } = referenceKey(reference);
    const entry = digest
      ? entries.find((e) => e.digest === digest || e.id === digest)
      : entries.find((e) => e.repository === repository && e.tag === tag);
    return entry ? { ...entry.facts, source: { kind: 'inspected', ref: entry.digest } } : undefined;
  };
}
