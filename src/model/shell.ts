import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';

/**
 * RUN lines as shell: commands and their words, from tree-sitter's bash grammar (the parser GitHub and most
 * editors use), so a word in a comment, an `echo` string or a quoted argument is never taken for a command.
 *
 * Why this parser: mvdan/sh is the field's reference, but its WebAssembly build (`sh-syntax`) starts a Go
 * runtime for every call (25 ms a parse, measured) and its GopherJS build (`mvdan-sh`) takes 360 ms to load;
 * `shell-quote` is a quoting library that throws on `${A:?x y}` and mis-reads backticks. tree-sitter-bash
 * loads in ~50 ms and parses synchronously once loaded, which keeps the engine a pure, synchronous function.
 */

const require = createRequire(import.meta.url);
await Parser.init();
const bash = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
const parser = new Parser();
parser.setLanguage(bash);

export interface Word {
  /** The word as written, quotes included. */
  raw: string;
  /** Its value when it has no expansion (quotes removed, escapes applied), else null. */
  literal: string | null;
}

export interface Command {
  /** The command's name as a literal word (`mkdir`), or null when it is computed (`$CMD`). */
  name: string | null;
  args: Word[];
  /** Runs only under a condition: inside if/case/loops/functions, or after `||`, or after a test with `&&`. */
  conditional: boolean;
  /** Wrappers it ran under (`sudo`, `exec`, `env`...), outermost first. */
  via: string[];
  /** Its output redirections (`>> /etc/passwd`): the operator and the target when it is a literal word. */
  redirects: { op: string; target: string | null }[];
}

const CONDITIONAL_PARENTS = new Set([
  'if_statement',
  'elif_clause',
  'else_clause',
  'case_statement',
  'while_statement',
  'for_statement',
  'c_style_for_statement',
  'function_definition',
]);
const TEST_COMMANDS = new Set(['[', '[[', 'test']);

/** The simple commands of a shell script, in source order, with wrappers (`sudo`, `env`, `exec`...) unwrapped. */
export function parseCommands(script: string): Command[] {
  const tree = parser.parse(script);
  if (!tree) return [];
  // Looking for `$(…)` in every word of every command costs a walk of each word's nodes: only when one is written.
  const found: Found = { out: [], substitutions: script.includes('$(') || script.includes('`') };
  try {
    walk(tree.rootNode, false, found, new Map());
  } finally {
    tree.delete();
  }
  return found.out;
}

/** The commands found so far, and whether the script has command substitutions to look into at all. */
interface Found {
  out: Command[];
  substitutions: boolean;
}

/** Values of `for VAR in literal words` loops in scope: `"$VAR"` in the body stands for each of them. */
type LoopValues = ReadonlyMap<string, string[]>;

function walk(node: Node, conditional: boolean, found: Found, loops: LoopValues): void {
  const type = node.type;
  switch (type) {
    case 'command':
      return walkCommand(node, conditional, found, loops);
    case 'for_statement':
      if (walkLiteralLoop(node, conditional, found, loops)) return;
      break;
    case 'redirected_statement':
      return walkRedirected(node, conditional, found, loops);
    case 'test_command':
      found.out.push({ name: '[[', args: [], conditional, via: [], redirects: [] });
      return;
    case 'list':
      return walkList(node, conditional, found, loops);
  }
  const childConditional = conditional || CONDITIONAL_PARENTS.has(type);
  for (const child of node.namedChildren) {
    if (!child) continue;
    // The condition of an `if` runs unconditionally; its body does not.
    const isCondition = type === 'if_statement' && node.childForFieldName('condition')?.id === child.id;
    walk(child, isCondition ? conditional : childConditional, found, loops);
  }
}

function walkCommand(node: Node, conditional: boolean, found: Found, loops: LoopValues): void {
  const command = toCommand(node, conditional, loops);
  if (command) found.out.push(command);
  // Command substitutions inside the words run too.
  if (found.substitutions) for (const child of node.namedChildren) if (child) walkSubstitutions(child, conditional, found, loops);
}

/**
 * `for d in /a /b; do mkdir "$d"; done` makes /a and /b: a loop over literal words runs its body for each. False
 * when the loop is not over literal words, for the caller to walk it as any other statement.
 */
function walkLiteralLoop(node: Node, conditional: boolean, found: Found, loops: LoopValues): boolean {
  const variable = node.childForFieldName('variable')?.text;
  const values = node
    .childrenForFieldName('value')
    .filter((v): v is Node => v !== null)
    .map((v) => literalOf(v));
  const body = node.childForFieldName('body');
  if (!variable || !body || values.length === 0 || values.some((v) => v === null)) return false;
  walk(body, conditional, found, new Map([...loops, [variable, values as string[]]]));
  return true;
}

/** `echo … >> /etc/passwd`, `{ a; b; } > f`: the redirections apply to every command of the body. */
function walkRedirected(node: Node, conditional: boolean, found: Found, loops: LoopValues): void {
  const { out } = found;
  const first = out.length;
  const body = node.childForFieldName('body');
  if (body) walk(body, conditional, found, loops);
  const redirects = redirectsOf(node);
  for (const command of out.slice(first)) command.redirects.push(...redirects);
}

/** `a && b`, `a || b`: b is conditional after `||`, or after a test. */
function walkList(node: Node, conditional: boolean, found: Found, loops: LoopValues): void {
  const [left, right] = node.namedChildren;
  const operator = node.children.find((c) => c && (c.type === '&&' || c.type === '||'))?.type;
  if (left) walk(left, conditional, found, loops);
  const leftIsTest = left ? isTest(left) : false;
  if (right) walk(right, conditional || operator === '||' || leftIsTest, found, loops);
}

function walkSubstitutions(node: Node, conditional: boolean, found: Found, loops: LoopValues): void {
  if (node.type === 'command_substitution') {
    for (const child of node.namedChildren) if (child) walk(child, conditional, found, loops);
    return;
  }
  for (const child of node.namedChildren) if (child) walkSubstitutions(child, conditional, found, loops);
}

function isTest(node: Node): boolean {
  if (node.type === 'test_command') return true;
  if (node.type === 'command') {
    const name = node.childForFieldName('name');
    return name ? TEST_COMMANDS.has(name.text) : false;
  }
  if (node.type === 'negated_command') return node.namedChildren.some((c) => c !== null && isTest(c));
  return false;
}

/** Wrappers that run the rest of their words as a command. */
const WRAPPERS = new Set(['sudo', 'exec', 'nohup', 'time', 'command', 'builtin']);

/** A command's children that are not its words: the name (taken first), assignments before it, redirections. */
const NOT_ARGUMENTS = new Set(['command_name', 'variable_assignment', 'file_redirect', 'herestring_redirect', 'heredoc_redirect']);

function toCommand(node: Node, conditional: boolean, loops: LoopValues): Command | null {
  const nameNode = node.childForFieldName('name');
  if (!nameNode) return null;
  const words = commandWords(node, nameNode, loops);
  const via = unwrap(words);
  if (words.length === 0) return null;
  return { name: words[0].literal, args: words.slice(1), conditional, via, redirects: redirectsOf(node) };
}

/** The command's words, its name first; `"$d"` in a loop over literal words stands for each of them. */
function commandWords(node: Node, nameNode: Node, loops: LoopValues): Word[] {
  const words: Word[] = [toWord(nameNode)];
  for (const child of node.namedChildren) {
    // Each `type` read crosses into WebAssembly: once per child.
    if (!child || NOT_ARGUMENTS.has(child.type)) continue;
    const loopVariable = loops.size > 0 ? loopVariableOf(child) : null;
    const values = loopVariable === null ? undefined : loops.get(loopVariable);
    if (values) words.push(...values.map((value) => ({ raw: child.text, literal: value })));
    else words.push(toWord(child));
  }
  return words;
}

/**
 * Takes the wrappers off the front of `words` (in place) and returns them, outermost first: `sudo -u x mkdir /d`
 * and `env A=b mkdir /d` still make /d.
 */
function unwrap(words: Word[]): string[] {
  const via: string[] = [];
  while (words.length > 1) {
    const first = words[0].literal;
    // `command -v find` looks a command up; it does not run it.
    if (first === 'command' && /^-[vV]$/.test(words[1].literal ?? '')) break;
    if (first === null || (first !== 'env' && !WRAPPERS.has(first))) break;
    via.push(first);
    words.splice(0, wrapperLength(first, words));
  }
  return via;
}

/** How many words the wrapper takes: itself, and its options (`env`'s assignments, `sudo`'s options and their values). */
function wrapperLength(wrapper: string, words: Word[]): number {
  let k = 1;
  if (wrapper === 'env') {
    while (k < words.length && (words[k].literal ?? '').match(/^-|^[A-Za-z_][A-Za-z0-9_]*=/)) k++;
  } else if (wrapper === 'sudo') {
    while (k < words.length && (words[k].literal ?? '').startsWith('-')) {
      k += /^-[ugCDhprt]$/.test(words[k].literal ?? '') ? 2 : 1;
    }
  }
  return k;
}

function redirectsOf(node: Node): { op: string; target: string | null }[] {
  return node.namedChildren
    .filter((c): c is Node => c !== null && c.type === 'file_redirect')
    .map((r) => {
      const destination = r.childForFieldName('destination');
      const op = r.children.find((c) => c !== null && /^[<>&|]+$/.test(c.type))?.type ?? '>';
      return { op, target: destination ? literalOf(destination) : null };
    });
}

/** `$d`, `${d}` or `"$d"`: the name of the variable that is the whole word. */
function loopVariableOf(node: Node): string | null {
  let inner: Node | null = node;
  if (inner.type === 'string' && inner.namedChildCount === 1) inner = inner.namedChildren[0];
  if (!inner || (inner.type !== 'simple_expansion' && inner.type !== 'expansion')) return null;
  if (inner.namedChildCount !== 1) return null;
  const name = inner.namedChildren[0];
  return name?.type === 'variable_name' ? name.text : null;
}

export function toWord(node: Node): Word {
  const raw = node.text;
  return { raw, literal: literalOf(node, raw) };
}

/** The node's value when it has no expansion; `text` is the node's text when the caller already has it. */
function literalOf(node: Node, text?: string): string | null {
  // `type` and `text` each cross into WebAssembly: read once.
  const type = node.type;
  switch (type) {
    case 'word':
    case 'command_name': {
      if (type === 'command_name') {
        const inner = node.namedChildren[0];
        if (inner && inner.type !== 'word') return literalOf(inner);
      }
      const value = text ?? node.text;
      return /[$`]/.test(value) ? null : value.replace(/\\(.)/g, '$1');
    }
    case 'number':
      return text ?? node.text;
    case 'raw_string':
      return (text ?? node.text).slice(1, -1);
    case 'string': {
      let value = '';
      for (const child of node.namedChildren) {
        if (!child) continue;
        if (child.type !== 'string_content') return null;
        value += child.text.replace(/\\([$`"\\\n])/g, '$1');
      }
      return value;
    }
    case 'concatenation': {
      let value = '';
      for (const child of node.namedChildren) {
        const part = child ? literalOf(child) : null;
        if (part === null) return null;
        value += part;
      }
      return value;
    }
    default:
      return null;
  }
}

/**
 * The shell script a RUN's argument text stands for: Dockerfile line continuations joined and the comment lines
 * inside them dropped, as Docker does before it hands the line to `/bin/sh -c`.
 */
export function dockerfileScript(argumentsText: string, escape: string): string {
  const lines = argumentsText.split(/\r\n|\r|\n/);
  const kept: string[] = [];
  let continued = false;
  for (const line of lines) {
    if (continued && /^\s*#/.test(line)) continue;
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed.endsWith(escape)) {
      kept.push(trimmed.slice(0, -1));
      continued = true;
    } else {
      kept.push(line + '\n');
      continued = false;
    }
  }
  return kept.join('');
}
