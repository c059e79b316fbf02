import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Database tests own their databases, so files run in parallel safely.
    pool: 'forks',
    // `npm run coverage`: V8 coverage of the service code exercised in this process's workers
    // (the tests under tests/process/ start servers of their own, which are not measured).
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'html', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
