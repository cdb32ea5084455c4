import { expect } from 'vitest';
import { UserError } from '../../src/errors.js';

/** The UserError `f` throws; fails the test if it throws nothing or something else. */
export function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

/** The UserError `p` rejects with; fails the test if it resolves or rejects with something else. */
export async function userErrorOf(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}
