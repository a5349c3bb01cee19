import type { Instruction } from 'dockerfile-ast';
import { foldedText, instructionText, type DockerfileModel, type Stage } from './dockerfile.js';
import { normalisePath } from './peak.js';

/**
 * Directories the operating system owns. Giving them to the user would be a security change, not a
 * migration, so they are reported instead of chowned.
 */
const SYSTEM_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/cache',
  '/var/lib',
  '/var/log',
  '/var/run',
  '/var/spool',
  '/var/tmp',
  '/var/mail',
  '/var/opt',
  '/var/local',
  '/var/backups',
]);

export function isSystemDir(path: string): boolean {
  const p = normalisePath(path);
  if (SYSTEM_DIRS.has(p)) return true;
  // /usr/local, /usr/lib, /usr/local/bin...: the tool chains live there.
  return /^\/usr(\/local)?\/[^/]+$/.test(p) || p === '/usr/local';
}

/** A literal absolute path we can safely name in a shell line: no variables, globs or odd characters. */
export function isPlainAbsolute(path: string): boolean {
  return /^\/[A-Za-z0-9._@+\-/]*$/.test(path);
}

function joinPath(base: string, relative: string): string {
  const parts = (base + '/' + relative).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function unquote(token: string): string {
  return token.replace(/^["']|["']$/g, '');
}

/** The arguments of a VOLUME, in JSON or plain form. */
export function volumePaths(model: DockerfileModel, volume: Instruction): string[] {
  const text = instructionText(model, volume).slice(volume.getInstruction().length).trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.filter((p): p is string => typeof p === 'string');
    } catch {
      // Not valid JSON: Docker treats it as a plain list too.
    }
  }
  return volume.getArguments().map((a) => unquote(a.getValue()));
}

/** Paths created by `mkdir` in a RUN, made absolute against the working directory where they can be. */
export function mkdirPaths(model: DockerfileModel, run: Instruction, workdir: string | null): string[] {
  const text = foldedText(model, run);
  const paths: string[] = [];
  for (const match of text.matchAll(/(?:^|[\s;&|(])mkdir\s+([^;&|\n)]*)/g)) {
    const tokens = match[1].trim().split(/\s+/);
    for (let k = 0; k < tokens.length; k++) {
      const token = tokens[k];
      if (token === '-m' || token === '--mode') {
        k++;
        continue;
      }
      if (token.startsWith('-') || token === '') continue;
      const path = unquote(token);
      if (path.startsWith('/')) paths.push(path);
      else if (workdir && /^[A-Za-z0-9._@+\-/]+$/.test(path)) paths.push(joinPath(workdir, path));
    }
  }
  return paths.filter(isPlainAbsolute).map(normalisePath);
}

export interface WritableDir {
  path: string;
  /** Instruction that made the directory; a chown has to come after it. */
  madeBy: Instruction;
  madeAt: number;
}

/** WORKDIR and mkdir directories of a stage that the user should own, minus system directories. */
export function writableDirs(model: DockerfileModel, stage: Stage, home: string): { dirs: WritableDir[]; system: WritableDir[] } {
  const dirs = new Map<string, WritableDir>();
  const system: WritableDir[] = [];
  let workdir: string | null = null;
  stage.instructions.forEach((i, index) => {
    const keyword = i.getKeyword();
    let found: string[] = [];
    if (keyword === 'WORKDIR') {
      const value = unquote(i.getArguments()[0]?.getValue() ?? '');
      const absolute = value.startsWith('/') ? value : workdir ? joinPath(workdir, value) : null;
      workdir = absolute && isPlainAbsolute(absolute) ? normalisePath(absolute) : null;
      if (workdir) found = [workdir];
      // The home WORKDIR may be one this run inserts: resolving against it would differ between runs.
      if (workdir === normalisePath(home)) workdir = null;
    } else if (keyword === 'RUN') {
      found = mkdirPaths(model, i, workdir);
    }
    for (const path of found) {
      const entry = { path, madeBy: i, madeAt: index };
      if (isSystemDir(path)) system.push(entry);
      else dirs.set(path, entry);
    }
  });
  return { dirs: [...dirs.values()], system };
}
