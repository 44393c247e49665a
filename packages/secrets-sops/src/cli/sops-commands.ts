import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  SopsError,
  codes,
  creationRuleFor,
  clusterKeyFileFor,
  createKeyServices,
  emitPlaintext,
  encryptPlain,
  fileStatus,
  formatForPath,
  Mapping,
  normalizeFingerprint,
  openEncrypted,
  parseAgeRecipients,
  parseFormat,
  parseJsonValue,
  parseTreePath,
  rotate,
  sealOpenFile,
  setAt,
  storeFor,
  unsetAt,
  updateKeys,
  valueAt,
  valuesEqual,
  KeyNotFound,
  type Format,
  type KeyServices,
  type Store,
} from '../sops/index.ts';
import { commaList, type Flags } from './sops-args.ts';
import { configFor, encryptConfig, storeOptions } from './encrypt-config.ts';
import { readInput, requireExisting, writeResult } from './io.ts';

export interface Context {
  flags: Flags;
  args: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  services?: KeyServices;
}

function decryptionOrder(ctx: Context): string[] {
  return commaList(ctx.flags['decryption-order'] ?? ctx.env.SOPS_DECRYPTION_ORDER ?? 'age,pgp');
}

function fileArg(ctx: Context, index = 0): string {
  const file = ctx.args[index];
  if (file === undefined) throw new SopsError('Error: no file specified', codes.NoFileSpecified);
  return file;
}

/** Input and output stores, from --input-type/--output-type or the (overridden) file name. */
export function stores(ctx: Context, file: string | undefined): { input: Store; output: Store; name: string } {
  const name = ctx.flags['filename-override'] ?? file ?? '';
  const config = configFor(ctx.flags, ctx.env);
  const inputFormat: Format = ctx.flags['input-type'] ? parseFormat(ctx.flags['input-type']) : formatForPath(name);
  const outputFormat: Format = ctx.flags['output-type'] ? parseFormat(ctx.flags['output-type']) : inputFormat;
  return { input: storeFor(inputFormat, storeOptions(ctx.flags, config, inputFormat)), output: storeFor(outputFormat, storeOptions(ctx.flags, config, outputFormat)), name };
}

export async function services(ctx: Context): Promise<KeyServices> {
  // A file inside clusters/<name>/ can be opened with that cluster's age.key, after sops's own places.
  const file = ctx.args[0] && ctx.args[0] !== '-' ? ctx.args[0] : undefined;
  const clusterKey = file ? clusterKeyFileFor(file) : undefined;
  ctx.services ??= await createKeyServices({ env: ctx.env, ...(clusterKey ? { extraFiles: [clusterKey] } : {}) });
  return ctx.services;
}

export async function decryptCommand(ctx: Context): Promise<void> {
  const file = ctx.args[0];
  if (ctx.flags['in-place'] && (file === undefined || file === '-')) throw new SopsError('Error: cannot use --in-place when reading from stdin', codes.ErrorConflictingParameters);
  if (file !== undefined && file !== '-') requireExisting(file);
  const { input, output } = stores(ctx, file);
  const opened = await openEncrypted(readInput(file), input, await services(ctx), { ignoreMac: ctx.flags['ignore-mac'] ?? false, decryptionOrder: decryptionOrder(ctx) });
  let bytes: Uint8Array;
  if (ctx.flags.extract) {
    const value = valueAt(opened.branches[0] ?? new Mapping(), parseTreePath(ctx.flags.extract));
    if (value instanceof Mapping) bytes = output.emitPlain([value]);
    else if (typeof value === 'string') bytes = new TextEncoder().encode(value);
    else bytes = output.emitValue(value);
  } else bytes = emitPlaintext(opened, output);
  writeResult(bytes, { inPlace: ctx.flags['in-place'], output: ctx.flags.output, file, plaintext: true }, ctx.stdout);
}

export async function encryptCommand(ctx: Context): Promise<void> {
  const file = ctx.args[0];
  const fromStdin = file === undefined || file === '-';
  if (fromStdin && ctx.flags['in-place']) throw new SopsError('Error: cannot use --in-place when reading from stdin', codes.ErrorConflictingParameters);
  if (fromStdin && !ctx.flags['filename-override']) throw new SopsError('Error: must specify --filename-override when reading from stdin', codes.ErrorConflictingParameters);
  if (!fromStdin) requireExisting(file);
  const { input, output, name } = stores(ctx, file);
  const config = encryptConfig(ctx.flags, resolve(name), configFor(ctx.flags, ctx.env), ctx.env);
  const bytes = await encryptPlain(readInput(file), input, output, {
    keyGroups: config.keyGroups,
    shamirThreshold: config.threshold,
    rules: config.rules,
    services: await services(ctx),
  });
  writeResult(bytes, { inPlace: ctx.flags['in-place'], output: ctx.flags.output, file, plaintext: false }, ctx.stdout);
}

export async function rotateCommand(ctx: Context): Promise<void> {
  const file = fileArg(ctx);
  requireExisting(file);
  const { input, output } = stores(ctx, file);
  const keyServices = await services(ctx);
  const opened = await openEncrypted(readInput(file), input, keyServices, { ignoreMac: ctx.flags['ignore-mac'] ?? false, decryptionOrder: decryptionOrder(ctx) });
  const bytes = await rotate(opened, output, keyServices, {
    addAge: parseAgeRecipients(ctx.flags['add-age'] ?? ''),
    removeAge: parseAgeRecipients(ctx.flags['rm-age'] ?? ''),
    addPgp: commaList(ctx.flags['add-pgp']).map(normalizeFingerprint),
    removePgp: commaList(ctx.flags['rm-pgp']).map(normalizeFingerprint),
  });
  writeResult(bytes, { inPlace: ctx.flags['in-place'], output: ctx.flags.output, file, plaintext: false }, ctx.stdout);
}

export async function setCommand(ctx: Context, legacy = false): Promise<void> {
  let file: string;
  let path: string;
  let rawValue: string;
  if (legacy) {
    file = fileArg(ctx);
    const match = /^\s*((?:\[[^\]]*\])+)\s+([\s\S]*)$/.exec(ctx.flags.set ?? '');
    if (!match) throw new SopsError('Invalid set index format', codes.ErrorInvalidSetFormat);
    [path, rawValue] = [match[1]!, match[2]!];
  } else {
    if (ctx.flags['value-file'] && ctx.flags['value-stdin']) throw new SopsError('Error: cannot use both --value-file and --value-stdin', codes.ErrorGeneric);
    const needed = ctx.flags['value-stdin'] ? 2 : 3;
    if (ctx.args.length !== needed) {
      throw new SopsError(`Error: no file specified, or index and value are missing. Need precisely ${needed} positional arguments.`, codes.NoFileSpecified);
    }
    [file, path] = [ctx.args[0]!, ctx.args[1]!];
    if (ctx.flags['value-stdin']) rawValue = new TextDecoder().decode(readInput('-'));
    else if (ctx.flags['value-file']) rawValue = new TextDecoder().decode(readInput(ctx.args[2]));
    else rawValue = ctx.args[2]!;
  }
  requireExisting(file);
  let value;
  try {
    value = parseJsonValue(rawValue);
  } catch {
    throw new SopsError('Error: the value must be JSON, e.g. \'"a string"\', 42 or \'{"key": "value"}\'', codes.ErrorInvalidSetFormat);
  }
  const { input, output } = stores(ctx, file);
  const opened = await openEncrypted(readInput(file), input, await services(ctx), { ignoreMac: ctx.flags['ignore-mac'] ?? false, decryptionOrder: decryptionOrder(ctx) });
  const changed = setAt(opened.branches[0]!, parseTreePath(path), value, valuesEqual);
  if (!changed && ctx.flags.idempotent) return;
  writeResult(sealOpenFile(opened, output), { inPlace: true, file, plaintext: false }, ctx.stdout);
}

export async function unsetCommand(ctx: Context): Promise<void> {
  if (ctx.args.length !== 2) throw new SopsError('Error: no file specified, or index is missing', codes.NoFileSpecified);
  const [file, path] = [ctx.args[0]!, ctx.args[1]!];
  requireExisting(file);
  const { input, output } = stores(ctx, file);
  const opened = await openEncrypted(readInput(file), input, await services(ctx), { ignoreMac: ctx.flags['ignore-mac'] ?? false, decryptionOrder: decryptionOrder(ctx) });
  try {
    unsetAt(opened.branches[0]!, parseTreePath(path));
  } catch (error) {
    if (error instanceof KeyNotFound && ctx.flags.idempotent) return;
    throw error;
  }
  writeResult(sealOpenFile(opened, output), { inPlace: true, file, plaintext: false }, ctx.stdout);
}

async function confirm(ctx: Context, question: string): Promise<boolean> {
  if (ctx.flags.yes) return true;
  if (!process.stdin.isTTY) throw new SopsError('refusing to change keys without --yes when stdin is not a terminal', codes.ErrorGeneric);
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  const answer = await rl.question(question);
  rl.close();
  return answer.trim().toLowerCase() === 'y';
}

export async function updatekeysCommand(ctx: Context): Promise<void> {
  if (ctx.args.length === 0) throw new SopsError('Error: no file specified', codes.NoFileSpecified);
  const config = configFor(ctx.flags, ctx.env);
  if (!config) throw new SopsError('config file not found, or has no creation rules, and no keys provided through command line options', codes.ConfigFileNotFound);
  let failed = 0;
  for (const file of ctx.args) {
    requireExisting(file);
    const rule = creationRuleFor(config, resolve(file));
    if (!rule) throw new SopsError('error loading config: no matching creation rules found', codes.ErrorReadingConfig);
    const { input } = stores(ctx, file);
    const update = await updateKeys(readInput(file), input, await services(ctx), rule.keyGroups, rule.shamirThreshold, { decryptionOrder: decryptionOrder(ctx) });
    if (!update.changed) {
      ctx.stderr.write(`File ${file} already up to date\n`);
      continue;
    }
    ctx.stderr.write(`The following changes will be made to the file's groups:\n${update.added.map((k) => `+++ ${k}\n`).join('')}${update.removed.map((k) => `--- ${k}\n`).join('')}`);
    if (!(await confirm(ctx, 'Is this okay? (y/n):'))) {
      ctx.stderr.write('Changes not applied\n');
      failed++;
      continue;
    }
    writeResult(update.output!, { inPlace: true, file, plaintext: false }, ctx.stdout);
    ctx.stderr.write(`File ${file} synced with new keys\n`);
  }
  if (failed > 0) throw new SopsError(`failed updating ${failed} key(s)`, codes.ErrorGeneric);
}

export async function filestatusCommand(ctx: Context): Promise<void> {
  const file = fileArg(ctx);
  requireExisting(file);
  const { input } = stores(ctx, file);
  ctx.stdout.write(`${JSON.stringify(fileStatus(readInput(file), input))}\n`);
}
