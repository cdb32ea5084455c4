import { UserError } from '../errors.js';
import { escapePercent, expandPercent, extractWords, joinColumns, quote, simplifyPath, splitLines, stripWhitespace, type ConfSource } from './sysusersConf.js';

/** Line types systemd-tmpfiles 252 knows. */
const TYPES = 'fFwdDevqQpLcbCxXrRzZtTaAhHm';

/** The modifiers after the type letter. */
export interface TmpfilesModifiers {
  /** `!`: only at boot (`--boot`). */
  boot: boolean;
  /** `+`: append (w), truncate/replace (f, L, p, c, b). */
  force: boolean;
  /** `-`: failure to create is not an error. */
  allowFailure: boolean;
  /** `=`: remove objects of the wrong type in the way. */
  replace: boolean;
  /** `~`: the argument is base64. */
  base64: boolean;
  /** `^`: the argument names a credential holding the content. */
  credential: boolean;
}

/** The mode column: octal bits with optional `~` and `:` prefixes. */
export interface TmpfilesMode {
  value: number;
  /** `~`: clear bits (r, w, x per class; set-id unless a directory) the current mode lacks. */
  masked: boolean;
  /** `:`: only when the line creates the object, not on an existing one. */
  onlyCreate: boolean;
}

/** The user or group column. */
export interface TmpfilesOwner {
  /** A name or a number, as written. */
  name: string;
  /** `:`: only when the line creates the object. */
  onlyCreate: boolean;
}

/** One tmpfiles.d line. `-` columns are absent (undefined). */
export interface TmpfilesLine {
  type: string;
  modifiers: TmpfilesModifiers;
  /** Absolute, `%%` resolved; otherwise as written (not simplified, /var/run not rewritten). */
  path: string;
  mode?: TmpfilesMode;
  user?: TmpfilesOwner;
  group?: TmpfilesOwner;
  age?: string;
  /** The rest of the line as written, unquoted and unescaped only when used (see `tmpfilesArgument`). */
  argument?: string;
  source: ConfSource;
}

const MODIFIER_CHARS: Record<string, keyof TmpfilesModifiers> = { '!': 'boot', '+': 'force', '-': 'allowFailure', '=': 'replace', '~': 'base64', '^': 'credential' };

/**
 * Parse a tmpfiles.d file, in file order. Blank lines and `#` comments are skipped; any other
 * line that systemd-tmpfiles would reject, and any specifier other than `%%` (their values
 * depend on the machine running the tool), throws a UserError naming the file and line.
 */
export function parseTmpfiles(text: string, file: string): TmpfilesLine[] {
  const out: TmpfilesLine[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = stripWhitespace(raw);
    if (line === '' || line.startsWith('#')) return;
    out.push(parseTmpfilesLine(line, { file, line: i + 1 }));
  });
  return out;
}

/** One non-comment line. */
export function parseTmpfilesLine(text: string, source: ConfSource): TmpfilesLine {
  const where = `${source.file}:${source.line}`;
  const fail = (msg: string): never => {
    throw new UserError(`${where}: ${msg}`);
  };
  let split: { words: string[]; rest: string | undefined };
  try {
    split = extractWords(text, 6);
  } catch (e) {
    return fail(`failed to parse line (${(e as Error).message})`);
  }
  const [action = '', rawPath = ''] = split.words;
  if (split.words.length < 2) return fail('syntax error: a line needs at least a type and a path');
  const type = action.charAt(0);
  if (!TYPES.includes(type) || type === '') return fail(`unknown command type '${type}'`);
  const line: TmpfilesLine = { type, modifiers: modifiers(action, fail), path: expandPercent(rawPath, where), source };
  if (!line.path.startsWith('/')) fail(`path '${line.path}' not absolute`);
  const col = (i: number): string | undefined => {
    const w = split.words[i];
    return w === undefined || w === '' || w === '-' ? undefined : w;
  };
  const [mode, user, group, age] = [col(2), col(3), col(4), col(5)];
  if (mode !== undefined) line.mode = parseMode(mode, fail);
  if (user !== undefined) line.user = owner(user, 'user', fail);
  if (group !== undefined) line.group = owner(group, 'group', fail);
  if (age !== undefined) line.age = checkAge(age, fail);
  if (split.rest !== undefined && split.rest !== '-') line.argument = split.rest;
  checkArgument(line, fail);
  return line;
}

function modifiers(action: string, fail: (msg: string) => never): TmpfilesModifiers {
  const m: TmpfilesModifiers = { boot: false, force: false, allowFailure: false, replace: false, base64: false, credential: false };
  for (const c of action.slice(1)) {
    const key = MODIFIER_CHARS[c];
    if (key === undefined || m[key]) fail(`unknown modifiers in command '${action}'`);
    else m[key] = true;
  }
  return m;
}

function parseMode(s: string, fail: (msg: string) => never): TmpfilesMode {
  const m = /^([~:]*)([0-7]+)$/.exec(s);
  const value = m ? parseInt(m[2] ?? '', 8) : NaN;
  if (!m || !(value <= 0o7777)) return fail(`invalid mode '${s}'`);
  return { value, masked: (m[1] ?? '').includes('~'), onlyCreate: (m[1] ?? '').includes(':') };
}

function owner(s: string, what: string, fail: (msg: string) => never): TmpfilesOwner {
  const onlyCreate = s.startsWith(':');
  const name = onlyCreate ? s.slice(1) : s;
  if (name === '') fail(`failed to resolve ${what} '${name}'`);
  return { name, onlyCreate };
}

const SPAN_UNITS = 'usec|us|µs|μs|msec|ms|seconds|second|sec|s|minutes|minute|min|months|month|M|m|hours|hour|hr|h|days|day|d|weeks|week|w|years|year|y';
const SPAN = new RegExp(`^(?:infinity|(?:\\s*[0-9]+(?:\\.[0-9]+)?\\s*(?:${SPAN_UNITS})?)+\\s*)$`);

/** `[~][abcmABCM...:]timespan`; only checked: age does nothing on --create. */
function checkAge(age: string, fail: (msg: string) => never): string {
  const body = age.replace(/^~/, '');
  const colon = body.indexOf(':');
  if (colon >= 0 && !/^[abcmABCM]+$/.test(body.slice(0, colon))) fail(`invalid age-by '${body.slice(0, colon)}'`);
  if (!SPAN.test(body.slice(colon + 1))) fail(`invalid age '${body.slice(colon + 1)}'`);
  return age;
}

/** The per-type rules systemd-tmpfiles applies to the argument column while parsing. */
function checkArgument(line: TmpfilesLine, fail: (msg: string) => never): void {
  const t = line.type;
  const needs: Record<string, string> = { w: 'write file', c: 'device file', b: 'device file', t: 'set extended attribute', T: 'set extended attribute', a: 'set ACLs', A: 'set ACLs', h: 'set file attribute', H: 'set file attribute' };
  if (line.modifiers.base64 && 'LCcbtTaAhH'.includes(t)) fail(`base64 decoding not supported for '${t}' lines`);
  if (line.argument === undefined && needs[t] !== undefined) fail(`${needs[t]} requires an argument`);
  if ((t === 'c' || t === 'b') && !/^[0-9]+:[0-9]+$/.test(line.argument ?? '')) fail(`can't parse device file major/minor '${line.argument}'`);
  if (t === 'C' && line.argument !== undefined && !line.modifiers.base64) {
    const source = tmpfilesArgument(line);
    if (source !== undefined && !source.toString().startsWith('/')) fail(`source path '${source.toString()}' is not absolute`);
  }
  tmpfilesArgument(line);
}

/**
 * The argument's bytes as systemd-tmpfiles uses them. For f, F, w, L and C: C escapes decoded
 * (`\n`, `\x41`, `\101`, `\u00e9`...), then `%%` resolved; with `~`, base64 decoded instead.
 * Other types: the text as written. Undefined when the column is absent (L and C then
 * default to /usr/share/factory/<path>, which the applier fills in). Throws a UserError
 * naming the line for a bad escape or an unsupported specifier.
 */
export function tmpfilesArgument(line: TmpfilesLine): Buffer | undefined {
  const arg = line.argument;
  if (arg === undefined) return undefined;
  const where = `${line.source.file}:${line.source.line}`;
  if (line.modifiers.base64) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(arg)) throw new UserError(`${where}: failed to base64 decode the argument`);
    return Buffer.from(arg.replace(/\s/g, ''), 'base64');
  }
  if (!'fFwLC'.includes(line.type)) return Buffer.from(arg);
  const bytes = cunescape(arg, where);
  return Buffer.from(expandPercent(bytes.toString('latin1'), where), 'latin1');
}

/** systemd's cunescape (no flags): escapes as in C, plus `\s`; NUL and unknown escapes refused. */
function cunescape(s: string, where: string): Buffer {
  const out: number[] = [];
  const src = Buffer.from(s);
  const fail = (): never => {
    throw new UserError(`${where}: failed to unescape the argument "${s}"`);
  };
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39, s: 32 };
  for (let i = 0; i < src.length; i++) {
    const c = src[i] ?? 0;
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    const e = String.fromCharCode(src[i + 1] ?? 0);
    const hex = (n: number) => src.subarray(i + 2, i + 2 + n).toString('latin1');
    if (simple[e] !== undefined) {
      out.push(simple[e]);
      i += 1;
    } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(hex(2)) && parseInt(hex(2), 16) !== 0) {
      out.push(parseInt(hex(2), 16));
      i += 3;
    } else if ((e === 'u' || e === 'U') && /^[0-9a-fA-F]+$/.test(hex(e === 'u' ? 4 : 8)) && hex(e === 'u' ? 4 : 8).length === (e === 'u' ? 4 : 8)) {
      const cp = parseInt(hex(e === 'u' ? 4 : 8), 16);
      if (cp === 0 || (e === 'U' && !isUnichar(cp))) fail();
      out.push(...utf8(cp));
      i += e === 'u' ? 5 : 9;
    } else if (/^[0-7]{3}$/.test(src.subarray(i + 1, i + 4).toString('latin1'))) {
      const v = parseInt(src.subarray(i + 1, i + 4).toString('latin1'), 8);
      if (v === 0 || v > 255) fail();
      out.push(v);
      i += 3;
    } else {
      fail();
    }
  }
  return Buffer.from(out);
}

function isUnichar(cp: number): boolean {
  return cp < 0xd800 || (cp >= 0xe000 && cp <= 0x10ffff && cp !== 0xfffe && cp !== 0xffff);
}

/** UTF-8 without the surrogate check, as systemd's utf8_encode_unichar does. */
function utf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Render lines back to tmpfiles.d text, one per line, that parse to the same lines. Columns
 * with whitespace or quotes are double-quoted; `%` is doubled; the argument is written as is.
 */
export function renderTmpfiles(lines: TmpfilesLine[]): string {
  return lines.map((l) => `${renderLine(l)}\n`).join('');
}

function renderLine(l: TmpfilesLine): string {
  const mods = Object.entries(MODIFIER_CHARS)
    .filter(([, key]) => l.modifiers[key])
    .map(([c]) => c)
    .join('');
  const mode = l.mode && `${l.mode.masked ? '~' : ''}${l.mode.onlyCreate ? ':' : ''}${l.mode.value.toString(8).padStart(4, '0')}`;
  const own = (o: TmpfilesOwner | undefined) => o && column(`${o.onlyCreate ? ':' : ''}${o.name}`);
  const cols = [l.type + mods, column(escapePercent(l.path)), mode, own(l.user), own(l.group), l.age && column(l.age)];
  if (l.argument !== undefined) return [...cols.map((c) => c ?? '-'), l.argument].join(' ');
  return joinColumns(cols, 2);
}

function column(v: string): string {
  if (v === '' || v === '-') throw new UserError(`cannot write the value "${v}" in a tmpfiles.d column: systemd reads it as absent`);
  return /[\s"'\\]/.test(v) ? quote(v) : v;
}

/** The path a line acts on, as systemd-tmpfiles keys it: simplified, /var/run/… moved to /run/…. */
export function tmpfilesPath(line: TmpfilesLine): string {
  const p = simplifyPath(line.path);
  return p.startsWith('/var/run/') ? `/run/${p.slice('/var/run/'.length)}` : p;
}
