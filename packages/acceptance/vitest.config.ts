import { testConfig } from '../../tools/test/vitest-shared.ts';

// A whole platform takes minutes to generate, apply twice and drain; one cluster per test file, two at a time.
export default testConfig({ testTimeout: 600_000, hookTimeout: 600_000, maxWorkers: 2 });
