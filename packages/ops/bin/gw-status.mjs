#!/usr/bin/env node
import { launch } from '@groundwork/kit/launch';

await launch(new URL('../src/status-cli.ts', import.meta.url));
