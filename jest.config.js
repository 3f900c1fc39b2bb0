// Tests are TypeScript ESM run through ts-jest; they start real registries, so they run
// with generous timeouts and a bounded number of workers (the CI machine has 2 cores).
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
};

export default {
  // Global, not per project: jest reads testTimeout only here once projects are used.
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/summary-reporter.cjs'],
  projects: [
    { ...base, displayName: 'sqlite', testMatch: ['<rootDir>/tests/**/*.test.ts'] },
    // The job suites again, with the jobs in Redis (BullMQ): both backends must pass the same tests.
    {
      ...base,
      displayName: 'redis',
      testMatch: [
        '<rootDir>/tests/service/service-webhooks.test.ts',
        '<rootDir>/tests/service/service-api.test.ts',
        '<rootDir>/tests/service/service-reconcile.test.ts',
        '<rootDir>/tests/service/service-sync.test.ts',
        '<rootDir>/tests/service/service-bandwidth.test.ts',
        '<rootDir>/tests/service/service-filters.test.ts',
        '<rootDir>/tests/service/service-destinations.test.ts',
        '<rootDir>/tests/service/service-deletes.test.ts',
      ],
      setupFiles: ['<rootDir>/tests/setup/redis-backend.cjs'],
    },
  ],
};
