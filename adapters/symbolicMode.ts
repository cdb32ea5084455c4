/**
 * chmod's symbolic modes (`u+s`, `g+rwx`, `go-w`, `a=r,u+w`) as a change to whatever mode the
 * path has when the script runs: the translation applies it to the packaged or made mode.
 */
import { composedModeChange, type ModeChange } from '../src/translate/effects.js';

/** A root maintainer script's umask: it limits a clause that names nobody (`chmod +x`). */
const UMASK = 0o022;

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
/** Each permission letter's bits for all of u, g and o; `who` picks the ones that apply. */
const PERM: Record<string, number> = { r: 0o444, w: 0o222, x: 0o111, s: 0o6000, t: 0o1000 };

/**
 * Parse MODE as GNU chmod does for a regular file or a directory, or say why not: copying
 * another class's bits (`g=u`) and `X` (which depends on the current bits) are not modelled.
 */
export function parseSymbolicMode(text: string): ModeChange | string {
  let change = { clear: 0, add: 0 };
  for (const clause of text.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxst]*)+)$/.exec(clause);
    if (!m) return `mode "${text}" is neither octal nor a symbolic mode layerpkg models`;
    const named = m[1] !== '';
    const who = named ? [...m[1]!].reduce((acc, c) => acc | WHO[c]!, 0) : WHO.a!;
    for (const [, op, perms] of m[2]!.matchAll(/([-+=])([rwxst]*)/g)) {
      // Without a class, bits set in the umask are left alone.
      const reach = named ? who : who & ~UMASK;
      const bits = [...perms!].reduce((acc, c) => acc | PERM[c]!, 0) & reach;
      // `=` first clears the classes' read, write and execute bits and their set-id bit.
      const cleared = op === '=' ? who & (named ? 0o7777 : 0o777 & ~UMASK) : op === '-' ? bits : 0;
      change = composedModeChange(change, { clear: cleared, add: op === '-' ? 0 : bits });
    }
  }
  return { ...change, text };
}
