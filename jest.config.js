/** One jest run over every package. Tests import their own package from src/ (ts-jest, transpile only; tsc -b
 *  type-checks) and other @cfs/* packages from their built dist/, so `pnpm test` builds first. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
}
