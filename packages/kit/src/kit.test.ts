import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PRIVATE_FILE_MODE, replaceDirectoryAtomic, writeFileAtomic } from './fs.ts';
import { listClusters, selectClusters } from './workspace.ts';
import { parseCommand, renderHelp, runCommand, assertSupportedNode } from './cli.ts';
import { UserError } from './errors.ts';
import { formatDuration } from './log.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'gw-kit-'));

describe('atomic writes', () => {
  it('writes a private file with exactly mode 0600 whatever the umask, and leaves no temporary file', () => {
    const dir = scratch();
    const previous = process.umask(0o000);
    try {
      writeFileAtomic(join(dir, 'key'), 'secret', { mode: PRIVATE_FILE_MODE });
    } finally {
      process.umask(previous);
    }
    expect(statSync(join(dir, 'key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['key']);
  });

  it('replaces a directory only once every new file is written, keeping the old one on failure', () => {
    const dir = join(scratch(), 'rendered');
    replaceDirectoryAtomic(dir, [{ path: 'a.yaml', data: 'one' }, { path: 'sub/b.yaml', data: 'two', mode: 0o600 }], { dirMode: 0o700 });
    expect(readFileSync(join(dir, 'sub/b.yaml'), 'utf8')).toBe('two');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(() => replaceDirectoryAtomic(dir, [{ path: 'a.yaml', data: 'new' }, { path: 'a.yaml', data: 'twice' }])).toThrowError('output path written twice: a.yaml');
    expect(() => replaceDirectoryAtomic(dir, [{ path: '../escape', data: 'x' }])).toThrowError(/escapes/);
    expect(readFileSync(join(dir, 'a.yaml'), 'utf8')).toBe('one');
    expect(readdirSync(join(dir, '..'))).toEqual(['rendered']);
  });

  it('keeps the old directory and removes the staging one when a write fails half-way', () => {
    const parent = scratch();
    const dir = join(parent, 'rendered');
    replaceDirectoryAtomic(dir, [{ path: 'keep.yaml', data: 'old' }]);
    // 'a' is written as a file, then 'a/b' needs it to be a directory: the second write fails.
    expect(() => replaceDirectoryAtomic(dir, [{ path: 'a', data: 'file' }, { path: 'a/b', data: 'x' }])).toThrow();
    expect(readFileSync(join(dir, 'keep.yaml'), 'utf8')).toBe('old');
    expect(readdirSync(parent)).toEqual(['rendered']);
  });
});

describe('cluster selection', () => {
  const root = scratch();
  for (const name of ['east', 'west']) {
    mkdirSync(join(root, 'clusters', name), { recursive: true });
    writeFileSync(join(root, 'clusters', name, 'cluster.yaml'), 'kind: Cluster\n');
  }
  mkdirSync(join(root, 'clusters', 'notes'));

  it('lists folders that hold a cluster.yaml', () => {
    expect(listClusters(root)).toEqual(['east', 'west']);
  });

  it('treats * and nothing as every cluster and accepts comma lists', () => {
    expect(selectClusters(root, '*')).toEqual(['east', 'west']);
    expect(selectClusters(root, undefined)).toEqual(['east', 'west']);
    expect(selectClusters(root, 'west, east')).toEqual(['west', 'east']);
  });

  it('names the missing cluster and lists the existing ones', () => {
    try {
      selectClusters(root, 'north');
      expect.unreachable();
    } catch (error) {
      expect((error as UserError).message).toBe('--cluster=north: no cluster folder clusters/north/ with a cluster.yaml');
      expect((error as UserError).hint).toBe('clusters in this repository: east, west');
      expect((error as UserError).exitCode).toBe(2);
    }
  });
});

describe('command runner', () => {
  const spec = {
    usage: 'demo --cluster=NAME',
    summary: 'A demo command.',
    options: { cluster: { type: 'string', valueName: 'NAME', default: '*', description: 'Which cluster.' } },
  } as const;

  it('prints help with every option and its default', () => {
    expect(parseCommand(spec, ['--help'])).toBe('help');
    const help = renderHelp(spec);
    expect(help).toContain('Usage: demo --cluster=NAME');
    expect(help).toContain('--cluster=NAME');
    expect(help).toContain('(default: *)');
  });

  it('returns 2 with a pointer to --help for an unknown flag, without a stack trace', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      expect(await runCommand(spec, () => 0, ['--clsuter=x'])).toBe(2);
      expect(await runCommand(spec, () => { throw new UserError('bad thing', { hint: 'do this' }); }, [])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('')).toContain("Unknown option '--clsuter'");
    expect(errors.join('')).toContain('Run with --help to see the accepted options.');
    expect(errors.join('')).toContain('error: bad thing\nhint: do this\n');
    expect(errors.join('')).not.toContain('    at ');
  });

  it('passes parsed options to the command', async () => {
    let seen = '';
    expect(await runCommand(spec, ({ options }) => void (seen = options.cluster), ['--cluster=east'])).toBe(0);
    expect(seen).toBe('east');
  });

  it('refuses Node older than 24 with the way to get the right one', () => {
    expect(() => assertSupportedNode('20.20.2')).toThrowError('groundwork needs Node 24 or newer, this is Node 20.20.2');
    expect(() => assertSupportedNode('24.21.0')).not.toThrow();
  });

  it('formats durations for progress lines', () => {
    expect([formatDuration(42), formatDuration(1500), formatDuration(125_000)]).toEqual(['42ms', '1.5s', '2m05s']);
  });
});

describe('numbers from the environment', () => {
  it('takes the default when unset or empty, the value when it is a number, and names the variable otherwise', async () => {
    const { envNumber } = await import('./log.ts');
    expect(envNumber({}, 'GROUNDWORK_POLL_MS', 5000)).toBe(5000);
    expect(envNumber({ GROUNDWORK_POLL_MS: '' }, 'GROUNDWORK_POLL_MS', 5000)).toBe(5000);
    expect(envNumber({ GROUNDWORK_POLL_MS: '250' }, 'GROUNDWORK_POLL_MS', 5000)).toBe(250);
    expect(() => envNumber({ GROUNDWORK_POLL_MS: 'soon' }, 'GROUNDWORK_POLL_MS', 5000)).toThrow('GROUNDWORK_POLL_MS=soon: expected a number (0 or more)');
    expect(() => envNumber({ GROUNDWORK_POLL_MS: '-1' }, 'GROUNDWORK_POLL_MS', 5000)).toThrow('GROUNDWORK_POLL_MS=-1');
  });
});
