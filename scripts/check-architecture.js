// The architecture rules of the source tree (src/ and transforms/, tests left out), checked by
// __tests__/architecture.test.ts and by hand with `node scripts/check-architecture.js` (one line per violation,
// exit status 1 when there is any):
//   1. no import cycle: the relative imports (static, re-exports, import() of a string, type-only too) make no
//      strongly connected component of more than one file, and no file imports itself;
//   2. layers point only down: a file imports files of its own layer or of lower layers (LAYERS below), and every
//      file is in a layer;
//   3. small functions: no function spans more than MAX_LINES lines or has more than MAX_BRANCHES branches.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers, from the bottom up: a file may import its own layer and the layers below it. A pattern is a path
 * from the root: `dir/**` is everything under dir, `*` any name within one folder, a pattern ending in `/` a
 * prefix; anything else is one file. The first layer that matches a file is its layer.
 */
export const LAYERS = [
  { name: 'facts', patterns: ['src/facts/**'] },
  { name: 'core', patterns: ['src/types.ts', 'src/options.ts', 'src/edits.ts', 'src/lazy-import.ts'] },
  { name: 'model', patterns: ['src/model/**'] },
  { name: 'rewrite', patterns: ['src/rewrite/**'] },
  { name: 'transforms', patterns: ['transforms/**'] },
  { name: 'engine', patterns: ['src/engine.ts', 'src/index.ts'] },
  { name: 'report', patterns: ['src/report/**'] },
  { name: 'runner', patterns: ['src/runner/**'] },
  { name: 'gather', patterns: ['src/gather/**'] },
  { name: 'fleet', patterns: ['src/fleet/**'] },
  { name: 'cli', patterns: ['src/cli/**'] },
];

/** The folders checked, from the root. */
export const SOURCE_DIRS = ['src', 'transforms'];

/** The largest function: its lines, first to last, and its branches (see countBranches). */
export const MAX_LINES = 60;
export const MAX_BRANCHES = 20;

/** The `.ts` files under the source folders, tests left out, as paths from the root with `/`. */
function sourceFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== '__tests__' && entry.name !== 'node_modules') walk(rel);
      } else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) {
        files.push(rel);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(root, dir))) walk(dir);
  return files.sort();
}

function parse(root, file) {
  return ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

// ---- Rule 1: the import graph -------------------------------------------------------------------------------

/** The module specifiers of a file's imports: static, re-exports, import() of a string, import('...') types, require. */
function importSpecifiers(source) {
  const specifiers = [];
  const visit = (node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) specifiers.push(expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) specifiers.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/**
 * The file a relative specifier names, from the root, or undefined (a package, or nothing there): `./x.js` is
 * `./x.ts`, a JSON file is itself (a leaf of the graph), `./x` is `./x.ts` or `./x/index.ts`.
 */
function resolveImport(root, from, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const exists = (file) => existsSync(path.join(root, file)) && statSync(path.join(root, file)).isFile();
  const candidates = [];
  if (target.endsWith('.js')) candidates.push(`${target.slice(0, -3)}.ts`);
  else if (target.endsWith('.mjs')) candidates.push(`${target.slice(0, -4)}.mts`);
  else if (target.endsWith('.json') || target.endsWith('.ts')) candidates.push(target);
  else candidates.push(`${target}.ts`, `${target}/index.ts`);
  return candidates.find(exists);
}

/** Each file's imports of files of the tree (sorted, without repeats), from the root. */
export function importGraph(root, files = sourceFiles(root), sources = new Map()) {
  const graph = new Map();
  for (const file of files) {
    const source = sources.get(file) ?? parse(root, file);
    sources.set(file, source);
    const targets = new Set();
    for (const specifier of importSpecifiers(source)) {
      const target = resolveImport(root, file, specifier);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The strongly connected components of more than one file, and the files that import themselves (Tarjan). */
function findCycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  let next = 0;
  const connect = (file) => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue; // a JSON file: a leaf
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file), low.get(target)));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file), index.get(target)));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file).includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) connect(file);
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

// ---- Rule 2: the layers -------------------------------------------------------------------------------------

function globToRegExp(pattern) {
  if (pattern.endsWith('/')) pattern += '**';
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The layer of a file (its index in LAYERS and its name), or undefined. */
export function layerOf(file, layers = LAYERS) {
  const level = layers.findIndex((layer) => layer.patterns.some((pattern) => globToRegExp(pattern).test(file)));
  return level === -1 ? undefined : { level, name: layers[level].name };
}

/** The imports of a higher layer, and (as `from` with no `to`) the files in no layer. */
function findUpward(graph, layers) {
  const upward = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file, layers);
    if (from === undefined) {
      upward.push({ from: file, to: null, fromLayer: null, toLayer: null });
      continue;
    }
    for (const target of targets) {
      const to = layerOf(target, layers);
      // An unplaced .ts file is reported as such; an unplaced JSON file only through the files that import it.
      if (to === undefined && graph.has(target)) continue;
      if (to === undefined || to.level > from.level)
        upward.push({ from: file, to: target, fromLayer: from.name, toLayer: to?.name ?? null });
    }
  }
  return upward;
}

// ---- Rule 3: the functions ----------------------------------------------------------------------------------

function isFunction(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

const LOGICAL_OPERATORS = new Set([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);

/** One branch each: if (and so else if), ?:, case, &&, ||, ??, the loops, catch. */
function isBranch(node) {
  switch (node.kind) {
    case ts.SyntaxKind.IfStatement:
    case ts.SyntaxKind.ConditionalExpression:
    case ts.SyntaxKind.CaseClause:
    case ts.SyntaxKind.ForStatement:
    case ts.SyntaxKind.ForOfStatement:
    case ts.SyntaxKind.ForInStatement:
    case ts.SyntaxKind.WhileStatement:
    case ts.SyntaxKind.DoStatement:
    case ts.SyntaxKind.CatchClause:
      return true;
    case ts.SyntaxKind.BinaryExpression:
      return LOGICAL_OPERATORS.has(node.operatorToken.kind);
    default:
      return false;
  }
}

/** The branches of a function, not counting those of the functions (and classes) inside it. */
function countBranches(fn) {
  let branches = 0;
  const visit = (node) => {
    if (isFunction(node) || ts.isClassLike(node)) return;
    if (isBranch(node)) branches++;
    ts.forEachChild(node, visit);
  };
  // The parameters too: a default value can hold a branch.
  ts.forEachChild(fn, visit);
  return branches;
}

/** An arrow function returning an object or array literal: data, not logic. */
function returnsData(fn) {
  if (!ts.isArrowFunction(fn) || ts.isBlock(fn.body)) return false;
  let body = fn.body;
  while (ts.isParenthesizedExpression(body) || ts.isAsExpression(body) || ts.isSatisfiesExpression(body)) body = body.expression;
  return ts.isObjectLiteralExpression(body) || ts.isArrayLiteralExpression(body);
}

function nameText(name) {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteralLike(name) || ts.isNumericLiteral(name)) return name.text;
  return name.getText();
}

/** A function's name: its own, its class's and its own, or the name it is given (variable, property); else undefined. */
function functionName(fn) {
  const own = ts.isConstructorDeclaration(fn) ? 'constructor' : nameText(fn.name);
  if (ts.isMethodDeclaration(fn) || ts.isConstructorDeclaration(fn) || ts.isAccessor(fn)) {
    const owner = fn.parent && ts.isClassLike(fn.parent) ? nameText(fn.parent.name) : undefined;
    return owner ? `${owner}.${own}` : own;
  }
  if (own !== undefined) return own;
  let parent = fn.parent;
  while (parent && (ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent)))
    parent = parent.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return nameText(parent.name);
  }
  return undefined;
}

/** The functions of a file over MAX_LINES lines or MAX_BRANCHES branches. */
function findBig(file, source) {
  const big = [];
  const visit = (node) => {
    if (isFunction(node) && node.body !== undefined && !returnsData(node)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line + 2 - line;
      const branches = countBranches(node);
      if (lines > MAX_LINES || branches > MAX_BRANCHES)
        big.push({ file, name: functionName(node) ?? '<anonymous>', line, lines, branches });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return big;
}

// ---- All three ----------------------------------------------------------------------------------------------

/** The violations of the three rules in the tree at root. */
export function checkArchitecture(root, layers = LAYERS) {
  const files = sourceFiles(root);
  const sources = new Map();
  const graph = importGraph(root, files, sources);
  return {
    cycles: findCycles(graph),
    upward: findUpward(graph, layers),
    big: files.flatMap((file) => findBig(file, sources.get(file))),
  };
}

/** One line per violation. */
export function formatViolations({ cycles, upward, big }, layers = LAYERS) {
  const level = (name) => layers.findIndex((layer) => layer.name === name);
  return [
    ...cycles.map((cycle) =>
      cycle.length === 1 ? `import cycle: ${cycle[0]} imports itself` : `import cycle (${cycle.length} files): ${cycle.join(', ')}`,
    ),
    ...upward
      .filter(({ fromLayer }) => fromLayer !== null)
      .map(({ from, to, fromLayer, toLayer }) =>
        toLayer === null
          ? `unplaced import: ${from} (L${level(fromLayer)} ${fromLayer}) imports ${to}, which is in no layer`
          : `upward import: ${from} (L${level(fromLayer)} ${fromLayer}) imports ${to} (L${level(toLayer)} ${toLayer})`,
      ),
    ...upward.filter(({ fromLayer }) => fromLayer === null).map(({ from }) => `unplaced: ${from} is in no layer`),
    ...big.map(
      ({ file, name, line, lines, branches }) =>
        `big function: ${file}:${line} ${name}: ${lines} lines, ${branches} branches (at most ${MAX_LINES} lines, ${MAX_BRANCHES} branches)`,
    ),
  ];
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const violations = checkArchitecture(root);
  const lines = formatViolations(violations);
  for (const line of lines) console.log(line);
  const unplaced = violations.upward.filter((entry) => entry.fromLayer === null).length;
  console.error(
    `check-architecture: ${violations.cycles.length} import cycles, ${violations.upward.length - unplaced} upward imports, ` +
      `${unplaced} unplaced files, ${violations.big.length} big functions`,
  );
  process.exitCode = lines.length > 0 ? 1 : 0;
}
