import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { describeKind, fsError } from './io.js';
import { ACTION_FILE_NAMES } from './context-io.js';

/** A `.gitignore` that exists but cannot be read: the files it governs are not processed. */
export class GitignoreError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`cannot read .gitignore: ${reason}`);
    this.name = 'GitignoreError';
  }
}

/** fast-glob (with micromatch, a third of the CLI's code) is loaded only when an input is not a path. */
async function fastGlob(): Promise<typeof import('fast-glob')> {
  return (await import('fast-glob')).default;
}

/**
 * Directories a walk does not enter: dependencies and git's own, and what is never deployed (test fixtures, test
 * images, dev containers, CI configuration with its container actions, ClusterFuzzLite's fuzzing build, Cursor's
 * agent environment), whose pull-request changes their owners would only revert. Named on the command line, such a
 * directory is processed like any other.
 */
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
const NOT_DEPLOYED_DIRS = new Set([
  '.devcontainer',
  '.github',
  '.cursor',
  '.clusterfuzzlite',
  'test',
  'tests',
  '__tests__',
  'testdata',
  'fixtures',
]);
/** Files a walk passes over for the same reason: Gitpod's workspace image (`.gitpod.yml` names it). */
const NOT_DEPLOYED_FILES = new Set(['.gitpod.dockerfile']);

/**
 * `Dockerfile`, `Containerfile`, `Dockerfile.<anything>`, `<anything>.Dockerfile`, case-insensitively;
 * not BuildKit's per-Dockerfile ignore files (`Dockerfile.dockerignore`, `app.Dockerfile.dockerignore`).
 */
export function isDockerfileName(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower.endsWith('.dockerignore')) return false;
  return (
    lower === 'dockerfile' ||
    lower === 'containerfile' ||
    (lower.startsWith('dockerfile.') && lower.length > 'dockerfile.'.length) ||
    (lower.endsWith('.dockerfile') && lower.length > '.dockerfile'.length)
  );
}

/** One file to process, or one input that already failed. */
export interface Target {
  /** As shown to the user: relative to the cwd when inside it, else absolute. */
  path: string;
  /** Absolute path as found (may be or go through a symbolic link). */
  absPath: string;
  /** The file to read and write: the link's target when `absPath` is a symbolic link, else `absPath`. */
  realPath: string;
  /**
   * Found by a walk: the `action.yml`/`action.yaml` files of its directory and the two above it (a GitHub container
   * action may run it), seen in the listings the walk read anyway. Undefined when no walk found the file.
   */
  actionFiles?: string[];
  /** Set when the input cannot be processed at all (missing path...). */
  error?: string;
  /** Set when the file is deliberately left alone (a link out of the tree...). */
  skipped?: string;
  /** The last component is a symbolic link (or a directory link on the way). */
  link: boolean;
  /** `dev:ino` of the file, when it could be stat'ed: hard links share it. */
  fileId?: string;
}

export interface Discovery {
  /** Sorted by `path`, one entry per real file. */
  targets: Target[];
  /** Things worth saying that are not errors (a directory without Dockerfiles...). */
  notices: string[];
  /**
   * Inputs that matched no file (a glob matching nothing, a directory without Dockerfiles): the runner makes
   * them errors when they were given on the command line, notices otherwise.
   */
  unmatched: { input: string; shown: string; absPath: string; reason: string }[];
}

/**
 * Expands inputs (files, directories, globs) into targets. Directories are walked for Dockerfile names,
 * honouring `.gitignore` files (nested ones too, and those of parent directories up to the repository's
 * root) and skipping SKIPPED_DIRS and NOT_DEPLOYED_DIRS; symbolic links to directories are not followed. Glob matches
 * honour `.gitignore` too; files named explicitly are always processed. The same real file reached twice is
 * kept once.
 */
export async function discover(inputs: readonly string[], cwd: string): Promise<Discovery> {
  const notices: string[] = [];
  const unmatched: Discovery['unmatched'] = [];
  const found: Target[] = [];
  const ignores = new IgnoreChecker();
  const cwdReal = await realpath(cwd).catch(() => path.resolve(cwd));

  for (const input of inputs) {
    const absPath = path.resolve(cwd, input);
    let info;
    try {
      info = await stat(absPath);
    } catch (error) {
      const linkInfo = await lstat(absPath).catch(() => undefined);
      if (!linkInfo && (await fastGlob()).isDynamicPattern(input)) {
        const matches = await globFiles(input, cwd, ignores, found);
        if (matches.length === 0) {
          unmatched.push({ input, shown: input, absPath, reason: 'no files match this pattern' });
        }
        for (const match of matches) found.push(await fileTarget(match, cwd, cwdReal));
        continue;
      }
      const reason = linkInfo?.isSymbolicLink() ? 'broken symbolic link' : fsError(error).message;
      found.push({ path: display(absPath, cwd), absPath, realPath: absPath, link: Boolean(linkInfo), error: reason });
      continue;
    }
    if (info.isDirectory()) {
      const root = await realpath(absPath).catch(() => absPath);
      if (inside(absPath, cwd) && !inside(root, cwdReal)) {
        const shown = display(absPath, cwd) || '.';
        const skipped = `reached through a symbolic link to ${root}, outside ${cwdReal}: not followed`;
        found.push({ path: shown, absPath, realPath: root, link: true, skipped });
        continue;
      }
      const before = found.length;
      await walk(absPath, { top: absPath, real: root }, ignores, cwd, found);
      if (found.length === before) {
        unmatched.push({ input, shown: display(absPath, cwd) || '.', absPath, reason: 'no Dockerfiles found' });
      }
      continue;
    }
    found.push(await fileTarget(absPath, cwd, cwdReal));
  }
  return { targets: dedupe(await identify(found), notices), notices, unmatched };
}

/** A file named explicitly or matched by a glob: a link is followed when it stays in the cwd's tree. */
async function fileTarget(absPath: string, cwd: string, cwdReal: string): Promise<Target> {
  const shown = display(absPath, cwd);
  const linkInfo = await lstat(absPath).catch(() => undefined);
  if (!linkInfo?.isSymbolicLink()) {
    const realPath = await realpath(absPath).catch(() => absPath);
    // `linkdir/Dockerfile`: a directory link on the way must not lead out of the tree either.
    if (inside(absPath, cwd) && !inside(realPath, cwdReal)) {
      return {
        path: shown,
        absPath,
        realPath,
        link: true,
        skipped: `reached through a symbolic link to ${realPath}, outside ${cwdReal}: not followed`,
      };
    }
    return { path: shown, absPath, realPath, link: false };
  }
  // A link outside the cwd is judged against its own directory.
  const root = inside(absPath, cwd) ? cwdReal : await realpath(path.dirname(absPath)).catch(() => path.dirname(absPath));
  return linkTarget(absPath, shown, root);
}

async function linkTarget(absPath: string, shown: string, root: string): Promise<Target> {
  const target = await realpath(absPath).catch(() => undefined);
  if (target === undefined) return { path: shown, absPath, realPath: absPath, link: true, skipped: 'broken symbolic link' };
  if (!inside(target, root)) {
    return {
      path: shown,
      absPath,
      realPath: target,
      link: true,
      skipped: `symbolic link to ${target}, outside ${root}: not followed`,
    };
  }
  return { path: shown, absPath, realPath: target, link: true };
}

/** `top` is the named directory as given (for .gitignore paths), `real` its real path (for links). */
interface Tree {
  top: string;
  real: string;
}

const ACTION_FILES = new Set(ACTION_FILE_NAMES);

/** `above`: the action files of the directories above `dir` within the walk, nearest last. */
async function walk(dir: string, tree: Tree, ignores: IgnoreChecker, cwd: string, out: Target[], above: string[][] = []): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const absPath = dir;
    out.push({ path: display(absPath, cwd) || '.', absPath, realPath: absPath, link: false, error: fsError(error).message });
    return;
  }
  entries.sort((a, b) => compare(a.name, b.name));
  const own = entries.filter((e) => ACTION_FILES.has(e.name) && !e.isDirectory()).map((e) => path.join(dir, e.name));
  const actionFiles = [...own, ...above.slice(-2).flat()];
  for (const entry of entries) {
    const absPath = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name) || NOT_DEPLOYED_DIRS.has(entry.name)) continue;
      if (await ignoredOrFailed(ignores, absPath, true, tree.top, cwd, out)) continue;
      await walk(absPath, tree, ignores, cwd, out, [...above.slice(-1), own]);
      continue;
    }
    if (!isDockerfileName(entry.name) || NOT_DEPLOYED_FILES.has(entry.name.toLowerCase())) continue;
    if (await ignoredOrFailed(ignores, absPath, false, tree.top, cwd, out)) continue;
    if (entry.isSymbolicLink()) {
      const info = await stat(absPath).catch(() => undefined);
      if (info?.isDirectory()) continue; // links to directories are not followed
      out.push(await linkTarget(absPath, display(absPath, cwd), tree.real));
      continue;
    }
    if (entry.isFile()) {
      const realPath = path.join(tree.real, path.relative(tree.top, absPath));
      out.push({ path: display(absPath, cwd), absPath, realPath, link: false, actionFiles });
    }
    // FIFOs, sockets and devices with a Dockerfile's name are not picked up by a walk.
  }
}

/**
 * Whether `absPath` is ignored; when a `.gitignore` on the way cannot be read, an error target naming it is
 * added (once: targets with the same error path are merged) and the path is treated as not to be processed.
 */
async function ignoredOrFailed(
  ignores: IgnoreChecker,
  absPath: string,
  isDir: boolean,
  root: string,
  cwd: string,
  out: Target[],
): Promise<boolean> {
  try {
    return await ignores.ignored(absPath, isDir, root);
  } catch (error) {
    if (!(error instanceof GitignoreError)) throw error;
    out.push({ path: display(error.file, cwd), absPath: error.file, realPath: error.file, link: false, error: error.message });
    return true;
  }
}

async function globFiles(pattern: string, cwd: string, ignores: IgnoreChecker, out: Target[]): Promise<string[]> {
  const fg = await fastGlob();
  const entries = await fg(pattern, {
    cwd,
    absolute: true,
    dot: true,
    onlyFiles: false,
    markDirectories: true,
    followSymbolicLinks: false,
    unique: true,
    // As a walk does, unless the pattern names the directory itself (`tests/**/Dockerfile`).
    ignore: [...SKIPPED_DIRS, ...[...NOT_DEPLOYED_DIRS].filter((dir) => !pattern.split('/').includes(dir))].map((dir) => `**/${dir}/**`),
  });
  const files: string[] = [];
  const skipsNotDeployedFiles = !NOT_DEPLOYED_FILES.has(path.basename(pattern).toLowerCase());
  for (const entry of entries) {
    if (entry.endsWith('/')) continue;
    if (skipsNotDeployedFiles && NOT_DEPLOYED_FILES.has(path.basename(entry).toLowerCase())) continue;
    const absPath = path.resolve(entry);
    const info = await stat(absPath).catch(() => undefined);
    if (info?.isDirectory()) continue;
    if (await ignoredOrFailed(ignores, absPath, false, cwd, cwd, out)) continue;
    files.push(absPath);
  }
  return files;
}

/** Sets each readable target's file identity (device and inode), which hard links share. */
async function identify(targets: Target[]): Promise<Target[]> {
  return Promise.all(
    targets.map(async (target) => {
      if (target.error !== undefined || target.skipped !== undefined) return target;
      const info = await stat(target.realPath).catch(() => undefined);
      return info ? { ...target, fileId: `${info.dev}:${info.ino}` } : target;
    }),
  );
}

/**
 * One entry per real file: a path without links wins over one through a link, then the first by path. Hard
 * links to one file are one file too: it is processed once (and a write refuses it, since a rename would
 * split the links), and a notice names the other paths.
 */
function dedupe(targets: Target[], notices: string[]): Target[] {
  const indirect = (t: Target): number => Number(t.absPath !== t.realPath);
  const ordered = [...targets].sort((a, b) => indirect(a) - indirect(b) || compare(a.path, b.path));
  const seen = new Map<string, Target>();
  const kept: Target[] = [];
  for (const target of ordered) {
    const key = target.error ? `error:${target.absPath}` : target.realPath;
    const id = target.fileId;
    if (seen.has(key)) continue;
    if (id !== undefined && seen.has(id)) {
      const first = seen.get(id) as Target;
      if (target.realPath !== first.realPath) notices.push(`${target.path}: hard link to ${first.path}, processed once as ${first.path}`);
      continue;
    }
    seen.set(key, target);
    if (id !== undefined) seen.set(id, target);
    kept.push(target);
  }
  return kept.sort((a, b) => compare(a.path, b.path));
}

/** Code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function display(absPath: string, cwd: string): string {
  const relative = path.relative(cwd, absPath);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absPath : relative;
}

function inside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..' + path.sep) && relative !== '..' && !path.isAbsolute(relative));
}

/**
 * `.gitignore` rules as git applies them: every `.gitignore` from the repository's root (the nearest
 * directory above the tree holding `.git`, else the tree's root) down to the file's directory, deeper files
 * winning, and nothing inside an ignored directory coming back. The tree's root itself (a directory named on
 * the command line, or the cwd for globs) is never considered ignored.
 */
class IgnoreChecker {
  private readonly files = new Map<string, Promise<Ignore | undefined>>();
  private readonly dirs = new Map<string, Promise<boolean>>();
  private readonly bases = new Map<string, Promise<string>>();

  async ignored(absPath: string, isDir: boolean, treeRoot: string): Promise<boolean> {
    const root = inside(absPath, treeRoot) ? treeRoot : path.dirname(absPath);
    const base = await this.base(root);
    const parent = path.dirname(absPath);
    if (parent !== root && inside(parent, root) && (await this.dirIgnored(parent, root, base))) return true;
    return this.matches(absPath, isDir, base);
  }

  private dirIgnored(dir: string, root: string, base: string): Promise<boolean> {
    const key = `${root}\0${dir}`;
    let cached = this.dirs.get(key);
    if (!cached) {
      cached = (async () => {
        const parent = path.dirname(dir);
        if (parent !== root && inside(parent, root) && (await this.dirIgnored(parent, root, base))) return true;
        return this.matches(dir, true, base);
      })();
      this.dirs.set(key, cached);
    }
    return cached;
  }

  private async matches(absPath: string, isDir: boolean, base: string): Promise<boolean> {
    const chain: string[] = [];
    for (let dir = path.dirname(absPath); ; dir = path.dirname(dir)) {
      chain.push(dir);
      if (dir === base || path.dirname(dir) === dir) break;
    }
    let ignored = false;
    for (const from of chain.reverse()) {
      const rules = await this.rules(from);
      if (!rules) continue;
      const relative = path.relative(from, absPath).split(path.sep).join('/') + (isDir ? '/' : '');
      const verdict = rules.test(relative);
      if (verdict.ignored) ignored = true;
      else if (verdict.unignored) ignored = false;
    }
    return ignored;
  }

  /**
   * The rules of `dir/.gitignore`; none when there is no such file. One that exists but cannot be read is an
   * error (GitignoreError): going on without it could rewrite files the repository means to ignore.
   */
  private rules(dir: string): Promise<Ignore | undefined> {
    let cached = this.files.get(dir);
    if (!cached) {
      // Most directories have no .gitignore: a failed stat would build (and throw away) an error with a stack
      // trace for each, a third of discovery's CPU time on a tree of 20,000 directories.
      const file = path.join(dir, '.gitignore');
      cached = (async () => {
        // lstat without an exception for the usual missing file; a link that leads nowhere (a loop) is still seen.
        if (lstatSync(file, { throwIfNoEntry: false }) === undefined) return undefined;
        const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
          throw new GitignoreError(file, fsError(error).message);
        });
        if (info === undefined) return undefined;
        // A FIFO would block the read forever, a directory has no rules to read.
        if (!info.isFile()) throw new GitignoreError(file, `not a regular file (${describeKind(info)})`);
        const text = await readFile(file, 'utf8').catch((error: unknown) => {
          throw new GitignoreError(file, fsError(error).message);
        });
        return ignore().add(text);
      })();
      this.files.set(dir, cached);
    }
    return cached;
  }

  /**
   * Where the rules start: the repository's root at or above `root` (the nearest directory with a `.git`
   * entry), else `root`. When git ignores `root` itself (a directory named on the command line), only the
   * `.gitignore` files inside it apply.
   */
  private base(root: string): Promise<string> {
    let cached = this.bases.get(root);
    if (cached === undefined) {
      cached = (async () => {
        for (let dir = root; ; dir = path.dirname(dir)) {
          if (existsSync(path.join(dir, '.git'))) {
            return dir !== root && (await this.matches(root, true, dir)) ? root : dir;
          }
          if (path.dirname(dir) === dir) return root;
        }
      })();
      this.bases.set(root, cached);
    }
    return cached;
  }
}
