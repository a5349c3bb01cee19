/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  // Jest's default is one worker fewer than the cores: on 2 cores that is 1, and every suite runs in band.
  // The suites are CPU-bound (property tests) or wait on child processes (the built CLI): use every core.
  maxWorkers: '100%',
  roots: ['<rootDir>/__tests__', '<rootDir>/transforms'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/e2e/', '/__tests__/fleet/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
};
