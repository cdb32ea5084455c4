import { expandedWords, type ScriptEnv } from './scriptConditions.js';
import type { ShellCommand } from './shellCommands.js';

/**
 * The program a simple command runs and its arguments, seeing through `command`, `exec`, `env`
 * `nohup` and busybox's applet call (`/bin/busybox mkdir …`); named by basename. Words are
 * expanded with what `env` knows. Undefined for `command -v` / `-V` lookups.
 */
export function invocation(c: ShellCommand, env: ScriptEnv): { name: string; args: string[] } | undefined {
  let words = expandedWords(c, env);
  for (;;) {
    const first = words[0] ?? '';
    if (first === 'command') {
      if (words[1] === '-v' || words[1] === '-V') return undefined;
      words = words.slice(words[1] === '-p' ? 2 : 1);
    } else if (first === 'exec' || first === 'nohup') words = words.slice(1);
    else if (/(^|\/)busybox$/.test(first) && words[1] !== undefined && /^[a-z]/.test(words[1])) words = words.slice(1);
    else if (first === 'env' && words.length > 1) {
      let i = 1;
      while (i < words.length && (words[i]!.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++;
      if (i === words.length) break;
      words = words.slice(i);
    } else break;
  }
  const word = words[0] ?? '';
  if (!word) return undefined;
  // "$DPKG_ROOT/usr/sbin/foo" is still foo; "$cmd" or "/usr/bin/$python" stays as written.
  const base = word.slice(word.lastIndexOf('/') + 1);
  return { name: base && !/[$`]/.test(base) ? base : word, args: words.slice(1) };
}
