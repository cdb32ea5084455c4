/**
 * An error the user can cause and fix (bad TOML, unknown package, hash mismatch, stale lock...).
 * The CLI prints only its message — never a stack trace — and exits non-zero.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** The message of anything thrown, for wrapping it into a UserError that names the file. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
