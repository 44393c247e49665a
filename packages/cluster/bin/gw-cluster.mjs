#!/usr/bin/env node
import { launch } from '@groundwork/kit/launch';

await launch(new URL('../src/cli.ts', import.meta.url));
