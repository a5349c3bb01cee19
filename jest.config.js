/** The libraries the engine spends its time in (the Dockerfile and shell parsers). */
const HOT_LIBRARIES = ['dockerfile-ast', 'vscode-languageserver-textdocument', 'vscode-languageserver-types', 'web-tree-sitter'];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  // dist/ for the built-CLI suites, built once before any suite starts (when a source changed).
  globalSetup: '<rootDir>/scripts/jest-build.js',
  // Jest's default is one worker fewer than the cores: on 2 cores that is 1, and every suite runs in band.
  // The suites are CPU-bound (property tests) or wait on child processes (the built CLI): use every core.
  maxWorkers: '100%',
  roots: ['<rootDir>/__tests__', '<rootDir>/transforms'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/e2e/', '/__tests__/fleet/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // TypeScript through @swc/jest, and built-ins bound per module, ours and the parser libraries' below: a global
  // read inside jest's vm context is ~50x slower than under node (see scripts/jest-fast-globals.cjs).
  transform: {
    '^.+\\.ts$': [
      '<rootDir>/scripts/jest-fast-globals.cjs',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' }, experimental: { keepImportAttributes: true } },
        module: { type: 'es6' },
      },
    ],
    [`/node_modules/(?:${HOT_LIBRARIES.join('|')})/.+\\.js$`]: '<rootDir>/scripts/jest-fast-globals.cjs',
  },
  transformIgnorePatterns: [`/node_modules/(?!(?:${HOT_LIBRARIES.join('|')})/)`],
};
