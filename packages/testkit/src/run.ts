import { vi } from 'vitest';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script's main(argv) in-process against a workspace, capturing what it prints. */
export async function runIn(root: string, main: (argv: string[]) => Promise<number>, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  process.env.GROUNDWORK_ROOT = root;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** An environment with no identities but the ones a test gives (no ~/.config/sops, no GnuPG). */
export function isolatedEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: home, XDG_CONFIG_HOME: undefined, SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY_CMD: undefined, GROUNDWORK_PGP_NO_GPG: '1', ...extra };
}
