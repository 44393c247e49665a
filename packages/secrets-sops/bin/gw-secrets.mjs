#!/usr/bin/env node
import { launch } from '@groundwork/kit/launch';

await launch(new URL('../src/secrets-cli.ts', import.meta.url));
