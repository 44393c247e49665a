/**
 * An error meant for the person running the command: its message is printed as is, without a stack,
 * and the process exits with `exitCode`. Messages must never contain secret values.
 */
export class UserError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Several problems found at once (validation), reported together so the user fixes them in one pass. */
export class ProblemList extends UserError {
  readonly problems: string[];

  constructor(title: string, problems: string[], options: { exitCode?: number; hint?: string } = {}) {
    super(`${title}\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'ProblemList';
    this.problems = problems;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
