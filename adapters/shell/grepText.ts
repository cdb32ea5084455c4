/**
 * Whether `grep [-qsvxiFE] [-e PATTERN]… [PATTERN] [FILE]` selects a line of a text known before
 * the script runs (a file an earlier script wrote, a producer's known output): grep's exit
 * status, and the lines it prints. Undefined for options or patterns outside the subset, so a
 * guard stays unknown.
 */
import { posixToJs } from './posixRegex.js';

export interface GrepCall {
  patterns: string[];
  /** The file operand, when grep reads one rather than its input. */
  file?: string;
  test(text: string): boolean;
  /** The lines it prints of `text` (as a filter in a pipeline); none under -q. */
  select(text: string): string;
}

export function parseGrep(name: string, words: string[]): GrepCall | undefined {
  const flags = new Set<string>(name === 'egrep' ? ['E'] : name === 'fgrep' ? ['F'] : []);
  const patterns: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-e') {
      const p = words[++i];
      if (p === undefined) return undefined;
      patterns.push(p);
    } else if (/^-[qsvxiFE]+$/.test(w)) for (const f of w.slice(1)) flags.add(f);
    else if (w === '--quiet' || w === '--silent' || w === '--no-messages') continue;
    else if (w.startsWith('-') && w !== '-') return undefined;
    else operands.push(w);
  }
  if (!patterns.length) {
    const p = operands.shift();
    if (p === undefined) return undefined;
    patterns.push(p);
  }
  if (operands.length > 1) return undefined;
  const sources = patterns.map((p) => (flags.has('F') ? p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : posixToJs(p, flags.has('E'))));
  if (sources.some((s) => s === undefined)) return undefined;
  const res = sources.map((s) => new RegExp(flags.has('x') ? `^(?:${s!})$` : s!, flags.has('i') ? 'i' : ''));
  const lines = (text: string) => {
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all;
  };
  const selected = (l: string) => res.some((re) => re.test(l)) !== flags.has('v');
  return {
    patterns,
    file: operands[0],
    test: (text) => lines(text).some(selected),
    select: (text) => (flags.has('q') ? '' : lines(text).filter(selected).map((l) => `${l}\n`).join('')),
  };
}
