// Jest transformer (tests only): TypeScript through @swc/jest, then every module (ours, and the parser libraries
// named in jest.config.js) gets one line that binds the standard built-ins it reads to module-scope constants.
//
// Why: jest runs each module inside a vm context, where every read of a global (`Math`, `Object`, `JSON`...) goes
// through the context's interceptors (nodejs/node#31658): measured here, 2,000,000 `Math.floor` calls take
// 360 ms in a vm module against 6 ms once `Math` is a module-scope constant. The Dockerfile parser calls
// `Math.floor` for every argument position (vscode-languageserver-textdocument's positionAt), so the engine ran
// 5-10x slower under jest than under node, and the property tests spent half their time there. The shipped code
// never runs in a vm context; this changes nothing but where the same objects are read from.
'use strict';
const crypto = require('node:crypto');
const { readFileSync } = require('node:fs');
const { createTransformer: createSwcTransformer } = require('@swc/jest');

/**
 * Built-ins that no test replaces (jest's fake timers replace Date, setTimeout and friends, which are therefore
 * not bound here: a module must keep seeing whatever the test installed).
 */
const BUILTINS = [
  'Array',
  'ArrayBuffer',
  'Boolean',
  'DataView',
  'Error',
  'JSON',
  'Map',
  'Math',
  'Number',
  'Object',
  'RangeError',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'Symbol',
  'TypeError',
  'Uint8Array',
  'Uint32Array',
  'WeakMap',
  'WeakSet',
  'isNaN',
  'parseFloat',
  'parseInt',
];
/** This transformer's own text: editing it (the list above) invalidates jest's cache. */
const SELF = crypto.createHash('sha1').update(readFileSync(__filename)).digest('hex');

/** The names a module does not declare itself (a `const Map = …` of its own must not meet a second one). */
function bindable(code) {
  return BUILTINS.filter(
    (name) =>
      !new RegExp(`\\b(?:const|let|var|function|class|as)\\s+${name}\\b|[{,]\\s*${name}\\s*[,}:]|\\bimport\\s+${name}\\b`).test(code),
  );
}

/** The code with the binding line after a shebang and a 'use strict' directive (which must stay first to count). */
function withBindings(code) {
  const names = bindable(code);
  if (names.length === 0) return code;
  const line = `const { ${names.join(', ')} } = globalThis;`;
  const directive = /^(?:#![^\n]*\n)?(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(['"])use strict\1;?/.exec(code);
  const head = directive ? directive[0] : (/^#![^\n]*\n/.exec(code)?.[0] ?? '');
  // On the same line as what precedes it: line numbers in stack traces and source maps stay as they were.
  return head + line + code.slice(head.length);
}

module.exports = {
  createTransformer(swcOptions) {
    const swc = createSwcTransformer(swcOptions);
    const isTypeScript = (filename) => /\.[cm]?tsx?$/.test(filename);
    return {
      process(source, filename, options) {
        if (!isTypeScript(filename)) return { code: withBindings(source) };
        const result = swc.process(source, filename, options);
        return { ...result, code: withBindings(result.code) };
      },
      getCacheKey(source, filename, options) {
        return crypto
          .createHash('sha1')
          .update(SELF)
          .update('\0')
          .update(isTypeScript(filename) ? swc.getCacheKey(source, filename, options) : source)
          .update('\0')
          .update(filename)
          .update('\0')
          .update(String(options.supportsStaticESM))
          .digest('hex');
      },
    };
  },
};
