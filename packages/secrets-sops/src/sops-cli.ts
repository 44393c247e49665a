#!/usr/bin/env -S npx node
/**
 * gw-sops: the sops command line, implemented on groundwork's SOPS library. Same verbs, flags, file
 * formats and exit codes as sops, so existing scripts and muscle memory keep working.
 */
import { reportFailure } from '@groundwork/kit';
import { SOPS_FORMAT_VERSION } from './sops/index.ts';
import { HELP, parseInvocation } from './cli/sops-args.ts';
import {
  decryptCommand,
  encryptCommand,
  filestatusCommand,
  rotateCommand,
  setCommand,
  unsetCommand,
  updatekeysCommand,
  type Context,
} from './cli/sops-commands.ts';
import { editCommand } from './cli/edit.ts';

export async function main(argv: string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  try {
    const invocation = parseInvocation(argv);
    if (invocation.verb === 'help') {
      stdout.write(HELP);
      return 0;
    }
    if (invocation.verb === 'version') {
      stdout.write(`sops ${SOPS_FORMAT_VERSION} (groundwork gw-sops)\n`);
      return 0;
    }
    const ctx: Context = { flags: invocation.flags, args: invocation.args, env, stdout, stderr };
    switch (invocation.verb) {
      case 'decrypt':
        await decryptCommand(ctx);
        break;
      case 'encrypt':
        await encryptCommand(ctx);
        break;
      case 'rotate':
        await rotateCommand(ctx);
        break;
      case 'edit':
        await editCommand(ctx);
        break;
      case 'set':
        await setCommand(ctx, argv[0] !== 'set');
        break;
      case 'unset':
        await unsetCommand(ctx);
        break;
      case 'updatekeys':
        await updatekeysCommand(ctx);
        break;
      case 'filestatus':
        await filestatusCommand(ctx);
        break;
    }
    return 0;
  } catch (error) {
    return reportFailure(error, stderr);
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
