import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { hasCommand } from '@groundwork/kit';
import { SopsError, codes, encryptPlain, openEncrypted, sealOpenFile, type Format } from '../sops/index.ts';
import { configFor, encryptConfig } from './encrypt-config.ts';
import { readInput, writeResult } from './io.ts';
import { services as keyServices, stores, type Context } from './sops-commands.ts';

const EXAMPLES: Record<Format, string> = {
  yaml: '# New secret file: edit it, save and quit; values are encrypted on the way out.\nexample_key: example_value\n',
  json: '{\n\t"example_key": "example_value"\n}\n',
  dotenv: '# New secret file: edit it, save and quit.\nEXAMPLE_KEY=example_value\n',
  ini: '[example]\nkey = value\n',
  binary: 'New secret file: edit it, save and quit.\n',
};

function editorCommand(env: NodeJS.ProcessEnv): string {
  const chosen = env.SOPS_EDITOR || env.EDITOR;
  if (chosen) return chosen;
  const fallback = ['vim', 'nano', 'vi'].find(hasCommand);
  if (!fallback) throw new SopsError('Could not find any editors', codes.NoEditorFound, 'set $EDITOR (or $SOPS_EDITOR)');
  return fallback;
}

/**
 * sops edit: the plaintext goes to a file in a private temporary directory (0700, file 0600) that is removed
 * afterwards whatever happens; the file is re-encrypted only when the editor changed something.
 */
export async function editCommand(ctx: Context): Promise<void> {
  const file = ctx.args[0];
  if (file === undefined) throw new SopsError('Error: no file specified', codes.NoFileSpecified);
  const exists = existsSync(file);
  const { input } = stores(ctx, file);
  const services = await keyServices(ctx);
  const opened = exists ? await openEncrypted(readInput(file), input, services, { ignoreMac: ctx.flags['ignore-mac'] ?? false }) : undefined;
  const before = opened ? input.emitPlain(opened.branches) : new TextEncoder().encode(EXAMPLES[input.format]);
  const dir = mkdtempSync(join(tmpdir(), 'gw-sops-edit-'));
  const temp = join(dir, basename(file));
  try {
    writeFileSync(temp, before, { mode: 0o600 });
    const result = spawnSync('sh', ['-c', `${editorCommand(ctx.env)} "$1"`, 'sh', temp], { stdio: 'inherit', env: ctx.env });
    if (result.status !== 0) throw new SopsError(`Could not run editor: exit code ${result.status ?? result.signal}`, codes.ErrorGeneric);
    const after = new Uint8Array(readFileSync(temp));
    if (Buffer.from(after).equals(Buffer.from(before))) throw new SopsError('File has not changed, exiting.', codes.FileHasNotBeenModified);
    let bytes: Uint8Array;
    if (opened) {
      try {
        opened.branches = input.loadPlain(after);
      } catch (error) {
        throw new SopsError(`Could not load tree, probably due to invalid syntax: ${(error as Error).message}`, codes.CouldNotReadInputFile, `nothing was written; ${file} is unchanged`);
      }
      bytes = sealOpenFile(opened, input);
    } else {
      const config = encryptConfig(ctx.flags, resolve(file), configFor(ctx.flags, ctx.env), ctx.env);
      bytes = await encryptPlain(after, input, input, { keyGroups: config.keyGroups, shamirThreshold: config.threshold, rules: config.rules, services });
    }
    writeResult(bytes, { inPlace: true, file, plaintext: false }, ctx.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
