import { defineConfig } from 'vitest/config';

/**
 * Files that measure the event loop, or start a fleet of processes, run alone after the rest: with
 * two files at a time on two cores, one's load shows up as the other's delay.
 */
const alone = [
  'test/integration/several-machines.test.ts',
  'test/integration/preview-index.test.ts',
  'test/integration/topics-preview.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Every answer a test fetches from a test app is checked against the OpenAPI document.
    setupFiles: ['test/support/check-answers.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        // Each file gets its own database and queue prefix; two cores run two files at a time.
        test: {
          name: 'parallel',
          include: ['test/**/*.test.ts'],
          exclude: alone,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: alone, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
