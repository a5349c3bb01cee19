import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { contextDirRequests, contextFileRequests, MAX_CONTEXT_FILE_BYTES, MAX_CONTEXT_FILES } from '../model/context.js';
import { importCommonJs } from '../lazy-import.js';

/**
 * Reads the build-context files a Dockerfile copies in (its server configuration, its entrypoint script) for the
 * engine's `EngineInputs.contextFiles`. The context is taken to be the Dockerfile's directory. Only regular
 * files inside it are read, small ones, never through a link that leads out of it; a copied directory gives its
 * files one level deep. Anything unreadable is left out: the engine then knows less, and says nothing wrong.
 */
export async function readContextFiles(dockerfilePath: string, text: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const requests = contextFileRequests(text);
  if (requests.length === 0) return files;
  let root: string;
  try {
    root = await realpath(path.dirname(dockerfilePath));
  } catch {
    return files;
  }
  const readOne = async (relative: string): Promise<void> => {
    if (files.size >= MAX_CONTEXT_FILES) return;
    const full = path.join(root, relative);
    try {
      const real = await realpath(full);
      if (real !== root && !real.startsWith(root + path.sep)) return;
      const info = await lstat(real);
      if (info.isFile() && info.size <= MAX_CONTEXT_FILE_BYTES) {
        const content = await readFile(real);
        if (!content.includes(0)) files.set(relative, content.toString('utf8'));
      } else if (info.isDirectory() && relative.split('/').length <= 4) {
        const entries = await readdir(real, { withFileTypes: true });
        for (const entry of entries.filter((e) => e.isFile()).slice(0, MAX_CONTEXT_FILES)) await readOne(`${relative}/${entry.name}`);
      }
    } catch {
      // missing or unreadable: left out
    }
  };
  for (const relative of requests) await readOne(relative);
  return files;
}

/** Most entries kept of one listed directory: enough to see a root file system's top level. */
const MAX_DIR_ENTRIES = 256;

/**
 * Lists the build-context directories `contextDirRequests` names, for `EngineInputs.contextDirs`: entry names,
 * directories with a trailing `/`. Same rules as the files: inside the context only, never through a link
 * leading out of it; what cannot be listed is left out.
 */
export async function readContextDirs(dockerfilePath: string, text: string): Promise<Map<string, string[]>> {
  const dirs = new Map<string, string[]>();
  let root: string;
  try {
    root = await realpath(path.dirname(dockerfilePath));
  } catch {
    return dirs;
  }
  for (const relative of contextDirRequests(text)) {
    try {
      const real = await realpath(path.join(root, relative));
      if (real !== root && !real.startsWith(root + path.sep)) continue;
      if (!(await lstat(real)).isDirectory()) continue;
      const entries = await readdir(real, { withFileTypes: true });
      dirs.set(
        relative,
        entries
          .slice(0, MAX_DIR_ENTRIES)
          .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
          .sort(),
      );
    } catch {
      // missing or unreadable: left out
    }
  }
  return dirs;
}

/**
 * The Dockerfile is a GitHub Docker container action's: an `action.yml` (or `.yaml`) in its directory or one of the
 * two above runs it (`runs.using: docker`, `runs.image` naming this file). `known`: the action files a walk saw
 * there, so no directory is probed again. Anything unreadable answers no.
 */
export async function isContainerAction(dockerfilePath: string, known?: readonly string[]): Promise<boolean> {
  for (const file of known ?? actionFilesAbove(dockerfilePath)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined && (await runsDockerfile(text, path.dirname(file), dockerfilePath))) return true;
  }
  return false;
}

/** The names of a GitHub action's metadata file. */
export const ACTION_FILE_NAMES: readonly string[] = ['action.yml', 'action.yaml'];

/** Where an action file may run this Dockerfile from: its directory and the two above it. */
function actionFilesAbove(dockerfilePath: string): string[] {
  const files: string[] = [];
  for (let dir = path.dirname(dockerfilePath), level = 0; level < 3; level++) {
    files.push(...ACTION_FILE_NAMES.map((name) => path.join(dir, name)));
    if (path.dirname(dir) === dir) break;
    dir = path.dirname(dir);
  }
  return files;
}

async function runsDockerfile(actionYaml: string, actionDir: string, dockerfilePath: string): Promise<boolean> {
  const { parse } = await importCommonJs(() => import('yaml'));
  let runs: { using?: unknown; image?: unknown } | undefined;
  try {
    runs = (parse(actionYaml) as { runs?: { using?: unknown; image?: unknown } } | null)?.runs;
  } catch {
    return false;
  }
  if (runs?.using !== 'docker' || typeof runs.image !== 'string' || runs.image.startsWith('docker://')) return false;
  return path.resolve(actionDir, runs.image) === path.resolve(dockerfilePath);
}
