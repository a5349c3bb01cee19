import type { Instruction } from 'dockerfile-ast';
import { argumentsOf, instructionText, type DockerfileModel, type Stage } from './dockerfile.js';
import { findServerImage, STARTED_SERVERS } from '../facts/servers.js';
import { joinPath } from '../facts/paths.js';

/**
 * Files of the build context that the Dockerfile copies in, seen from inside the image. The runner reads the
 * files `contextFileRequests` names (it does the I/O); the engine maps them to the paths they land on, so a
 * server's copied configuration or an entrypoint script can be read without the engine touching the disk.
 */

/** Most files the runner reads for one Dockerfile, and the largest it reads: configuration and scripts are small. */
export const MAX_CONTEXT_FILES = 32;
export const MAX_CONTEXT_FILE_BYTES = 256 * 1024;

const COPY_LINE = /^[ \t]*(?:copy|add)[ \t]+(.*)$/gim;
const START_LINE = /^[ \t]*(?:entrypoint|cmd)[ \t]+(.*)$/gim;

const FROM_LINE = /^[ \t]*from[ \t]+(?:--\S+[ \t]+)*(\S+)/gim;

/**
 * Relative context paths worth reading: the scripts ENTRYPOINT/CMD run (and the COPY sources of that name), and,
 * when a stage is built on a catalogued server image, the COPY sources that name one file (its configuration).
 * Other Dockerfiles cost no reads.
 */
export function contextFileRequests(text: string): string[] {
  const wanted = new Set<string>();
  const started = new Set<string>();
  for (const match of text.matchAll(START_LINE)) {
    for (const word of argumentWords(match[1])) {
      if (!/^[\w./-]+$/.test(word) || word.startsWith('-')) continue;
      started.add(word.replace(/^.*\//, ''));
      if (/\.(sh|bash)$/.test(word)) {
        const path = contextPath(word.replace(/^.*\//, ''));
        if (path) wanted.add(path);
        const relative = contextPath(word);
        if (relative) wanted.add(relative);
      }
    }
  }
  const startText = [...text.matchAll(START_LINE)].map((m) => m[1]).join('\n');
  const onServer =
    [...text.matchAll(FROM_LINE)].some((m) => findServerImage(m[1]) !== undefined) ||
    STARTED_SERVERS.some((s) => s.command.test(startText));
  for (const match of text.matchAll(COPY_LINE)) {
    const words = argumentWords(match[1]);
    if (words.some((w) => /^--from\b/i.test(w))) continue;
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    for (const source of sources) {
      const path = contextPath(source);
      if (path && (onServer || started.has(path.replace(/^.*\//, '')))) wanted.add(path);
    }
  }
  return [...wanted].slice(0, MAX_CONTEXT_FILES);
}

/**
 * Context directories worth listing (relative to the Dockerfile's directory): for COPY/ADD lines that land on `/`
 * or directly below it, the context itself and their sources (and the sources' parents), where a root file system
 * is told from the application, and a file from a directory, by what the context holds.
 */
export function contextDirRequests(text: string): string[] {
  const wanted = new Set<string>();
  for (const match of text.matchAll(COPY_LINE)) {
    const words = argumentWords(match[1]);
    if (words.some((w) => /^--from\b/i.test(w))) continue;
    const args = words.filter((w) => !w.startsWith('--'));
    if (args.length < 2 || !/^\/[^/]*$/.test(args[args.length - 1])) continue;
    wanted.add('.');
    for (const source of args.slice(0, -1)) {
      const path = contextPath(source.replace(/\/+$/, ''));
      if (!path) continue;
      wanted.add(path);
      if (path.includes('/')) wanted.add(path.slice(0, path.lastIndexOf('/')));
    }
  }
  return [...wanted].slice(0, MAX_CONTEXT_DIRS);
}

/** Most directories the runner lists for one Dockerfile. */
export const MAX_CONTEXT_DIRS = 16;

/** A source that can only name one file in the context: relative, no glob, no variable, no URL, not `.`. */
function contextPath(source: string): string | undefined {
  const path = source.replace(/^\.\//, '');
  if (path === '' || path === '.' || path.endsWith('/')) return undefined;
  if (/[*?[\]$\\]|^[a-z]+:\/\/|^\/|(^|\/)\.\.(\/|$)/i.test(path)) return undefined;
  return path;
}

/** The words of an instruction's arguments: its leading flags, then the JSON array or the shell-form words. */
function argumentWords(text: string): string[] {
  const [, flagText, rest] = /^\s*((?:--\S+\s+)*)([\s\S]*)$/.exec(text) ?? ['', '', text];
  const flags = flagText.split(/\s+/).filter(Boolean);
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return [...flags, ...parsed.filter((w): w is string => typeof w === 'string')];
    } catch {
      // not JSON: Docker reads it as shell form
    }
  }
  return [...flags, ...trimmed.split(/\s+/).map((w) => w.replace(/^["']|["']$/g, ''))];
}

/** A file of the build context at the path it has in the image. */
export interface CopiedFile {
  /** Path relative to the context, as the runner read it. */
  file: string;
  text: string;
  /** The COPY/ADD that brings it in. */
  copiedBy: Instruction;
}

function basename(path: string): string {
  return path.replace(/\/+$/, '').replace(/^.*\//, '');
}

/**
 * The context files a stage copies in (no `--from`), keyed by their path in the image. A later COPY to the same
 * path wins, as in the image. `COPY . DIR` brings every context file along.
 */
export function copiedFiles(
  model: DockerfileModel,
  stage: Stage,
  contextFiles: ReadonlyMap<string, string> | undefined,
): Map<string, CopiedFile> {
  const copied = new Map<string, CopiedFile>();
  if (!contextFiles || contextFiles.size === 0) return copied;
  // The stages it is built on first: a script a parent stage copied in is the one this stage starts.
  const chain: Stage[] = [];
  for (let s: Stage | null = stage; s; s = s.parent) chain.unshift(s);
  let workdir: string | null = '/';
  for (const instruction of chain.flatMap((s) => s.instructions)) {
    const keyword = instruction.getKeyword();
    if (keyword === 'WORKDIR') workdir = nextWorkdir(workdir, instruction);
    else if (keyword === 'COPY' || keyword === 'ADD') {
      const copy = contextCopy(model, instruction, workdir);
      if (copy) for (const source of copy.sources) copySource(copied, contextFiles, source, copy, instruction);
    }
  }
  return copied;
}

/** The working directory after a WORKDIR: null once a variable or an unknown directory makes it unknown. */
function nextWorkdir(workdir: string | null, instruction: Instruction): string | null {
  const value =
    argumentsOf(instruction)[0]
      ?.getValue()
      .replace(/^["']|["']$/g, '') ?? '';
  return value.startsWith('/') ? joinPath(value, '.') : workdir && !value.includes('$') ? joinPath(workdir, value) : null;
}

/** A COPY or ADD from the build context, with its destination in the image. */
interface ContextCopy {
  dest: string;
  sources: string[];
  /** The sources land inside `dest` (it ends in `/`, or there are several). */
  intoDir: boolean;
}

/** The COPY or ADD as a copy from the context; null for `--from`, or a destination with a variable or an unknown base. */
function contextCopy(model: DockerfileModel, instruction: Instruction, workdir: string | null): ContextCopy | null {
  const words = argumentWords(instructionText(model, instruction).slice(instruction.getInstruction().length));
  if (words.some((w) => /^--from\b/i.test(w))) return null;
  const args = words.filter((w) => !w.startsWith('--'));
  if (args.length < 2) return null;
  const rawDest = args[args.length - 1];
  if (rawDest.includes('$')) return null;
  const dest = rawDest.startsWith('/') ? rawDest : workdir ? joinPath(workdir, rawDest) : null;
  if (dest === null) return null;
  const sources = args.slice(0, -1);
  return { dest, sources, intoDir: rawDest.endsWith('/') || sources.length > 1 };
}

/** Puts the context files one source names at their paths in the image: `.` is every file, a directory the files under it. */
function copySource(
  copied: Map<string, CopiedFile>,
  contextFiles: ReadonlyMap<string, string>,
  source: string,
  { dest, intoDir }: ContextCopy,
  copiedBy: Instruction,
): void {
  const clean = source.replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean === '' || clean === '.') {
    for (const [file, text] of contextFiles) copied.set(joinPath(dest, file), { file, text, copiedBy });
    return;
  }
  const text = contextFiles.get(clean);
  if (text !== undefined) {
    copied.set(intoDir ? joinPath(dest, basename(clean)) : joinPath(dest, '.'), { file: clean, text, copiedBy });
    return;
  }
  // A copied directory brings the files under it.
  for (const [file, content] of contextFiles) {
    if (file.startsWith(clean + '/')) copied.set(joinPath(dest, file.slice(clean.length + 1)), { file, text: content, copiedBy });
  }
}

/** The COPY/ADD that brings a build-context file in (the first of those it is copied by), or `fallback` where none does. */
export function copiedBy(copied: ReadonlyMap<string, CopiedFile>, file: string, fallback: Instruction): Instruction {
  return [...copied.values()].find((c) => c.file === file)?.copiedBy ?? fallback;
}
