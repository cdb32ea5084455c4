import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { compareUtf8 } from '../compareUtf8.js';

/** Where a configuration line came from, for messages. */
export interface ConfSource {
  file: string;
  line: number;
}

/**
 * `u name id gecos home shell`. The id column is one of: nothing, a uid, `uid:gid`,
 * `uid:groupname` (uid may be `-`), or an absolute path whose owner gives the ids.
 */
export interface SysusersUser {
  type: 'u';
  name: string;
  uid?: number;
  /** The id column was an absolute path: take the uid (and gid) from that file's owner. */
  idPath?: string;
  gid?: number;
  /** The user's primary group is this existing or configured group instead of its own. */
  groupName?: string;
  gecos?: string;
  home?: string;
  shell?: string;
  source?: ConfSource;
}

/** `g name id`: the id is nothing, a gid, or an absolute path whose group gives the gid. */
export interface SysusersGroup {
  type: 'g';
  name: string;
  gid?: number;
  idPath?: string;
  source?: ConfSource;
}

/** `m user group`: add a user to a group's members (creating either if unknown). */
export interface SysusersMember {
  type: 'm';
  user: string;
  group: string;
  source?: ConfSource;
}

/** `r - first-last`: ids to allocate from instead of the built-in system range. */
export interface SysusersRange {
  type: 'r';
  first: number;
  last: number;
  source?: ConfSource;
}

/** One sysusers.d line. */
export type SysusersItem = SysusersUser | SysusersGroup | SysusersMember | SysusersRange;

const WHITESPACE = ' \t\n\r';

/**
 * Split the start of a line into at most `max` words the way systemd's `extract_many_words`
 * with EXTRACT_UNQUOTE does: whitespace separates, '…' and "…" quote (also mid-word), a
 * backslash takes the next character literally, inside quotes too. `rest` is what follows the
 * last word taken (leading whitespace skipped), or undefined when the line was used up.
 * Throws a plain Error on a trailing backslash or an unclosed quote.
 */
export function extractWords(s: string, max: number): { words: string[]; rest: string | undefined } {
  const words: string[] = [];
  let pos: number | undefined = skipSeparators(s, 0);
  while (words.length < max && pos !== undefined) {
    const { word, next } = extractWord(s, pos);
    words.push(word);
    pos = next;
  }
  return { words, rest: pos === undefined ? undefined : s.slice(pos) };
}

/** The first non-whitespace position at or after `i`, undefined at the end of the string. */
function skipSeparators(s: string, i: number): number | undefined {
  while (i < s.length && WHITESPACE.includes(s.charAt(i))) i++;
  return i < s.length ? i : undefined;
}

function extractWord(s: string, start: number): { word: string; next: number | undefined } {
  let word = '';
  let quote = '';
  for (let i = start; ; i++) {
    if (i >= s.length) {
      if (quote !== '') throw new Error('unbalanced quoting');
      return { word, next: undefined };
    }
    const c = s.charAt(i);
    if (c === '\\') {
      if (i + 1 >= s.length) throw new Error('trailing backslash');
      word += s.charAt(++i);
    } else if (quote !== '') {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (WHITESPACE.includes(c)) {
      return { word, next: skipSeparators(s, i) };
    } else {
      word += c;
    }
  }
}

/**
 * Order configuration files as systemd's conf-files logic does: a later file with the same
 * basename replaces an earlier one (an empty file thus masks), and the rest run in strcmp order
 * of basename. Unlike a directory scan, names need not end in `.conf`: the caller chose them.
 */
export function orderConfigFiles<T extends { file: string }>(files: T[]): T[] {
  const byName = new Map<string, T>();
  for (const f of files) byName.set(basename(f.file), f);
  return [...byName.entries()].sort(([a], [b]) => compareUtf8(a, b)).map(([, f]) => f);
}

/**
 * Resolve systemd specifiers in a field: `%%` is a percent sign; any other `%` + letter/digit
 * names machine-specific data an image build cannot know, so it is refused. `%` before anything
 * else stays literal, as in systemd.
 */
export function expandPercent(value: string, where: string): string {
  return value.replace(/%(.?)/g, (all, c: string) => {
    if (c === '%') return '%';
    if (MACHINE_SPECIFIERS.has(c)) throw new MachineSpecifierError(`${where}: specifier "%${c}" in "${value}" names the running machine`);
    if (/^[A-Za-z0-9]$/.test(c)) throw new UserError(`${where}: specifier "%${c}" in "${value}" is not supported (only "%%" is)`);
    return all;
  });
}

/** Machine ID, boot ID, host name, kernel release, OS release fields…: known only where the tool runs. */
const MACHINE_SPECIFIERS = new Set(['a', 'A', 'b', 'B', 'H', 'l', 'm', 'M', 'o', 'q', 'v', 'w', 'W']);

/** A line whose specifier only the running machine can fill: the tool applies it there, at boot. */
export class MachineSpecifierError extends UserError {}

/** The inverse of `expandPercent` for literal text. */
export function escapePercent(value: string): string {
  return value.replaceAll('%', '%%');
}

/** A strict uid or gid as systemd's parse_uid reads it: decimal, no sign or leading zero, not 65535 or 2^32-1. */
export function parseId(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0xfffffffe || n === 0xffff ? undefined : n;
}

/** systemd's strict user/group name rule: what sysusers accepts for names it creates. */
export function isValidName(name: string): boolean {
  return name.length <= 31 && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name);
}

/** The six columns of a sysusers line, `-` and "" already turned into undefined. */
interface Columns {
  action: string;
  name?: string;
  id?: string;
  gecos?: string;
  home?: string;
  shell?: string;
}

/**
 * Parse a sysusers.d file into its items, in file order. Blank lines and `#` comments are
 * skipped; every other line must be valid, otherwise a UserError names the file and line
 * (systemd would log and skip it, which would silently change the accounts an image gets).
 */
export function parseSysusers(text: string, file: string): SysusersItem[] {
  const items: SysusersItem[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = stripWhitespace(raw);
    if (line === '' || line.startsWith('#')) return;
    const source = { file, line: i + 1 };
    items.push(parseSysusersLine(line, source));
  });
  return items;
}

/** Lines as systemd's read_line ends them: at LF, CR, CRLF or NUL. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\r\n\0]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** strstrip: only the four whitespace characters systemd knows, not JS's wider set. */
export function stripWhitespace(s: string): string {
  return s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

/** One non-comment line; `source` only names it in errors and is kept on the item. */
export function parseSysusersLine(line: string, source: ConfSource): SysusersItem {
  const where = `${source.file}:${source.line}`;
  const cols = columns(line, where);
  const fail = (msg: string): never => {
    throw new UserError(`${where}: ${msg}`);
  };
  const noExtra = (type: string) => {
    const extra = cols.gecos !== undefined ? 'GECOS' : cols.home !== undefined ? 'home directory' : cols.shell !== undefined ? 'login shell' : undefined;
    if (extra !== undefined) fail(`lines of type '${type}' don't take a ${extra} field`);
  };
  switch (cols.action) {
    case 'u': {
      if (cols.name === undefined) return fail("lines of type 'u' require a user name in the second field");
      return { type: 'u', name: cols.name, ...userIds(cols.id, fail), ...userColumns(cols, fail), source };
    }
    case 'g': {
      if (cols.name === undefined) return fail("lines of type 'g' require a group name in the second field");
      noExtra('g');
      return { type: 'g', name: cols.name, ...groupId(cols.id, fail), source };
    }
    case 'm': {
      if (cols.name === undefined) return fail("lines of type 'm' require a user name in the second field");
      if (cols.id === undefined) return fail("lines of type 'm' require a group name in the third field");
      if (!isValidName(cols.id)) return fail(`'${cols.id}' is not a valid user or group name`);
      noExtra('m');
      return { type: 'm', user: cols.name, group: cols.id, source };
    }
    case 'r': {
      if (cols.name !== undefined) return fail("lines of type 'r' don't take a name field");
      if (cols.id === undefined) return fail("lines of type 'r' require an ID range in the third field");
      noExtra('r');
      const range = parseRange(cols.id);
      if (range === undefined) return fail(`invalid UID range "${cols.id}"`);
      return { type: 'r', ...range, source };
    }
    default:
      return fail(cols.action.length === 1 ? `unknown command type '${cols.action}'` : `unknown modifier '${cols.action}'`);
  }
}

function columns(line: string, where: string): Columns {
  let split: { words: string[]; rest: string | undefined };
  try {
    split = extractWords(line, 6);
  } catch (e) {
    throw new UserError(`${where}: syntax error (${(e as Error).message})`);
  }
  if (split.rest !== undefined) throw new UserError(`${where}: trailing garbage`);
  if (split.words.length < 2) throw new UserError(`${where}: missing action and name columns`);
  const col = (i: number): string | undefined => {
    const w = split.words[i];
    return w === undefined || w === '' || w === '-' ? undefined : expandPercent(w, where);
  };
  const cols: Columns = { action: split.words[0] ?? '', name: col(1), id: col(2), gecos: col(3), home: col(4), shell: col(5) };
  if (cols.name !== undefined && !isValidName(cols.name)) throw new UserError(`${where}: '${cols.name}' is not a valid user or group name`);
  return cols;
}

function userIds(id: string | undefined, fail: (msg: string) => never): Pick<SysusersUser, 'uid' | 'idPath' | 'gid' | 'groupName'> {
  if (id === undefined) return {};
  if (id.startsWith('/')) return { idPath: simplifyPath(id) };
  const colon = id.indexOf(':');
  const uidPart = colon < 0 ? id : id.slice(0, colon);
  const out: Pick<SysusersUser, 'uid' | 'gid' | 'groupName'> = {};
  if (colon >= 0) {
    const gidPart = id.slice(colon + 1);
    const gid = parseId(gidPart);
    if (gid !== undefined) out.gid = gid;
    else if (isValidName(gidPart)) out.groupName = gidPart;
    else fail(`failed to parse GID: '${id}'`);
  }
  if (uidPart !== '-') {
    const uid = parseId(uidPart);
    if (uid === undefined) fail(`failed to parse UID: '${id}'`);
    out.uid = uid;
  }
  return out;
}

function groupId(id: string | undefined, fail: (msg: string) => never): Pick<SysusersGroup, 'gid' | 'idPath'> {
  if (id === undefined) return {};
  if (id.startsWith('/')) return { idPath: simplifyPath(id) };
  const gid = parseId(id);
  return gid === undefined ? fail(`failed to parse GID: '${id}'`) : { gid };
}

function userColumns(cols: Columns, fail: (msg: string) => never): Pick<SysusersUser, 'gecos' | 'home' | 'shell'> {
  const out: Pick<SysusersUser, 'gecos' | 'home' | 'shell'> = {};
  if (cols.gecos !== undefined) {
    // ':' would split the passwd line; control characters have no place in it either.
    if (/[\x00-\x1f\x7f:]/.test(cols.gecos)) fail(`'${cols.gecos}' is not a valid GECOS field`);
    out.gecos = cols.gecos;
  }
  for (const key of ['home', 'shell'] as const) {
    const value = cols[key];
    if (value === undefined) continue;
    const path = simplifyPath(value);
    if (!isValidHome(path)) fail(`'${path}' is not a valid ${key === 'home' ? 'home directory' : 'login shell'} field`);
    out[key] = path;
  }
  return out;
}

/** path_simplify: collapse slashes, drop "." components and a trailing slash (".." stays). */
export function simplifyPath(p: string): string {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  const joined = parts.join('/');
  return p.startsWith('/') ? `/${joined}` : joined === '' ? '.' : joined;
}

function isValidHome(p: string): boolean {
  return p.startsWith('/') && !/[\x00-\x1f\x7f:]/.test(p) && !p.split('/').includes('..');
}

function parseRange(s: string): { first: number; last: number } | undefined {
  const dash = s.indexOf('-');
  const first = parseId(dash < 0 ? s : s.slice(0, dash));
  const last = dash < 0 ? first : parseId(s.slice(dash + 1));
  if (first === undefined || last === undefined || first > last) return undefined;
  return { first, last };
}

/**
 * Render items back to sysusers.d text, one line per item, that `parseSysusers` (and
 * systemd-sysusers) read back to the same items. GECOS is always double-quoted; other fields
 * only when they contain whitespace, quotes or backslashes. Throws if a field cannot be written
 * (empty or "-" values mean "absent" to systemd).
 */
export function renderSysusers(items: SysusersItem[]): string {
  return items.map((item) => `${renderItem(item)}\n`).join('');
}

function renderItem(item: SysusersItem): string {
  switch (item.type) {
    case 'u': {
      const id = item.idPath ?? userIdColumn(item);
      const gecos = item.gecos === undefined ? undefined : quote(escapePercent(checkRenderable(item.gecos)));
      return joinColumns(['u', field(item.name), id === undefined ? undefined : field(id), gecos, optField(item.home), optField(item.shell)]);
    }
    case 'g':
      return joinColumns(['g', field(item.name), optField(item.idPath ?? (item.gid === undefined ? undefined : String(item.gid)))]);
    case 'm':
      return joinColumns(['m', field(item.user), field(item.group)]);
    case 'r':
      return `r - ${item.first === item.last ? item.first : `${item.first}-${item.last}`}`;
  }
}

function userIdColumn(u: SysusersUser): string | undefined {
  const group = u.gid !== undefined ? String(u.gid) : u.groupName;
  const uid = u.uid === undefined ? undefined : String(u.uid);
  if (group === undefined) return uid;
  return `${uid ?? '-'}:${group}`;
}

/** Columns with trailing absent ones dropped (down to `keep`) and inner ones written as "-"; tmpfiles.d's too. */
export function joinColumns(cols: (string | undefined)[], keep = 0): string {
  let n = cols.length;
  while (n > keep && cols[n - 1] === undefined) n--;
  return cols
    .slice(0, n)
    .map((c) => c ?? '-')
    .join(' ');
}

function optField(v: string | undefined): string | undefined {
  return v === undefined ? undefined : field(v);
}

function field(v: string): string {
  const s = escapePercent(checkRenderable(v));
  return /[\s"'\\]/.test(s) ? quote(s) : s;
}

function checkRenderable(v: string): string {
  if (v === '' || v === '-') throw new UserError(`cannot write the value "${v}" in a sysusers.d line: systemd reads it as an absent field`);
  if (/[\n\r]/.test(v)) throw new UserError(`cannot write a value with a line break in a sysusers.d line: ${JSON.stringify(v)}`);
  return v;
}

/** Double quotes, inside which a backslash makes `"` and `\` literal. */
export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
