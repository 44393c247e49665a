import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

/**
 * The one vitest configuration every package uses. Tests make scratch folders freely; pointing TMPDIR at a
 * folder owned by this run (see temp-root.ts) means they all go away when the run ends, even after a failure.
 * The pinned builds of promtool and friends come first on PATH (pinned-tools.ts).
 */
export function testConfig(options: TestOptions = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      globalSetup: [new URL('./temp-root.ts', import.meta.url).pathname, new URL('./pinned-tools.ts', import.meta.url).pathname],
      ...options,
    },
  });
}
