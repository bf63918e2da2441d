import { defineConfig } from 'vitest/config';

// Time limits sized for the 2-core machine the suite is measured on (docs/testing.md): a hung
// test or hook fails with its name instead of stalling CI.
export default defineConfig({
  test: {
    // Integration files start real sshd hosts, engines and hundreds of processes: one file at a
    // time, each in its own process, as the suite ran under node --test.
    fileParallelism: false,
    pool: 'forks',
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      // Hooks may build the container image from nothing (debootstrap: ~45 s, more on a cold mirror).
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'examples/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 600_000 } },
    ],
  },
});
