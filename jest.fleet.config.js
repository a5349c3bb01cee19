/**
 * Fleet tests (`npm run test:fleet`, which runs scripts/fleet/run.sh: git, Chromium and pre-commit from
 * Debian's archive, the build, then jest): real git repositories driven the way each fleet runner drives
 * peak-fix, the HTML report in a headless browser, and the pre-commit hook through `pre-commit try-repo`.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__/fleet'],
  testMatch: ['**/*.fleet.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600000,
  maxWorkers: 1,
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' }, experimental: { keepImportAttributes: true } },
        module: { type: 'es6' },
      },
    ],
  },
};
