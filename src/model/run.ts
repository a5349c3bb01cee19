import type { Heredoc, Instruction } from 'dockerfile-ast';
import { argumentsOf, endOffset, type DockerfileModel } from './dockerfile.js';
import { dockerfileScript, parseCommands, type Command, type Word } from './shell.js';

/**
 * What one RUN does, as far as ownership is concerned, read from its commands and operands (src/model/shell.ts):
 * which users it creates, which directories it makes, removes, or gives to whom. Every question the transforms
 * ask of a RUN is answered from here, never from the raw text.
 */
export interface RunFacts {
  commands: Command[];
  /** `useradd`/`adduser` commands that create a user: its name and the word given as UID (null: none). */
  creates: { name: string; uid: Word | null }[];
  /**
   * Directories made with `mkdir`: literal paths as written (relative ones are resolved by the caller), or the word as
   * written where it has an expansion (`"$DATA_DIR"`, `raw`), for the caller to substitute what Docker knows.
   */
  mkdirs: { path: string; conditional: boolean; raw?: boolean }[];
  /** `chown` (and `find … -exec chown`) commands: the owner word, the literal paths and the other operand words. */
  chowns: { owner: Word; paths: string[]; rawPaths: string[]; recursive: boolean }[];
  /** Paths removed with `rm -r`. */
  removes: string[];
  /** Directories an `rm -r` glob empties (`rm -rf /var/lib/apt/lists/*` names /var/lib/apt/lists): what is below them may go. */
  removesUnder: string[];
  /** An `rm -r` removes something that is not a literal path (`rm -rf "$DIR"`, `rm -rf *`): what, nobody knows. */
  removesUnknown: boolean;
  /** Directories a tool installs into: `tar -C DIR`, `unzip -d DIR`, `--prefix=DIR`, `pip install --target DIR`. */
  installs: string[];
}

function emptyFacts(commands: Command[]): RunFacts {
  return { commands, creates: [], mkdirs: [], chowns: [], removes: [], removesUnder: [], removesUnknown: false, installs: [] };
}

const EMPTY: RunFacts = Object.freeze(emptyFacts([])) as RunFacts;

/** What a RUN that is not parsed does, as far as ownership goes: nothing. */
export const NO_FACTS = EMPTY;

/**
 * Words a RUN's script must contain for each question to have an answer other than "no": a question about `mkdir`
 * need not parse a RUN that never writes `mkdir` (PeakLines.mentioning). The command names the shell model
 * recognises are literal words of the script, so they are in its text.
 */
export const MENTIONS = {
  creates: /useradd|adduser|\/etc\/passwd/,
  chowns: /chown/,
  mkdirs: /mkdir/,
  removes: /\brm\b/,
  installs: /\btar\b|\bunzip\b|prefix|--target|\bbsdtar\b/i,
  sudo: /sudo/,
  rootHome: /git|pip|npm|~|HOME|\/root|\buv\b/,
} as const;

/**
 * Most RUN lines install packages; only those naming one of these commands can change who owns what, so the
 * others are not parsed at all (the parser costs about as much as the whole Dockerfile parse).
 */
const RELEVANT =
  /useradd|adduser|mkdir|chown|\brm\b|\btar\b|unzip|prefix|--target|sudo|gosu|su-exec|\bgit\b|\bpip|\bnpm\b|\buv\b|HOME|\/root|~|\bsu\b|runuser|setpriv|chroot|\bfind\b|usermod|groupadd|addgroup|passwd|:\s*"?\$\{/;

/** The shell scripts of a RUN: its shell-form line, the body of a bare `RUN <<EOF`, or `sh -c` in exec form. */
export function runScripts(model: DockerfileModel, run: Instruction): string[] {
  const args = argumentsOf(run);
  if (args.length === 0) return [];
  const body = model.text.slice(model.lines.offsetAt(args[0].getRange().start), endOffset(model, run));
  const trimmed = body.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) {
        const words = parsed as string[];
        if (/(^|\/)(ba|da|a)?sh$/.test(words[0] ?? '') && words[1] === '-c' && words[2] !== undefined) return [words[2]];
        return [words.map(shellQuote).join(' ')];
      }
    } catch {
      // Not JSON: Docker runs it as a shell line.
    }
  }
  // Reading heredocs costs dockerfile-ast a full argument parse: only where `<<` is written at all.
  const heredocs = body.includes('<<') ? ((run as unknown as { getHeredocs?: () => Heredoc[] }).getHeredocs?.() ?? []) : [];
  if (heredocs.length === 0) return [dockerfileScript(body, model.escape)];
  const firstLine = body.split(/\r\n|\r|\n/)[0];
  const withoutMarkers = firstLine.replace(/<<-?\s*(["']?)[A-Za-z0-9_.-]+\1/g, '').trim();
  // `RUN <<EOF` runs the body as the script; `RUN python3 <<EOF` feeds it to a program.
  if (withoutMarkers !== '') return [dockerfileScript(firstLine, model.escape)];
  return heredocs.map((h) => {
    const range = h.getContentRange();
    return range ? model.text.slice(model.lines.offsetAt(range.start), model.lines.offsetAt(range.end)) : '';
  });
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function runFacts(scripts: string[]): RunFacts {
  if (!scripts.some((s) => RELEVANT.test(s))) return EMPTY;
  const facts = emptyFacts(scripts.flatMap((s) => parseCommands(s)));
  for (const command of facts.commands) (READERS.get(command.name ?? '') ?? readPrefixes)(command, facts);
  return facts;
}

/** Reads what one command does into the RUN's facts. */
type Reader = (command: Command, facts: RunFacts) => void;

function readUserCreation(command: Command, facts: RunFacts): void {
  const created = userCreated(command);
  if (created) facts.creates.push(created);
}

/** The passwd file written directly (bases with a shell but no user tool): `echo "u:x:UID:GID::home:sh" >> /etc/passwd`. */
function readPasswdWrite(command: Command, facts: RunFacts): void {
  if (!command.redirects.some((r) => r.op === '>>' && r.target === '/etc/passwd')) return;
  const line = command.args.find((w) => /^["']?[a-z_][a-z0-9_-]*:[^:]*:/.test(w.raw));
  if (!line) return;
  const fields = line.raw.replace(/^["']|["']$/g, '').split(':');
  facts.creates.push({ name: fields[0], uid: { raw: fields[2] ?? '', literal: /^\d+$/.test(fields[2] ?? '') ? fields[2] : null } });
}

function readMkdir(command: Command, facts: RunFacts): void {
  for (const word of operandWords(command.args, MKDIR_WITH_VALUE)) {
    if (word.literal !== null) facts.mkdirs.push({ path: word.literal, conditional: command.conditional });
    else facts.mkdirs.push({ path: word.raw, conditional: command.conditional, raw: true });
  }
}

function readChown(command: Command, facts: RunFacts): void {
  const words = command.args;
  const recursive = words.some((w) => /^-[a-zA-Z]*R|^--recursive$/.test(w.literal ?? ''));
  if (words.some((w) => (w.literal ?? '').startsWith('--reference'))) return;
  const rest = words.filter((w) => !(w.literal ?? '').startsWith('-'));
  if (rest.length < 2) return;
  facts.chowns.push({
    owner: rest[0],
    paths: literals(rest.slice(1)),
    rawPaths: rest
      .slice(1)
      .filter((w) => w.literal === null)
      .map((w) => w.raw),
    recursive,
  });
}

/** `find START… -exec chown OWNER {} +`: the start points, recursively. */
function readFindChown(command: Command, facts: RunFacts): void {
  const exec = command.args.findIndex((w) => w.literal === '-exec' || w.literal === '-execdir');
  if (exec < 0 || command.args[exec + 1]?.literal !== 'chown') return;
  const starts: string[] = [];
  for (const w of command.args) {
    const v = w.literal;
    if (v === null || v.startsWith('-') || v === '(' || v === '!' || v === '\\(') break;
    starts.push(v);
  }
  const owner = command.args.slice(exec + 2).find((w) => !(w.literal ?? '').startsWith('-'));
  if (owner) facts.chowns.push({ owner, paths: starts, rawPaths: [], recursive: true });
}

function readRemove(command: Command, facts: RunFacts): void {
  const recursive = command.args.some((w) => /^-[a-zA-Z]*[rR]|^--recursive$/.test(w.literal ?? ''));
  if (!recursive) return;
  facts.removes.push(...operands(command.args, new Set()).filter((path) => !/[*?[]/.test(path)));
  for (const word of command.args) {
    const text = word.literal ?? '';
    const glob = /[*?[]/.exec(text);
    if (word.literal === null) facts.removesUnknown = true;
    else if (glob) {
      const prefix = text.slice(0, text.lastIndexOf('/', glob.index));
      if (prefix.startsWith('/')) facts.removesUnder.push(prefix);
      else facts.removesUnknown = true;
    }
  }
}

function readInstall(command: Command, facts: RunFacts): void {
  facts.installs.push(...installTargets(command));
}

/** Any other command: the directory it installs into with `--prefix=DIR` and the like. */
function readPrefixes(command: Command, facts: RunFacts): void {
  facts.installs.push(...prefixTargets(command));
}

/** The commands that matter, by name (a Map: a command named `constructor` is not an object's property). */
const READERS: ReadonlyMap<string, Reader> = new Map([
  ['useradd', readUserCreation],
  ['adduser', readUserCreation],
  ['echo', readPasswdWrite],
  ['printf', readPasswdWrite],
  ['mkdir', readMkdir],
  ['chown', readChown],
  ['find', readFindChown],
  ['rm', readRemove],
  ['tar', readInstall],
  ['bsdtar', readInstall],
  ['unzip', readInstall],
]);

const MKDIR_WITH_VALUE = new Set(['-m', '--mode', '-Z', '--context']);
const USERADD_WITH_VALUE = new Set([
  '-b',
  '--base-dir',
  '-c',
  '--comment',
  '-d',
  '--home-dir',
  '--home',
  '-e',
  '--expiredate',
  '-f',
  '--inactive',
  '-g',
  '--gid',
  '-G',
  '--groups',
  '-k',
  '--skel',
  '-K',
  '--key',
  '-p',
  '--password',
  '-R',
  '--root',
  '-P',
  '--prefix',
  '-s',
  '--shell',
  '-u',
  '--uid',
  '-Z',
  '--selinux-user',
  '-h',
  '--ingroup',
  '--gecos',
  '--firstuid',
  '--lastuid',
  '--firstgid',
  '--lastgid',
  '--conf',
]);

/** The operand words of a command, skipping options and the values of options that take one. */
function operandWords(words: Word[], withValue: ReadonlySet<string>): Word[] {
  const out: Word[] = [];
  for (let k = 0; k < words.length; k++) {
    const v = words[k].literal;
    if (v !== null && v.startsWith('-') && v !== '-') {
      if (withValue.has(v)) k++;
      continue;
    }
    out.push(words[k]);
  }
  return out;
}

/** The literal operands of a command, skipping options and the values of options that take one. */
function operands(words: Word[], withValue: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const v = words[k].literal;
    if (v === null) continue;
    if (v.startsWith('-') && v !== '-') {
      if (withValue.has(v)) k++;
      continue;
    }
    out.push(v);
  }
  return out;
}

function literals(words: Word[]): string[] {
  return words.map((w) => w.literal).filter((v): v is string => v !== null);
}

/** The user a `useradd`/`adduser` creates and the word it gives as UID; `adduser USER GROUP` adds to a group instead. */
function userCreated(command: Command): { name: string; uid: Word | null } | null {
  const words = command.args;
  let uid: Word | null = null;
  const names: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const v = words[k].literal;
    const raw = words[k].raw;
    if (v === null) {
      // `"${NB_USER}"`: the name as written, for messages; it is never the Peak user's literal name.
      names.push(raw);
      continue;
    }
    if (v.startsWith('-')) {
      const [flag, inline] = v.startsWith('--') ? v.split(/=(.*)/s) : [v.slice(0, 2), v.length > 2 ? v.slice(2) : undefined];
      if (flag === '-u' || flag === '--uid') {
        if (inline !== undefined && inline !== '') uid = { raw: raw.slice(raw.indexOf(inline)), literal: inline };
        else uid = words[++k] ?? null;
        continue;
      }
      if (inline === undefined && USERADD_WITH_VALUE.has(flag)) k++;
      continue;
    }
    names.push(v);
  }
  // For an inline value like `-u1000` the raw slice above is enough; a computed word keeps its raw text.
  if (names.length === 0) return null;
  if (command.name === 'adduser' && names.length >= 2) return null;
  return { name: names[names.length - 1], uid };
}

/** `chown root …`, `chown 0:0 …`, `chown root.root …`: the owner a chown names is root. */
export function isRootOwner(owner: Word): boolean {
  const user = (owner.literal ?? '').split(/[:.]/)[0];
  return user === 'root' || user === '0';
}

/** Where `tar -C DIR` / `tar --directory=DIR` extracts, or `unzip -d DIR` unpacks. */
function installTargets(command: Command): string[] {
  const words = command.args.map((w) => w.literal);
  const out: string[] = [];
  words.forEach((word, k) => {
    if (word === null) return;
    const flag = command.name === 'unzip' ? '-d' : '-C';
    if (word === flag || word === '--directory') {
      const value = words[k + 1];
      if (value) out.push(value);
    } else if (word.startsWith('--directory=')) out.push(word.slice('--directory='.length));
    else if (command.name !== 'unzip' && /^-[A-Za-z]*C$/.test(word) && word.length > 2 && !word.startsWith('--')) {
      const value = words[k + 1];
      if (value) out.push(value);
    }
  });
  return out;
}

/** `./configure --prefix=DIR`, `make install PREFIX=DIR`, `cmake -DCMAKE_INSTALL_PREFIX=DIR`, `pip install --target DIR`. */
function prefixTargets(command: Command): string[] {
  const out: string[] = [];
  const words = command.args.map((w) => w.literal);
  words.forEach((word, k) => {
    if (word === null) return;
    const inline = /^(?:--prefix|--install-dir|--target|PREFIX|DESTDIR|-DCMAKE_INSTALL_PREFIX)=(\/.+)$/i.exec(word);
    if (inline) out.push(inline[1]);
    else if ((word === '--prefix' || word === '--target' || word === '-t') && /^pip3?$|^python/.test(command.name ?? '')) {
      const value = words[k + 1];
      if (value) out.push(value);
    } else if (word === '--prefix' && words[k + 1]?.startsWith('/')) out.push(words[k + 1] as string);
  });
  return out;
}
