import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, isUserError } from './errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** One line for --help. */
  description: string;
  /** Placeholder shown in --help for string options, e.g. NAME. */
  valueName?: string;
}

export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** How the command is invoked, e.g. `tsx packages/secrets-sops/src/generate.ts`. */
  usage: string;
  summary: string;
  /** Extra paragraphs printed after the options in --help. */
  details?: string;
  options: O;
  /** Whether positional arguments are accepted. */
  positionals?: { name: string; description: string; min?: number; max?: number };
}

type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean'
  ? S['multiple'] extends true
    ? boolean[]
    : boolean
  : S['multiple'] extends true
    ? string[]
    : S['default'] extends string
      ? string
      : string | undefined;

export type ParsedOptions<O extends Record<string, OptionSpec>> = { [K in keyof O]: OptionValue<O[K]> };

export interface Parsed<O extends Record<string, OptionSpec>> {
  options: ParsedOptions<O>;
  positionals: string[];
}

export function renderHelp(spec: CommandSpec<Record<string, OptionSpec>>): string {
  const lines = [spec.summary, '', `Usage: ${spec.usage}`];
  if (spec.positionals) lines.push('', 'Arguments:', `  ${spec.positionals.name.padEnd(24)} ${spec.positionals.description}`);
  lines.push('', 'Options:');
  const entries = Object.entries(spec.options).concat([['help', { type: 'boolean', short: 'h', description: 'Show this help and exit.' }]]);
  for (const [name, opt] of entries) {
    const flag = `${opt.short ? `-${opt.short}, ` : '    '}--${name}${opt.type === 'string' ? `=${opt.valueName ?? 'VALUE'}` : ''}`;
    const def = opt.default !== undefined && opt.type === 'string' ? ` (default: ${String(opt.default)})` : '';
    lines.push(`  ${flag.padEnd(30)} ${opt.description}${def}`);
  }
  if (spec.details) lines.push('', spec.details.trim());
  return `${lines.join('\n')}\n`;
}

/** Parses argv against the spec. Unknown flags are an error that names the flag and points at --help. */
export function parseCommand<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: string[]): Parsed<O> | 'help' {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, opt] of Object.entries(spec.options)) {
    options[name] = {
      type: opt.type,
      ...(opt.short ? { short: opt.short } : {}),
      ...(opt.multiple ? { multiple: true } : {}),
      ...(opt.default !== undefined ? { default: opt.default } : {}),
    } as NonNullable<ParseArgsConfig['options']>[string];
  }
  let result;
  try {
    result = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${(error as Error).message}\nRun with --help to see the accepted options.`, { exitCode: 2 });
  }
  if (result.values.help) return 'help';
  const positionals = result.positionals;
  const min = spec.positionals?.min ?? 0;
  const max = spec.positionals ? (spec.positionals.max ?? Infinity) : 0;
  if (positionals.length < min || positionals.length > max) {
    const expected = spec.positionals ? `${spec.positionals.name}` : 'no positional arguments';
    throw new UserError(`expected ${expected}, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}\nUsage: ${spec.usage}`, {
      exitCode: 2,
    });
  }
  return { options: result.values as ParsedOptions<O>, positionals };
}

/** Prints a failure the way every groundwork script does: one clear message, a hint, no stack for user errors. */
export function reportFailure(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (isUserError(error)) {
    stderr.write(`error: ${error.message}\n`);
    if (error.hint) stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const err = error as Error;
  stderr.write(`error: ${err?.stack ?? String(error)}\n`);
  return 1;
}

/**
 * Runs a script's main function with the shared conventions: --help, argument errors with exit code 2,
 * user errors without stacks, and a Node version check. Returns the exit code; entry scripts end with
 * `if (import.meta.main) process.exitCode = await main(process.argv.slice(2));`.
 */
export async function runCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  main: (parsed: Parsed<O>) => Promise<number | void> | number | void,
  argv: string[] = process.argv.slice(2),
): Promise<number> {
  let code = 0;
  try {
    assertSupportedNode();
    const parsed = parseCommand(spec, argv);
    if (parsed === 'help') {
      process.stdout.write(renderHelp(spec as CommandSpec<Record<string, OptionSpec>>));
    } else {
      code = (await main(parsed)) ?? 0;
    }
  } catch (error) {
    code = reportFailure(error);
  }
  return code;
}

/** groundwork targets Node 24; the npm `node` package provides it inside the workspace. */
export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major < 24) {
    throw new UserError(`groundwork needs Node 24 or newer, this is Node ${version}`, {
      hint: 'run scripts through npm or npx (npx tsx …, npx nx …) so that node_modules/.bin/node (Node 24) is used',
    });
  }
}
