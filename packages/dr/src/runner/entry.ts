// The runner bundle's entry point: bundle.ts builds runner.mjs from this file for the runner ConfigMap.
import { runnerMain } from './main.ts';

await runnerMain();
