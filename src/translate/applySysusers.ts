import { UserError } from '../errors.js';
import { orderConfigFiles, parseSysusers, type ConfSource, type SysusersGroup, type SysusersItem, type SysusersUser } from './sysusersConf.js';
import { compareUtf8 } from '../compareUtf8.js';

/** The four account files as text; "" means the file is absent. */
export interface AccountFiles {
  passwd: string;
  group: string;
  shadow: string;
  gshadow: string;
}

/** Inputs systemd-sysusers takes from its environment rather than from the account files. */
export interface SysusersOptions {
  /** Seconds since the epoch; shadow's "last change" day is derived from it, as with SOURCE_DATE_EPOCH. */
  sourceDateEpoch: number;
  /**
   * Whether an absolute path exists in the image (symlinks followed). Only asked about
   * /bin/bash, which becomes root's shell when present (else /bin/sh). Default: nothing exists.
   */
  exists?: (absPath: string) => boolean;
}

/** The account files after the run, and what it created or skipped. */
export interface SysusersResult {
  files: AccountFiles;
  /** New accounts, in the order their lines were appended. */
  created: { users: string[]; groups: string[] };
  /**
   * Lines systemd-sysusers skips with a message but without failing (a conflicting
   * redefinition, a group that must exist but doesn't, no free id), each naming file and line.
   */
  ignored: string[];
}

// Compiled into Debian's systemd 252; /etc/login.defs is not consulted (checked against the tool).
const SYSTEM_RANGE: Range = [1, 999];
const NOLOGIN = '/usr/sbin/nologin';

type Range = [first: number, last: number];

/** One u or g entry while it is being resolved; a `u` entry also stands for its own group. */
interface Account {
  kind: 'u' | 'g';
  name: string;
  uid?: number;
  gid?: number;
  /** The gid came from the line ("uid:gid", or a named group): that group must exist, no new one. */
  strict: boolean;
  idPath?: string;
  groupName?: string;
  gecos?: string;
  home?: string;
  shell?: string;
  todoUser: boolean;
  todoGroup: boolean;
  source?: ConfSource;
}

/** An entry for one id/name database: first definitions win, as in systemd's hash maps. */
interface Db {
  byName: Map<string, number>;
  byId: Map<number, string>;
}

/** A per-line failure systemd-sysusers logs and moves past. */
class Skip extends Error {}

/**
 * Apply sysusers.d files to account files exactly as systemd 252's `systemd-sysusers --root`
 * does when it reads its directories: `confs` run in basename order, and a later file with an
 * already seen basename replaces the earlier one. All groups (`g` lines, then groups implied by
 * `m` lines) get their ids before users and the groups users imply; ids go downward from 999
 * (or from the `r` ranges), and a `u` without an id gets a number free both as uid and as gid.
 * Existing lines are re-written in glibc's canonical form, as the tool does (comments, blank and
 * malformed lines vanish), but only in files that change. Throws a UserError for syntax errors
 * and, when reached, for ids taken from a file's owner (that needs the image on disk).
 */
export function applySysusers(existing: AccountFiles, confs: { file: string; text: string }[], opts: SysusersOptions): SysusersResult {
  const items = orderConfigFiles(confs).flatMap((c) => parseSysusers(c.text, c.file));
  const run = new SysusersRun(items, existing);
  run.processAll();
  const rootShell = opts.exists?.('/bin/bash') ? '/bin/bash' : '/bin/sh';
  const days = Math.floor(opts.sourceDateEpoch / 86400);
  return {
    files: run.write(existing, rootShell, days),
    created: { users: [...run.todoUids.values()].map((a) => a.name), groups: [...run.todoGids.values()].map((a) => a.name) },
    ignored: run.ignored,
  };
}

class SysusersRun {
  readonly users = new Map<string, Account>();
  readonly groups = new Map<string, Account>();
  readonly members = new Map<string, string[]>();
  /** The first `m` line naming each user or group, for messages about implied accounts. */
  private readonly mentioned = new Map<string, ConfSource | undefined>();
  readonly todoUids = new Map<number, Account>();
  readonly todoGids = new Map<number, Account>();
  readonly ignored: string[] = [];
  private readonly ranges: Range[] = [];
  private readonly userDb: Db;
  private readonly groupDb: Db;
  // Starts at UID_INVALID; the first step down lands on the top of the highest range.
  private search = 0xffffffff;

  constructor(items: SysusersItem[], existing: AccountFiles) {
    for (const item of items) this.add(item);
    if (this.ranges.length === 0) this.ranges.push(SYSTEM_RANGE);
    this.addImplicit();
    this.userDb = database(parsePasswd(existing.passwd).map((p) => [p.name, p.uid]));
    this.groupDb = database(parseGroup(existing.group).map((g) => [g.name, g.gid]));
  }

  private add(item: SysusersItem): void {
    if (item.type === 'r') return addRange(this.ranges, [item.first, item.last]);
    if (item.type === 'm') {
      const list = this.members.get(item.group) ?? [];
      if (!list.includes(item.user)) list.push(item.user);
      this.members.set(item.group, list);
      for (const name of [item.user, item.group]) if (!this.mentioned.has(name)) this.mentioned.set(name, item.source);
      return;
    }
    const map = item.type === 'u' ? this.users : this.groups;
    // The first definition of a name wins; systemd warns about a differing later one.
    const earlier = map.get(item.name);
    if (earlier !== undefined) {
      if (!sameDefinition(earlier, item)) this.ignored.push(`${where(item.source)}conflicts with the earlier definition of ${item.name}, ignored`);
      return;
    }
    const base = { name: item.name, gid: item.gid, idPath: item.idPath, source: item.source, todoUser: false, todoGroup: false };
    const account: Account =
      item.type === 'u'
        ? { ...base, kind: 'u', uid: item.uid, strict: item.gid !== undefined, groupName: item.groupName, gecos: item.gecos, home: item.home, shell: item.shell }
        : { ...base, kind: 'g', strict: false };
    map.set(item.name, account);
  }

  /** Members of `m` lines that nothing defines become plain users; unknown groups become groups. */
  private addImplicit(): void {
    for (const [group, list] of this.members) {
      for (const user of list) {
        if (!this.users.has(user)) this.users.set(user, { kind: 'u', name: user, strict: false, todoUser: false, todoGroup: false, source: this.mentioned.get(user) });
      }
      if (!this.users.has(group) && !this.groups.has(group)) {
        this.groups.set(group, { kind: 'g', name: group, strict: false, todoUser: false, todoGroup: false, source: this.mentioned.get(group) });
      }
    }
  }

  processAll(): void {
    for (const g of this.groups.values()) this.guard(g, () => this.addGroup(g));
    for (const u of this.users.values()) this.guard(u, () => this.processUser(u));
  }

  private guard(a: Account, f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      this.ignored.push(`${where(a.source)}${e.message}`);
    }
  }

  private processUser(u: Account): void {
    let j: Account | undefined;
    if (u.gid === undefined) {
      j = this.groups.get(u.groupName ?? u.name);
      if (j === undefined && u.groupName !== undefined) j = this.users.get(u.groupName);
    }
    if (j?.todoGroup) {
      u.gid = j.gid;
      u.strict = true;
    } else if (u.groupName !== undefined) {
      const gid = this.groupDb.byName.get(u.groupName);
      if (gid === undefined) throw new Skip(`group ${u.groupName} not found (user ${u.name} not created)`);
      u.gid = gid;
      u.strict = true;
    } else {
      this.addGroup(u);
    }
    this.addUser(u);
  }

  private addGroup(a: Account): void {
    const known = this.groupDb.byName.get(a.name);
    if (known !== undefined) {
      a.gid = known;
      return;
    }
    if (a.gid !== undefined) {
      const free = this.gidIsOk(a.gid, false);
      if (a.strict) {
        if (free) throw new Skip(`group ${a.gid} of user ${a.name} does not exist (systemd: "please create GID ${a.gid}")`);
        return;
      }
      if (!free) a.gid = undefined;
    }
    if (a.gid === undefined && a.uid !== undefined && this.gidIsOk(a.uid, true)) a.gid = a.uid;
    if (a.gid === undefined) this.idFromFile(a);
    if (a.gid === undefined) a.gid = this.allocate(`group ${a.name}`, (id) => this.gidIsOk(id, true));
    if (this.todoGids.has(a.gid)) throw new Skip(`group ${a.name} with GID ${a.gid} is duplicated or conflicts with another group`);
    this.todoGids.set(a.gid, a);
    a.todoGroup = true;
  }

  private addUser(a: Account): void {
    const known = this.userDb.byName.get(a.name);
    if (known !== undefined) {
      a.uid = known;
      return;
    }
    if (a.uid !== undefined && !this.uidIsOk(a.uid, a.name, !a.strict)) a.uid = undefined;
    if (a.uid === undefined) this.idFromFile(a);
    if (a.uid === undefined && a.gid !== undefined && this.uidIsOk(a.gid, a.name, true)) a.uid = a.gid;
    if (a.uid === undefined) a.uid = this.allocate(`user ${a.name}`, (id) => this.uidIsOk(id, a.name, true));
    if (this.todoUids.has(a.uid)) throw new Skip(`user ${a.name} with UID ${a.uid} is duplicated or conflicts with another user`);
    this.todoUids.set(a.uid, a);
    a.todoUser = true;
  }

  /** Ids read from a file's owner need the image on disk; refuse rather than guess. */
  private idFromFile(a: Account): void {
    if (a.idPath === undefined) return;
    const where = a.source ? `${a.source.file}:${a.source.line}` : a.name;
    throw new UserError(`${where}: taking the id of ${a.kind === 'u' ? 'user' : 'group'} ${a.name} from the owner of ${a.idPath} is not supported`);
  }

  /** Walk down the shared search position (never reset, as in systemd) to the first id `ok` accepts. */
  private allocate(what: string, ok: (id: number) => boolean): number {
    for (;;) {
      const next = nextLower(this.ranges, this.search);
      if (next === undefined) throw new Skip(`no free ID available for ${what}`);
      this.search = next;
      if (ok(next)) return next;
    }
  }

  /** A uid is free when no user has it and no other-named group does (so uid and gid can match). */
  private uidIsOk(uid: number, name: string, checkWithGid: boolean): boolean {
    if (this.todoUids.has(uid)) return false;
    if (checkWithGid) {
      const g = this.todoGids.get(uid);
      if (g !== undefined && g.name !== name) return false;
    }
    if (this.userDb.byId.has(uid)) return false;
    if (checkWithGid) {
      const n = this.groupDb.byId.get(uid);
      if (n !== undefined && n !== name) return false;
    }
    return true;
  }

  private gidIsOk(gid: number, checkWithUid: boolean): boolean {
    if (this.todoGids.has(gid)) return false;
    if (checkWithUid && this.todoUids.has(gid)) return false;
    if (this.groupDb.byId.has(gid)) return false;
    return !(checkWithUid && this.userDb.byId.has(gid));
  }

  write(existing: AccountFiles, rootShell: string, days: number): AccountFiles {
    const anyGroupWork = this.todoGids.size > 0 || this.members.size > 0;
    const anyUserWork = this.todoUids.size > 0;
    const group = anyGroupWork ? this.writeGroup(existing.group) : existing.group;
    const gshadow = anyGroupWork ? this.writeGshadow(existing.gshadow) : existing.gshadow;
    const passwd = anyUserWork ? this.writePasswd(existing.passwd, rootShell) : existing.passwd;
    const shadow = anyUserWork ? this.writeShadow(existing.shadow, days) : existing.shadow;
    return { passwd, group, shadow, gshadow };
  }

  /** Existing members plus configured ones; sorted (by strcmp, byte order) only when something was added, as systemd does. */
  private withMembers(name: string, current: string[]): { list: string[]; added: boolean } {
    const extra = (this.members.get(name) ?? []).filter((m) => !current.includes(m));
    if (extra.length === 0) return { list: current, added: false };
    return { list: [...new Set([...current, ...extra])].sort(compareUtf8), added: true };
  }

  private writeGroup(text: string): string {
    const entries = parseGroup(text);
    let changed = false;
    const out: string[] = [];
    const nisAt = entries.findIndex((e) => isNis(e.name));
    const head = nisAt < 0 ? entries : entries.slice(0, nisAt);
    for (const e of head) {
      if (this.groups.get(e.name)?.todoGroup) throw new UserError(`/etc/group: group "${e.name}" already exists`);
      if (this.todoGids.has(e.gid)) throw new UserError(`/etc/group: detected collision for GID ${e.gid}`);
      const m = this.withMembers(e.name, e.members);
      changed ||= m.added;
      out.push(formatGroup({ ...e, members: m.list }));
    }
    for (const a of this.todoGids.values()) {
      out.push(formatGroup({ name: a.name, passwd: 'x', gid: a.gid ?? 0, members: this.withMembers(a.name, []).list }));
      changed = true;
    }
    if (nisAt >= 0) out.push(...entries.slice(nisAt).map(formatGroup));
    return changed ? joinLines(out) : text;
  }

  private writeGshadow(text: string): string {
    let changed = false;
    const out: string[] = [];
    for (const e of parseGshadow(text)) {
      if (this.groups.get(e.name)?.todoGroup) throw new UserError(`/etc/gshadow: group "${e.name}" already exists`);
      const m = this.withMembers(e.name, e.members);
      changed ||= m.added;
      out.push(formatGshadow({ ...e, members: m.list }));
    }
    for (const a of this.todoGids.values()) {
      out.push(formatGshadow({ name: a.name, passwd: '!*', admins: [], members: this.withMembers(a.name, []).list }));
      changed = true;
    }
    return changed ? joinLines(out) : text;
  }

  private writePasswd(text: string, rootShell: string): string {
    const entries = parsePasswd(text);
    const nisAt = entries.findIndex((e) => isNis(e.name));
    const head = nisAt < 0 ? entries : entries.slice(0, nisAt);
    for (const e of head) {
      if (this.users.get(e.name)?.todoUser) throw new UserError(`/etc/passwd: user "${e.name}" already exists`);
      if (this.todoUids.has(e.uid)) throw new UserError(`/etc/passwd: detected collision for UID ${e.uid}`);
    }
    const added = [...this.todoUids.values()].map((a) => ({
      name: a.name,
      passwd: 'x',
      uid: a.uid ?? 0,
      gid: a.gid ?? 0,
      gecos: a.gecos ?? '',
      home: a.home ?? '/',
      shell: a.shell ?? (a.uid === 0 ? rootShell : NOLOGIN),
    }));
    const all = [...head, ...added, ...(nisAt < 0 ? [] : entries.slice(nisAt))];
    return joinLines(all.map(formatPasswd));
  }

  private writeShadow(text: string, days: number): string {
    const entries = parseShadow(text);
    const nisAt = entries.findIndex((e) => isNis(e.name));
    const head = nisAt < 0 ? entries : entries.slice(0, nisAt);
    const pending = new Map([...this.todoUids.values()].map((a) => [a.name, a]));
    for (const e of head) {
      // A new user that already has a shadow line keeps it, with a fresh "last change" day.
      if (pending.delete(e.name)) e.numbers[0] = days;
    }
    const added = [...pending.values()].map((a): ShadowEntry => ({ name: a.name, passwd: '!*', numbers: [days, -1, -1, -1, -1, -1], flag: undefined }));
    const all = [...head, ...added, ...(nisAt < 0 ? [] : entries.slice(nisAt))];
    return joinLines(all.map(formatShadow));
  }
}

function where(source: ConfSource | undefined): string {
  return source === undefined ? '' : `${source.file}:${source.line}: `;
}

/** item_equivalent, roughly: the same ids and fields (systemd also equates any two nologin shells). */
function sameDefinition(a: Account, item: SysusersUser | SysusersGroup): boolean {
  const nologin = (s: string | undefined) => s !== undefined && /^\/(usr\/)?s?bin\/(nologin|false|true)$/.test(s);
  if (item.type === 'g') return a.gid === item.gid && a.idPath === item.idPath;
  const shellsMatch = a.shell === item.shell || (nologin(a.shell) && nologin(item.shell));
  return a.uid === item.uid && a.gid === item.gid && a.groupName === item.groupName && a.idPath === item.idPath && a.gecos === item.gecos && a.home === item.home && shellsMatch;
}

function database(pairs: [string, number][]): Db {
  const db: Db = { byName: new Map(), byId: new Map() };
  for (const [name, id] of pairs) {
    if (!db.byName.has(name)) db.byName.set(name, id);
    if (!db.byId.has(id)) db.byId.set(id, name);
  }
  return db;
}

/** Insert a range and merge overlapping or adjacent ones, keeping them sorted. */
function addRange(ranges: Range[], r: Range): void {
  ranges.push(r);
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 0; i + 1 < ranges.length; ) {
    const [a, b] = [ranges[i] as Range, ranges[i + 1] as Range];
    if (b[0] <= a[1] + 1) {
      ranges.splice(i, 2, [a[0], Math.max(a[1], b[1])]);
    } else {
      i++;
    }
  }
}

/** The next id below `current` inside the ranges; from a gap, the top of the highest range below. */
function nextLower(ranges: Range[], current: number): number | undefined {
  if (current === 0) return undefined;
  const candidate = current - 1;
  let closest: number | undefined;
  for (const [first, last] of ranges) {
    if (candidate >= first && candidate <= last) return candidate;
    if (last < candidate) closest = last;
  }
  return closest;
}

function joinLines(lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

/** NIS compat entries ("+name", "-name") that systemd keeps at the end. */
function isNis(name: string): boolean {
  return name.startsWith('+') || name.startsWith('-');
}

// ---- glibc's fget*ent / put*ent, which systemd-sysusers reads and rewrites the files with ----

interface PasswdEntry {
  name: string;
  passwd: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

interface GroupEntry {
  name: string;
  passwd: string;
  gid: number;
  members: string[];
}

interface GshadowEntry {
  name: string;
  passwd: string;
  admins: string[];
  members: string[];
}

interface ShadowEntry {
  name: string;
  passwd: string;
  /** lstchg, min, max, warn, inact, expire; -1 = empty. */
  numbers: number[];
  /** undefined = empty. */
  flag: number | undefined;
}

/** A cursor over one line, with glibc's field macros. `undefined` from a reader = malformed line. */
class Fields {
  constructor(
    private line: string,
    private pos = 0,
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.line.length;
  }

  /** STRING_FIELD: up to the next ':' (consumed), or the rest of the line. */
  string(): string {
    const colon = this.line.indexOf(':', this.pos);
    const end = colon < 0 ? this.line.length : colon;
    const s = this.line.slice(this.pos, end);
    this.pos = colon < 0 ? end : end + 1;
    return s;
  }

  rest(): string {
    const s = this.line.slice(this.pos);
    this.pos = this.line.length;
    return s;
  }

  /** INT_FIELD / INT_FIELD_MAYBE_NULL (glibc 2.36: strtoul, values beyond 32 bits refused). */
  number(maybeNull: boolean): number | null | undefined {
    if (maybeNull && this.atEnd) return undefined;
    const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(this.line.slice(this.pos));
    let value: number | null = null;
    let end = this.pos;
    if (m !== null) {
      const v = BigInt(m[2] ?? '0');
      const big = m[1] === '-' && v !== 0n ? 2n ** 64n - v : v;
      if (big > 0xffffffffn) return undefined;
      value = Number(big);
      end = this.pos + m[0].length;
    } else if (!maybeNull) {
      return undefined;
    }
    const next = this.line.charAt(end);
    if (next === ':') end++;
    else if (next !== '') return undefined;
    this.pos = end;
    return value;
  }

  /** parse_list: elements split at ',', leading blanks dropped, empty ones skipped, up to `terminator` or the end. */
  list(terminator?: ':'): string[] {
    const out: string[] = [];
    for (;;) {
      if (this.atEnd) return out;
      if (this.line.charAt(this.pos) === terminator) {
        this.pos++;
        return out;
      }
      this.skipBlanks();
      const start = this.pos;
      while (!this.atEnd && this.line.charAt(this.pos) !== ',' && this.line.charAt(this.pos) !== terminator) this.pos++;
      if (this.pos > start) out.push(this.line.slice(start, this.pos));
      if (this.atEnd) return out;
      if (this.line.charAt(this.pos++) === terminator) return out;
    }
  }

  skipBlanks(): void {
    while (!this.atEnd && ' \t\n\v\f\r'.includes(this.line.charAt(this.pos))) this.pos++;
  }
}

/** __nss_readline: leading blanks dropped; blank and '#' lines skipped; then each parser may refuse a line. */
function dbLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/^[ \t\n\v\f\r]+/, ''))
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function parseEntries<T>(text: string, parse: (f: Fields) => T | undefined): T[] {
  return dbLines(text).flatMap((l) => {
    const e = parse(new Fields(l));
    return e === undefined ? [] : [e];
  });
}

function parsePasswd(text: string): PasswdEntry[] {
  return parseEntries(text, (f) => {
    const name = f.string();
    if (f.atEnd && isNis(name)) return { name, passwd: '', uid: 0, gid: 0, gecos: '', home: '', shell: '' };
    const passwd = f.string();
    const uid = f.number(isNis(name));
    const gid = f.number(isNis(name));
    if (uid === undefined || gid === undefined) return undefined;
    return { name, passwd, uid: uid ?? 0, gid: gid ?? 0, gecos: f.string(), home: f.string(), shell: f.rest() };
  });
}

function parseGroup(text: string): GroupEntry[] {
  return parseEntries(text, (f) => {
    const name = f.string();
    if (f.atEnd && isNis(name)) return { name, passwd: '', gid: 0, members: [] };
    const passwd = f.string();
    const gid = f.number(isNis(name));
    if (gid === undefined) return undefined;
    return { name, passwd, gid: gid ?? 0, members: f.list() };
  });
}

function parseGshadow(text: string): GshadowEntry[] {
  return parseEntries(text, (f) => {
    const name = f.string();
    if (f.atEnd && isNis(name)) return { name, passwd: '', admins: [], members: [] };
    const passwd = f.string();
    const admins = f.list(':');
    return { name, passwd, admins, members: f.list() };
  });
}

function parseShadow(text: string): ShadowEntry[] {
  return parseEntries(text, (f) => {
    const name = f.string();
    if (f.atEnd && isNis(name)) return { name, passwd: '', numbers: [0, 0, 0, -1, -1, -1], flag: undefined };
    const passwd = f.string();
    const numbers: number[] = [];
    const take = (): boolean => {
      const n = f.number(true);
      // Stored as (long)(int): 2^32-1 reads back as -1, the "empty" marker.
      if (n !== undefined) numbers.push(n === null ? -1 : n >= 0x80000000 ? n - 0x100000000 : n);
      return n !== undefined;
    };
    if (!take() || !take() || !take()) return undefined;
    f.skipBlanks();
    // Without a fourth number it is the old three-number form.
    if (f.atEnd) return { name, passwd, numbers: [...numbers, -1, -1, -1], flag: undefined };
    if (!take() || !take() || !take()) return undefined;
    let flag: number | undefined;
    if (!f.atEnd) {
      const n = f.number(true);
      if (n === undefined || !f.atEnd) return undefined;
      flag = n ?? undefined;
    }
    return { name, passwd, numbers, flag };
  });
}

function formatPasswd(e: PasswdEntry): string {
  for (const v of [e.name, e.passwd, e.home, e.shell]) checkField(v, 'passwd', e.name);
  const gecos = e.gecos.replace(/[:\n]/g, ' ');
  if (isNis(e.name)) return `${e.name}:${e.passwd}:::${gecos}:${e.home}:${e.shell}`;
  return `${e.name}:${e.passwd}:${e.uid}:${e.gid}:${gecos}:${e.home}:${e.shell}`;
}

function formatGroup(e: GroupEntry): string {
  for (const v of [e.name, e.passwd]) checkField(v, 'group', e.name);
  for (const m of e.members) checkField(m, 'group', e.name, true);
  const head = isNis(e.name) ? `${e.name}:${e.passwd}::` : `${e.name}:${e.passwd}:${e.gid}:`;
  return head + e.members.join(',');
}

function formatGshadow(e: GshadowEntry): string {
  for (const v of [e.name, e.passwd]) checkField(v, 'gshadow', e.name);
  for (const m of [...e.admins, ...e.members]) checkField(m, 'gshadow', e.name, true);
  return `${e.name}:${e.passwd}:${e.admins.join(',')}:${e.members.join(',')}`;
}

function formatShadow(e: ShadowEntry): string {
  const nums = e.numbers.map((n) => (n === -1 ? '' : String(n)));
  return `${e.name}:${e.passwd}:${nums.join(':')}:${e.flag === undefined ? '' : e.flag}`;
}

/** put*ent refuses such fields, and then systemd-sysusers fails as a whole. */
function checkField(v: string, file: string, entry: string, list = false): void {
  if (/[:\n]/.test(v) || (list && v.includes(','))) {
    throw new UserError(`/etc/${file}: the entry "${entry}" has a field glibc cannot write back ("${v}"); systemd-sysusers would fail`);
  }
}
