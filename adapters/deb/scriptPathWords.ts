/**
 * What a Debian script's words say about paths: a path as it lands in the image (without
 * $DPKG_ROOT), the paths its own commands may create (so a later test of one is judged when
 * reached), and words named after the machine's host name (which an image does not have).
 */
import type { ShellScript } from '../shell/shellCommands.js';

/** A path as the script names it, without the $DPKG_ROOT prefix that only relocates it. */
export function shownPath(word: string): string {
  return word.replace(/^\$(DPKG_ROOT|\{DPKG_ROOT\})(?=\/)/, '');
}

/**
 * The paths a script's own commands may create (destinations of cp, ucf, install, ln, mv, mkdir,
 * touch, and output redirections), as patterns: a word's expansions match any one component.
 */
export function pathsMadeBy(s: ShellScript): { re: RegExp; line: number; function?: string }[] {
  const words: { word: string; line: number; function?: string }[] = s.writes.filter((w) => !w.op.startsWith('2')).map((w) => ({ word: w.target, line: w.line, function: w.function }));
  for (const c of s.commands) {
    const operands = c.args.filter((a) => !a.startsWith('-'));
    const at = (word: string) => ({ word, line: c.line, function: c.function });
    if (['cp', 'ucf', 'install', 'ln', 'mv'].includes(c.command)) words.push(at(operands.at(-1) ?? ''));
    if (c.command === 'mkdir' || c.command === 'touch') words.push(...operands.map(at));
  }
  return words
    .map((w) => ({ ...w, word: shownPath(w.word) }))
    .filter((w) => w.word.startsWith('/'))
    .map(({ word, line, function: fn }) => {
      const pattern = word
        .split(/(\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)/)
        .map((part, i) => (i % 2 === 1 ? '[^/]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { re: new RegExp(`^${pattern}$`), line, ...(fn !== undefined ? { function: fn } : {}) };
    });
}

/** Commands that make or change a path named by their arguments. */
export const MAKES_PATHS = new Set(['install', 'mkdir', 'chown', 'chgrp', 'chmod', 'touch', 'ln']);

/** A word holding a variable that every assignment gives the host name (`$(uname -n)`, `$(hostname)`). */
export function hostNamedWord(words: string[], s: ShellScript): string | undefined {
  return words.find((w) => {
    const names = [...w.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    return names.some((n) => {
      const values = s.assignments.filter((a) => a.name === n).map((a) => a.raw);
      return values.length > 0 && values.every((v) => /\$\((uname -n|hostname)\)|`(uname -n|hostname)`/.test(v));
    });
  });
}
