/**
 * `sed -i` as scripts use it to edit a configuration file: `s///` and `d` commands, with no
 * address, a line number, `$`, a /regex/, or a range of those (GNU's `0,/re/` too), `!` to
 * negate. Applied to a file's known text, the result is what GNU sed writes (tested against it).
 * Anything else (hold space, `a`/`i`/`c`, `w`, `-n`, back-references) is refused, never guessed.
 */
import { posixToJs } from './posixRegex.js';

type Address = { line: number } | { last: true } | { re: RegExp };
interface Command {
  from?: Address;
  /** A range's end; `from` with line 0 (GNU) lets the end match on the first line. */
  to?: Address;
  negate: boolean;
  action: { kind: 'd' } | { kind: 's'; re: RegExp; replacement: string; nth: number; global: boolean };
}

export interface SedEdit {
  files: string[];
  apply(text: string): string;
}

/** Parse `sed` arguments for an in-place edit; a message when they are not understood. */
export function sedInPlace(args: string[]): SedEdit | string {
  return parseSed(args, 'in-place');
}

/**
 * `sed SCRIPT` as a filter of its standard input (`echo $x | sed 's/, /\n/g'`, `basename $f |
 * sed 's/openvpn\.//'`): the same subset, no -i, no file operands.
 */
export function sedFilter(args: string[]): SedEdit | string {
  return parseSed(args, 'filter');
}

/** `sed SCRIPT FILE…` printing the edited files as one stream (locales' read of SUPPORTED). */
export function sedOfFiles(args: string[]): SedEdit | string {
  return parseSed(args, 'files');
}

function parseSed(args: string[], mode: 'in-place' | 'filter' | 'files'): SedEdit | string {
  const scripts: string[] = [];
  const operands: string[] = [];
  let extended = false;
  let inPlace = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e' || a === '--expression') {
      const s = args[++i];
      if (s === undefined) return 'sed: -e without a script';
      scripts.push(s);
    } else if (a.startsWith('--expression=')) scripts.push(a.slice('--expression='.length));
    else if (a === '-E' || a === '-r' || a === '--regexp-extended') extended = true;
    else if (/^-i(\.?[\w.~-]*)?$/.test(a) || a.startsWith('--in-place')) {
      // A backup suffix leaves a copy beside the file: not modelled.
      if (a !== '-i' && a !== '--in-place') return `sed ${a}: a backup copy is not modelled`;
      inPlace = true;
    } else if (/^-[Eri]+$/.test(a)) {
      extended ||= /[Er]/.test(a);
      inPlace ||= a.includes('i');
    } else if (a === '--follow-symlinks' || a === '-s' || a === '--separate') continue;
    else if (a.startsWith('-') && a !== '-') return `sed: option ${a} is not understood`;
    else operands.push(a);
  }
  if (mode === 'in-place' && !inPlace) return 'sed without -i';
  if (mode !== 'in-place' && inPlace) return 'sed -i is not a filter';
  if (!scripts.length) {
    const s = operands.shift();
    if (s === undefined) return 'sed: no script';
    scripts.push(s);
  }
  if (mode !== 'filter' && !operands.length) return 'sed: no file';
  if (mode === 'filter' && operands.length) return 'sed: reads files, not its input';
  const commands: Command[] = [];
  for (const s of scripts) {
    const parsed = parseScript(s, extended);
    if (typeof parsed === 'string') return `sed: ${parsed} in "${s}"`;
    commands.push(...parsed);
  }
  return { files: operands, apply: (text) => run(commands, text) };
}

function parseScript(script: string, extended: boolean): Command[] | string {
  const out: Command[] = [];
  let i = 0;
  const skip = () => {
    while (i < script.length && /[\s;]/.test(script[i]!)) i++;
  };
  const address = (): Address | string | undefined => {
    const c = script[i];
    if (c === undefined) return undefined;
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(script.slice(i))![0];
      i += m.length;
      return { line: Number(m) };
    }
    if (c === '$') {
      i++;
      return { last: true };
    }
    if (c === '/' || c === '\\') {
      const delim = c === '\\' ? script[++i] : '/';
      if (delim === undefined) return 'an unterminated address';
      i++;
      const body = delimited(script, i, delim);
      if (body === undefined) return 'an unterminated address';
      i = body.end + 1;
      if (script[i] === 'I') return 'a case-insensitive address';
      const src = body.text === '' ? undefined : posixToJs(body.text, extended);
      if (src === undefined) return `the regular expression "${body.text}" is not understood`;
      return { re: new RegExp(src) };
    }
    return undefined;
  };
  for (skip(); i < script.length; skip()) {
    const from = address();
    if (typeof from === 'string') return from;
    let to: Address | undefined;
    if (from && script[i] === ',') {
      i++;
      const end = address();
      if (end === undefined || typeof end === 'string') return end ?? 'a range without its end';
      to = end;
    }
    while (script[i] === ' ') i++;
    let negate = false;
    if (script[i] === '!') {
      negate = true;
      i++;
      while (script[i] === ' ') i++;
    }
    const cmd = script[i++];
    if (cmd === 'd') out.push({ from, to, negate, action: { kind: 'd' } });
    else if (cmd === 's') {
      const delim = script[i++];
      if (delim === undefined || delim === '\\' || delim === '\n') return 'a malformed s command';
      const re = delimited(script, i, delim);
      if (re === undefined) return 'an unterminated s command';
      const rep = delimited(script, re.end + 1, delim);
      if (rep === undefined) return 'an unterminated s command';
      i = rep.end + 1;
      const flags = /^[gI0-9]*/.exec(script.slice(i))![0];
      i += flags.length;
      if (i < script.length && !/[\s;}]/.test(script[i]!)) return `the s flag "${script[i]}" is not modelled`;
      const src = re.text === '' ? undefined : posixToJs(re.text, extended);
      if (src === undefined) return `the regular expression "${re.text}" is not understood`;
      const nth = Number(/[0-9]+/.exec(flags)?.[0] ?? '1');
      const global = flags.includes('g');
      if (global && /[0-9]/.test(flags)) return 'an s command with both g and a number';
      const replacement = parseReplacement(rep.text);
      if (replacement === undefined) return `the replacement "${rep.text}" is not understood`;
      out.push({ from, to, negate, action: { kind: 's', re: new RegExp(src, `g${flags.includes('I') ? 'i' : ''}`), replacement, nth, global } });
    } else return `the command "${cmd ?? ''}" is not modelled`;
  }
  return out;
}

/** Text up to an unescaped `delim` (a backslash before the delimiter makes it literal). */
function delimited(s: string, start: number, delim: string): { text: string; end: number } | undefined {
  let text = '';
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && s[i + 1] === delim) {
      // `\/` is a slash; an escaped other delimiter may be special in the pattern: not judged.
      if (delim !== '/') return undefined;
      text += delim;
      i++;
    } else if (c === '\\' && i + 1 < s.length) {
      text += c + s[++i];
    } else if (c === delim) return { text, end: i };
    else text += c;
  }
  return undefined;
}

/** A replacement as a template: `&` and `\1`…`\9` stay marked with a NUL, everything else literal. */
function parseReplacement(r: string): string | undefined {
  let out = '';
  for (let i = 0; i < r.length; i++) {
    const c = r[i]!;
    if (c === '&') out += '\0&';
    else if (c === '\\') {
      const n = r[++i];
      if (n === undefined) return undefined;
      if (/[0-9]/.test(n)) out += `\0${n}`;
      else if (n === 'n') out += '\n';
      else if (n === 't') out += '\t';
      else if (/[LUlEu]/.test(n)) return undefined;
      else out += n;
    } else out += c;
  }
  return out;
}

function substitute(template: string, match: RegExpExecArray): string {
  return template.replace(/\0([&0-9])/g, (_, k: string) => (k === '&' || k === '0' ? match[0] : (match[Number(k)] ?? '')));
}

function run(commands: Command[], text: string): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  if (text === '') return '';
  const active = commands.map(() => false);
  const out: string[] = [];
  lines.forEach((original, index) => {
    let line = original;
    const n = index + 1;
    const last = n === lines.length;
    const hits = (a: Address) => ('line' in a ? a.line === n : 'last' in a ? last : a.re.test(line));
    for (const [k, c] of commands.entries()) {
      let selected: boolean;
      if (!c.from) selected = true;
      else if (!c.to) selected = hits(c.from);
      else if (active[k]) {
        selected = true;
        // A numeric end at or before the current line closes the range here.
        if ('line' in c.to ? c.to.line <= n : hits(c.to)) active[k] = false;
      } else if ('line' in c.from && c.from.line === 0 ? n === 1 : hits(c.from)) {
        selected = true;
        const zero = 'line' in c.from && c.from.line === 0;
        // The end is looked for from the next line (GNU's 0,/re/ also on this one).
        active[k] = 'line' in c.to ? c.to.line > n : !(zero && hits(c.to));
      } else selected = false;
      if (selected === c.negate) continue;
      if (c.action.kind === 'd') return;
      const { re, replacement, nth, global } = c.action;
      re.lastIndex = 0;
      let count = 0;
      let result = '';
      let at = 0;
      let prevEnd = -1;
      for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        // As in GNU sed, an empty match right after a match is not one.
        if (m[0] === '' && m.index === prevEnd) {
          re.lastIndex++;
          continue;
        }
        prevEnd = m.index + m[0].length;
        count++;
        if (count >= nth && (global || count === nth)) {
          result += line.slice(at, m.index) + substitute(replacement, m);
          at = m.index + m[0].length;
        }
        if (m[0] === '') re.lastIndex++;
        if (!global && count >= nth) break;
      }
      line = result + line.slice(at);
    }
    out.push(line);
  });
  return out.length ? out.join('\n') + (endsWithNewline ? '\n' : '') : '';
}
