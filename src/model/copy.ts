import type { Instruction } from 'dockerfile-ast';
import { flagsOf, instructionText, type DockerfileModel, type Stage } from './dockerfile.js';
import { expandWord, resolvePath, stageScope, variableNames } from './scope.js';

/**
 * Where a COPY or ADD puts its files, read the way Docker reads it: the JSON or the plain form, heredoc
 * sources (`COPY <<EOF /etc/app.conf`: only the first line holds the arguments), ENV and ARG values
 * substituted, a relative destination against the working directory in force. One resolver for every
 * transform that asks "where does this land?".
 */
export interface CopyTarget {
  /** The absolute destination, or null when a variable or the working directory is not known. */
  path: string | null;
  /** The destination as written. */
  raw: string;
  /** The destination with its variables substituted, or null when one has no known value. */
  expanded: string | null;
  /** Variables the destination names (`$JAVA_HOME`), whatever their values. */
  variables: string[];
  /** The sources as written (heredoc markers excluded). */
  sources: string[];
  /** Files land inside the destination (it ends in `/`, or there are several sources). */
  intoDirectory: boolean;
  /** `--from=<earlier stage>`, `--from=<image>`, or none (the build context or a heredoc). */
  from: { stage: Stage } | { image: string } | null;
  /** Every source is a heredoc body. */
  heredoc: boolean;
  /** The destination is a directory a WORKDIR made (or the working directory): files land inside it. */
  intoExistingDirectory: boolean;
}

export function copyFlag(i: Instruction, name: string): string | null | undefined {
  const found = flagsOf(i).find((f) => f.getName().toLowerCase() === name);
  return found === undefined ? undefined : found.getValue();
}

const cache = new WeakMap<Instruction, CopyTarget | null>();

/** The target of `stage.instructions[index]`, a COPY or ADD; null for any other instruction or a malformed one. */
export function copyTarget(model: DockerfileModel, stage: Stage, index: number): CopyTarget | null {
  const instruction = stage.instructions[index];
  if (cache.has(instruction)) return cache.get(instruction) as CopyTarget | null;
  const target = resolve(model, stage, index, instruction);
  cache.set(instruction, target);
  return target;
}

function resolve(model: DockerfileModel, stage: Stage, index: number, i: Instruction): CopyTarget | null {
  const keyword = i.getKeyword();
  if (keyword !== 'COPY' && keyword !== 'ADD') return null;
  const words = argumentWords(model, i);
  if (words === null || words.length < 2) return null;
  const raw = words[words.length - 1];
  const sources = words.slice(0, -1).filter((w) => !/^<<-?/.test(w));
  const heredoc = sources.length === 0;
  const scope = stageScope(model, stage);
  const values = scope.valuesAt(index);
  const expanded = expandWord(raw, values);
  const workdir = scope.workdirAt(index);
  const path = resolvePath(expanded, workdir);
  const fromValue = copyFlag(i, 'from');
  let from: CopyTarget['from'] = null;
  if (fromValue) {
    const name = fromValue.toLowerCase();
    const earlier = model.stages.slice(0, stage.index).find((s) => s.name === name || String(s.index) === name);
    from = earlier ? { stage: earlier } : { image: fromValue };
  }
  return {
    path,
    raw,
    expanded,
    variables: variableNames(raw),
    sources,
    intoDirectory: raw.endsWith('/') || sources.length > 1,
    from,
    heredoc,
    intoExistingDirectory: path !== null && (path === workdir || scope.workdirsMadeAt(index).has(path)),
  };
}

/** The argument words after the flags: JSON form, or whitespace-split plain form (only the first line with heredocs). */
function argumentWords(model: DockerfileModel, i: Instruction): string[] | null {
  const text = instructionText(model, i).slice(i.getInstruction().length);
  const hasHeredoc = text.includes('<<') && ((i as unknown as { getHeredocs?: () => unknown[] }).getHeredocs?.() ?? []).length > 0;
  const body = hasHeredoc ? (text.split(/\r\n|\r|\n/)[0] ?? '') : text.replace(new RegExp(`\\${model.escape}\\r?\\n`, 'g'), ' ');
  const withoutFlags = body.replace(/^\s*(?:--\S+\s+)*/, '').trim();
  if (withoutFlags.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(withoutFlags);
      if (Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')) return parsed as string[];
    } catch {
      // Not JSON: Docker reads it as the plain form.
    }
  }
  return withoutFlags
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/^["']|["']$/g, ''));
}
