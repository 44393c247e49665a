#!/usr/bin/env node
import { launch } from '@groundwork/kit/launch';

await launch(new URL('../src/rebuild-cli.ts', import.meta.url));
