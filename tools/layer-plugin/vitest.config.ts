import { testConfig } from '../../tools/test/vitest-shared.ts';

// These tests drive the real nx binary in scratch copies of the workspace; each run takes seconds.
export default testConfig({ testTimeout: 240_000, hookTimeout: 240_000, fileParallelism: false });
