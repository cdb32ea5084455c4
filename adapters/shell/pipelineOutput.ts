/**
 * What the simple text tools of a pipeline print when their words and input are known, and what
 * `read` takes from such output: enough for the `$(…)` and `while read` loops maintainer scripts
 * build their arguments with (callOrder.ts runs them).
 */
import path from 'node:path';
import { echoText } from './echoText.js';
import { parseGrep } from './grepText.js';
import { sedFilter } from './sedScript.js';
import type { ShellCommand } from './shellCommands.js';
import { compareUtf8 } from '../../src/compareUtf8.js';

/**
 * What a command prints in a `$(…)` body, from its words and what is piped into it: echo, the
 * basename and dirname of a word, unset (nothing), and grep, sed, cat, tr or (in the C locale)
 * sort over its input. Undefined for any other.
 */
export function filterOutput(words: string[], input: string | undefined, variables: Record<string, string>): string | undefined {
  const [name, ...args] = words;
  switch (name) {
    case 'unset':
      return '';
    case 'grep':
    case 'egrep':
    case 'fgrep': {
      const grep = input === undefined ? undefined : parseGrep(name, args);
      return grep === undefined || grep.file !== undefined ? undefined : grep.select(input!);
    }
    case 'sort': {
      // Byte order only where the script made the locale C (locales' LC_ALL=C).
      const collation = variables.LC_ALL ?? variables.LC_COLLATE ?? variables.LANG;
      if (input === undefined || (collation !== 'C' && collation !== 'POSIX') || args.some((a) => a !== '-u')) return undefined;
      const lines = input.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const sorted = lines.sort((a, b) => compareUtf8(a, b));
      const out = args.includes('-u') ? sorted.filter((l, i) => i === 0 || l !== sorted[i - 1]) : sorted;
      return out.map((l) => `${l}\n`).join('');
    }
    case 'echo':
      // -n (no newline) is one option dash and bash both take.
      return args[0] === '-n' ? echoText(args.slice(1))?.slice(0, -1) : echoText(args);
    case 'basename': {
      if (args.length < 1 || args.length > 2 || args[0]!.startsWith('-')) return undefined;
      const base = path.posix.basename(args[0]!);
      return `${args[1] && base !== args[1] && base.endsWith(args[1]) ? base.slice(0, -args[1].length) : base}\n`;
    }
    case 'dirname':
      return args.length === 1 && !args[0]!.startsWith('-') ? `${path.posix.dirname(args[0]!)}\n` : undefined;
    case 'cat':
      return args.length === 0 ? input : undefined;
    case 'tr':
      return input === undefined ? undefined : translated(args, input);
    case 'sed': {
      const filter = input === undefined ? undefined : sedFilter(args);
      return filter === undefined || typeof filter === 'string' ? undefined : filter.apply(input!);
    }
    default:
      return undefined;
  }
}

/**
 * The variables `read [-r] VAR…` sets for each line of `text`: fields split on IFS whitespace,
 * the last variable taking the rest of the line. Undefined where the shell's handling is not
 * modelled (backslashes without -r, an IFS other than whitespace, other options).
 */
export function readBindings(read: ShellCommand, text: string, ifs: string | undefined): Record<string, string>[] | undefined {
  const raw = read.args[0] === '-r';
  const vars = raw ? read.args.slice(1) : read.args;
  if (!vars.length || vars.some((v) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) || (ifs !== undefined && !/^[ \t\n]*$/.test(ifs))) return undefined;
  if (!raw && text.includes('\\')) return undefined;
  // read fails on a last line without its newline, so the body does not run for it.
  const lines = text.split('\n').slice(0, -1);
  return lines.map((line) => {
    const binding: Record<string, string> = {};
    let rest = line.replace(/^[ \t]+/, '');
    vars.forEach((v, i) => {
      if (i === vars.length - 1) {
        binding[v] = rest.replace(/[ \t]+$/, '');
        return;
      }
      const m = /^([^ \t]*)[ \t]*/.exec(rest)!;
      binding[v] = m[1]!;
      rest = rest.slice(m[0].length);
    });
    return binding;
  });
}

const TR_CLASSES: Record<string, string> = {
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  lower: 'abcdefghijklmnopqrstuvwxyz',
  digit: '0123456789',
  space: ' \t\n\r\f\v',
  blank: ' \t',
};

/** A tr SET as its characters, in order: ranges, \n \t \\ escapes, and a few [:classes:]. */
function trSet(set: string): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < set.length; i++) {
    const cls = /^\[:([a-z]+):\]/.exec(set.slice(i));
    if (cls) {
      const name = cls[1]!;
      const chars = name === 'alpha' ? TR_CLASSES.upper! + TR_CLASSES.lower! : name === 'alnum' ? TR_CLASSES.upper! + TR_CLASSES.lower! + TR_CLASSES.digit! : TR_CLASSES[name];
      if (chars === undefined) return undefined;
      out.push(...chars);
      i += cls[0].length - 1;
      continue;
    }
    let c = set[i]!;
    if (c === '\\') {
      const n = set[++i];
      const esc: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', r: '\r' };
      if (n === undefined || esc[n] === undefined) return undefined;
      c = esc[n]!;
    } else if (c === '[' || c === '*') return undefined;
    if (set[i + 1] === '-' && i + 2 < set.length) {
      const end = set[i + 2]!;
      if (end === '\\' || end.charCodeAt(0) < c.charCodeAt(0)) return undefined;
      for (let k = c.charCodeAt(0); k <= end.charCodeAt(0); k++) out.push(String.fromCharCode(k));
      i += 2;
    } else out.push(c);
  }
  return out;
}

/** `tr SET1 SET2`, `tr -d SET`, `tr -cd SET` (in the C locale; -s and the rest are not modelled). */
function translated(args: string[], input: string): string | undefined {
  const [first, ...rest] = args;
  if (first === '-d' || first === '-cd' || first === '-dc') {
    const set = rest.length === 1 ? trSet(rest[0]!) : undefined;
    if (set === undefined) return undefined;
    const inSet = new Set(set);
    const keep = first === '-d' ? (ch: string) => !inSet.has(ch) : (ch: string) => inSet.has(ch);
    return [...input].filter(keep).join('');
  }
  if (args.length !== 2 || first!.startsWith('-')) return undefined;
  const from = trSet(first!);
  const to = trSet(rest[0]!);
  if (from === undefined || to === undefined || !to.length) return undefined;
  // SET2 shorter than SET1 is extended with its last character, as GNU tr does.
  const map = new Map(from.map((ch, i) => [ch, to[Math.min(i, to.length - 1)]!]));
  return [...input].map((ch) => map.get(ch) ?? ch).join('');
}
