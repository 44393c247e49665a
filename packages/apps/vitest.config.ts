import { testConfig } from '../../tools/test/vitest-shared.ts';

export default testConfig();
