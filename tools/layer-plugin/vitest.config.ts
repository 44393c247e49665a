import { defineConfig } from 'vitest/config';

// These tests drive the real nx binary in scratch copies of the workspace; each run takes seconds.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 240_000, fileParallelism: false },
});
