import { describe, expect, it } from 'vitest';
import { summarize } from './run-targets.ts';

describe('the exit code gw-cluster run gives for an Nx run', () => {
  it('is the most specific code a layer reported, 130 only for its own interruption, and 1 when a task died silently', () => {
    expect(summarize(0, null, false, [{ task: 'a:apply', code: 0 }]).code).toBe(0);
    const mixed = summarize(130, null, false, [{ task: 'a:apply', code: 1 }, { task: 'b:apply', code: 5 }]);
    expect(mixed.code).toBe(5);
    expect(mixed.summary).toBe('failed: a:apply (exit 1), b:apply (exit 5); the tasks that depend on them did not run');
    expect(summarize(130, null, true, []).code).toBe(130);
    const silent = summarize(1, null, false, [{ task: 'a:generate', code: 0 }]);
    expect(silent.code).toBe(1);
    expect(silent.summary).toBe("nx exited 1 without a failing layer script's report; 1 task(s) reported success, the failed one reported nothing: see the output above");
  });
});
