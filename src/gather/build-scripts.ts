import path from 'node:path';

/** An image a script builds (the shape of built-images.ts's BuiltImage). */
export interface ScriptBuild {
  image: string;
  dockerfile: string;
  origin: string;
  stage?: string;
}

/**
 * Images built by the repository's own scripts: `docker build` (and `docker buildx build`, `docker image build`,
 * `podman build`) in Makefile recipes and package.json scripts, with their `-f`, `-t` and `--target`. Make variables
 * take their default (`TAG ?= latest`); a tag that stays unknown is left out, so the image is known by its
 * repository alone. Commands this reading cannot follow (a context from stdin or a URL, a Dockerfile path with an
 * unknown variable) are passed over.
 */
export function scriptImages(file: string, shown: string, text: string): ScriptBuild[] {
  const scripts = path.basename(file).toLowerCase() === 'package.json' ? packageScripts(text) : makeRecipes(text);
  const images: ScriptBuild[] = [];
  for (const script of scripts) {
    let cwd = path.dirname(file);
    for (const command of script.command.split(/&&|\|\||;|\|/)) {
      const words = tokens(command, script.variables);
      if (words[0] === 'cd' && words[1] !== undefined && words[1] !== null) cwd = path.resolve(cwd, words[1]);
      const build = dockerBuild(words);
      if (!build) continue;
      const dockerfile = path.resolve(cwd, build.file ?? path.join(build.context, 'Dockerfile'));
      const origin = `${shown} ${script.name}`;
      const stage = build.target !== undefined ? { stage: build.target } : {};
      if (build.tags.length === 0) images.push({ image: '', dockerfile, origin, ...stage });
      for (const image of build.tags) images.push({ image, dockerfile, origin, ...stage });
    }
  }
  return images;
}

interface Script {
  /** The Make target or the npm script. */
  name: string;
  command: string;
  variables: ReadonlyMap<string, string>;
}

function packageScripts(text: string): Script[] {
  const scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> } | null)?.scripts ?? {};
  return Object.entries(scripts)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, command]) => ({ name: `scripts.${name}`, command, variables: new Map() }));
}

/** The recipe lines of a Makefile, continuations joined, under the target they belong to, and its plain variables. */
function makeRecipes(text: string): Script[] {
  const variables = new Map<string, string>();
  const scripts: Script[] = [];
  let target = '';
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?|:|::)?=\s*(.*)$/.exec(line);
    if (assignment) {
      if (!variables.has(assignment[1]) || !line.includes('?=')) variables.set(assignment[1], assignment[2].trim());
      continue;
    }
    const rule = /^([^\s:#=][^:#=]*):(?!=)/.exec(line);
    if (rule) target = rule[1].trim();
    else if (line.startsWith('\t')) scripts.push({ name: target, command: line.trim().replace(/^[@+-]+/, ''), variables });
  }
  return scripts;
}

/**
 * Shell words, quotes removed, `$(VAR)` and `${VAR}` replaced; null for a word with a variable of unknown value,
 * but for an image whose tag alone is unknown, which becomes its repository.
 */
function tokens(command: string, variables: ReadonlyMap<string, string>): (string | null)[] {
  const UNKNOWN = '\u0000';
  return (command.match(/"[^"]*"|'[^']*'|[^\s"']+/g) ?? []).map((raw) => {
    const word = raw.replace(/^["']|["']$/g, '');
    const value = word.replace(/\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]/g, (_whole, name: string) => {
      const known = variables.get(name);
      return known === undefined || known.includes('$') ? UNKNOWN : known;
    });
    if (!value.includes(UNKNOWN) && !/\$[({A-Za-z_]/.test(value)) return value;
    // `corp/base:$(TAG)` with no value for TAG: the repository alone.
    return /^([^\u0000$:]+):\u0000$/.exec(value)?.[1] ?? null;
  });
}

/** Options of `docker build` that take a value, besides -f, -t and --target. */
const VALUED = new Set([
  '--build-arg',
  '--platform',
  '--label',
  '--cache-from',
  '--cache-to',
  '--secret',
  '--ssh',
  '--output',
  '-o',
  '--progress',
  '--network',
  '--build-context',
  '--iidfile',
  '--metadata-file',
  '--add-host',
  '--shm-size',
  '--ulimit',
  '--attest',
  '--builder',
  '--allow',
  '--annotation',
  '--cgroup-parent',
  '--memory',
  '-m',
  '--isolation',
  '--call',
]);

interface DockerBuild {
  file?: string;
  tags: string[];
  target?: string;
  /** The first operand; null when it holds a variable of no value. */
  context?: string | null;
  /** The Dockerfile path holds a variable of no value. */
  unknownFile?: boolean;
}

/** `docker build …`, `docker buildx build …`, `docker image build …`, `podman build …`; undefined for anything else. */
function dockerBuild(words: (string | null)[]): (DockerBuild & { context: string }) | undefined {
  const at = buildVerbAt(words);
  if (at < 0) return undefined;
  const build: DockerBuild = { tags: [] };
  for (let i = at + 1; i < words.length; i++) {
    const word = words[i];
    if (word !== null && /^[<>]/.test(word)) break;
    i = readWord(words, i, build);
  }
  const { context } = build;
  if (build.unknownFile || context === undefined || context === null || context === '-' || /^[a-z]+:\/\/|^git@/.test(context)) {
    return undefined;
  }
  return { ...build, context };
}

function buildVerbAt(words: (string | null)[]): number {
  return words.findIndex(
    (w, i) =>
      w === 'build' &&
      (words[i - 1] === 'docker' ||
        words[i - 1] === 'podman' ||
        ((words[i - 1] === 'buildx' || words[i - 1] === 'image') && words[i - 2] === 'docker')),
  );
}

/** The options this reading keeps, by what they set. */
const KEPT = new Map<string, 'file' | 'tag' | 'target'>([
  ['-f', 'file'],
  ['--file', 'file'],
  ['-t', 'tag'],
  ['--tag', 'tag'],
  ['--target', 'target'],
]);

/** Reads the option or operand at `i` into `build`; the index of the last word it used. */
function readWord(words: (string | null)[], i: number, build: DockerBuild): number {
  const word = words[i];
  if (word === null) {
    if (build.context === undefined && !(words[i - 1] ?? '').startsWith('-')) build.context = null;
    return i;
  }
  const eq = word.startsWith('--') ? word.indexOf('=') : -1;
  const option = eq > 0 ? word.slice(0, eq) : word;
  const next = eq > 0 ? i : i + 1;
  const kept = KEPT.get(option);
  if (kept) {
    keep(build, kept, eq > 0 ? word.slice(eq + 1) : words[next]);
    return next;
  }
  if (VALUED.has(option)) return next;
  if ((word === '-' || !word.startsWith('-')) && build.context === undefined) build.context = word;
  return i;
}

function keep(build: DockerBuild, what: 'file' | 'tag' | 'target', value: string | null | undefined): void {
  if (value === undefined) return;
  if (value === null) {
    if (what === 'file') build.unknownFile = true;
    return;
  }
  if (what === 'file') build.file = value;
  else if (what === 'tag') build.tags.push(value);
  else build.target = value;
}
