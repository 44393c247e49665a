import { testConfig } from '../../tools/test/vitest-shared.ts';

export default testConfig({ testTimeout: 20_000 });
