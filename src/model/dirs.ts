import type { Instruction } from 'dockerfile-ast';
import { argumentsOf, instructionText, type DockerfileModel, type Stage } from './dockerfile.js';
import { normalisePath, type PeakLines } from './peak.js';
import { MENTIONS } from './run.js';
import { dockerfileScript } from './shell.js';
import { expandQuoted, expandWord, stageScope, type Values } from './scope.js';
import { classifyPath, isPlainAbsolute, joinPath, normaliseAbsolute, TOOL_SEGMENTS, type PathClass } from '../facts/paths.js';

function unquote(token: string): string {
  return token.replace(/^["']|["']$/g, '');
}

/**
 * The arguments of a VOLUME, in JSON or plain form, with Docker's ENV and ARG values substituted where `values`
 * knows them (`VOLUME $JENKINS_HOME`); a variable with no known value stays as written. `values` gives the ENV and
 * ARG values in force at the VOLUME.
 */
export function volumePaths(model: DockerfileModel, volume: Instruction, values: () => Values = () => new Map()): string[] {
  // The values are asked for only where a path names a variable: most VOLUME lines name none.
  const expand = (path: string) => (path.includes('$') ? (expandWord(path, values()) ?? path) : path);
  const text = dockerfileScript(instructionText(model, volume).slice(volume.getInstruction().length), model.escape).trim();
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.filter((p): p is string => typeof p === 'string').map(expand);
    } catch {
      // Not valid JSON: Docker treats it as a plain list too.
    }
  }
  return argumentsOf(volume).map((a) => expand(unquote(a.getValue())));
}

/** Paths a RUN surely creates with `mkdir` (not under a condition), absolute against the working directory. */
export function mkdirPaths(peak: PeakLines, run: Instruction, workdir: string | null, values: Values = new Map()): string[] {
  const mounts = mountTargets(run);
  const paths: string[] = [];
  for (const made of peak.mentioning(run, MENTIONS.mkdirs).mkdirs) {
    if (made.conditional) continue;
    // `mkdir -p "$DATA_DIR"`: what Docker's ENV and ARG values make of it (the shell sees the same variables).
    const path = made.raw ? expandQuoted(made.path, values) : made.path;
    if (path === null) continue;
    const absolute = path.startsWith('/') ? path : workdir && /^[A-Za-z0-9._@+\-/]+$/.test(path) ? joinPath(workdir, path) : null;
    if (!absolute || !isPlainAbsolute(absolute)) continue;
    const normal = normaliseAbsolute(absolute);
    // A directory made inside a `RUN --mount` target is in the mount, not in the image.
    if (mounts.some((m) => normal === m || normal.startsWith(m + '/'))) continue;
    paths.push(normal);
  }
  return paths;
}

/** Targets of a RUN's `--mount` flags. */
function mountTargets(run: Instruction): string[] {
  const flags = (run as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags?.() ?? [];
  return flags
    .filter((f) => f.getName().toLowerCase() === 'mount')
    .flatMap((f) => /(?:^|,)(?:target|dst|destination)=([^,]+)/.exec(f.getValue() ?? '')?.[1] ?? [])
    .map(normaliseAbsolute);
}

export interface WritableDir {
  path: string;
  /** Instruction that made the directory; a chown has to come after it. */
  madeBy: Instruction;
  madeAt: number;
  /** Where the policy puts it. */
  kind: PathClass;
}

/**
 * WORKDIR and mkdir directories of a stage: `dirs` the user may own, `refused` the policy keeps from it. A
 * directory the stage removes again (`mkdir -p /usr/src/x && … && rm -rf /usr/src/x`) is not one of the image.
 */
const writable = new WeakMap<Stage, { peak: PeakLines; home: string; result: { dirs: WritableDir[]; refused: WritableDir[] } }>();

export function writableDirs(
  model: DockerfileModel,
  stage: Stage,
  peak: PeakLines,
  home: string,
): { dirs: WritableDir[]; refused: WritableDir[] } {
  // Asked for by several transforms of one stage: computed once per run's PeakLines and home.
  const cached = writable.get(stage);
  if (cached && cached.peak === peak && cached.home === home) return cached.result;
  const result = findWritableDirs(model, stage, peak, home);
  writable.set(stage, { peak, home, result });
  return result;
}

function findWritableDirs(
  model: DockerfileModel,
  stage: Stage,
  peak: PeakLines,
  home: string,
): { dirs: WritableDir[]; refused: WritableDir[] } {
  const found: WritableDir[] = [];
  const removals: { path: string; at: number }[] = [];
  const installs: { path: string; at: number }[] = [];
  let workdir: string | null = null;
  const scope = stageScope(model, stage);
  stage.instructions.forEach((i, index) => {
    const keyword = i.getKeyword();
    let paths: string[] = [];
    if (keyword === 'WORKDIR') {
      const value = expandWord(unquote(argumentsOf(i)[0]?.getValue() ?? ''), scope.valuesAt(index)) ?? '$';
      const absolute = value.startsWith('/') ? value : workdir ? joinPath(workdir, value) : null;
      workdir = absolute && isPlainAbsolute(absolute) ? normaliseAbsolute(absolute) : null;
      if (workdir) paths = [workdir];
      // The home WORKDIR may be one this run inserts: resolving against it would differ between runs.
      if (workdir === normalisePath(home)) workdir = null;
    } else if (keyword === 'RUN') {
      // The recipe's own lines make what they give the user (`mkdir -p /data && find /data … chown`).
      paths = peak.isPeakManaged(i) ? [] : mkdirPaths(peak, i, workdir, scope.valuesAt(index));
      for (const removed of peak.mentioning(i, MENTIONS.removes).removes) {
        const absolute = removed.startsWith('/') ? removed : workdir ? joinPath(workdir, removed) : null;
        if (absolute) removals.push({ path: normaliseAbsolute(absolute), at: index });
      }
      for (const target of peak.mentioning(i, MENTIONS.installs).installs) {
        const absolute = target.startsWith('/') ? target : workdir ? joinPath(workdir, target) : null;
        if (absolute) installs.push({ path: normaliseAbsolute(absolute), at: index });
      }
    }
    for (const path of paths) found.push({ path, madeBy: i, madeAt: index, kind: classifyPath(path, home) });
  });
  const removedLater = (d: WritableDir) =>
    d.madeBy.getKeyword() !== 'WORKDIR' && removals.some((r) => r.at >= d.madeAt && (d.path === r.path || d.path.startsWith(r.path + '/')));
  // A tool unpacked or installed into a made directory (`mkdir -p /opt/pypy && tar -C /opt/pypy …`) is an
  // install tree: the program reads and runs it, and giving every folder of it away would let the program change
  // its own interpreter. Likewise bin and lib folders wherever they are.
  const installTree = (d: WritableDir) =>
    d.madeBy.getKeyword() !== 'WORKDIR' &&
    (TOOL_SEGMENTS.test(d.path) || installs.some((t) => t.at >= d.madeAt && (d.path === t.path || d.path.startsWith(t.path + '/'))));
  const dirs = new Map<string, WritableDir>();
  const refused: WritableDir[] = [];
  for (const dir of found) {
    if (removedLater(dir) || installTree(dir)) continue;
    if (dir.kind === 'app') dirs.set(dir.path, dir);
    else refused.push(dir);
  }
  return { dirs: [...dirs.values()], refused };
}
