import { defineConfig } from 'vitest/config';

// Under CI the JSON report feeds .ci/run's plain "N passed, N failed" line.
const ci = Boolean(process.env['CI']);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    reporters: ci ? ['default', 'json'] : ['default'],
    outputFile: ci ? { json: '.tmp/vitest-report.json' } : undefined,
  },
});
