/**
 * shadow-utils' useradd, groupadd, usermod and gpasswd, read from a maintainer script's argument
 * words and turned into account effects, as the tools (shadow 4.13, the version of Debian bookworm;
 * Arch's later versions behave the same for these options) would act on a fresh install.
 *
 * Also home to what the account command parsers share: the result shape, the check for words
 * only known at run time, and a getopt_long reader (glibc's and musl's rules: bundled short
 * flags, attached values, `--long=value`, unique prefixes of long names, operands anywhere).
 */
import type { DirectoryEffect, Effect, GroupEffect, IdRange, MemberEffect, UserEffect } from '../src/translate/effects.js';

export type AccountCommandEffect = UserEffect | GroupEffect | MemberEffect | DirectoryEffect;

/**
 * What a command would do, or one sentence on why it cannot be told. `note` says what the effects
 * leave out (files copied from a skeleton directory, a password), for the caller to report.
 */
export type AccountCommandResult = { effects: AccountCommandEffect[]; note?: string } | { unrecognized: string };

/** Where the caller knows more than the command line: whether a home directory already exists. */
export interface AccountCommandContext {
  /** useradd -m and Debian's adduser leave an existing home as it is (no owner, mode or skeleton). */
  homeExists?: (path: string) => boolean;
}

/** `$name`, `${…}`, `$(…)`, `$1`, `$?`… or a backquote: a word the shell expands when the script runs. */
const EXPANSION = /\$[A-Za-z_{(0-9@*#?!$-]|`/;

/** The sentence for the first word that is only known at run time, if any. */
export function unexpandedWord(tool: string, args: readonly string[]): string | undefined {
  const word = args.find((a) => EXPANSION.test(a));
  return word === undefined ? undefined : `${tool}: ${word} is only known when the script runs`;
}

export function unrecognized(sentence: string): { unrecognized: string } {
  return { unrecognized: sentence };
}

/** Several notes in one report line. */
export function joinNotes(notes: readonly string[]): { note?: string } {
  return notes.length === 0 ? {} : { note: notes.join('; ') };
}

// ---------------------------------------------------------------------------------------------
// getopt_long

export interface OptionSpec {
  /** The name options are reported under. */
  key: string;
  short?: string;
  long?: string;
  /** Takes a value (required_argument). */
  value: boolean;
}

export interface ParsedOptions {
  /** In command-line order; flags have the value ''. */
  options: { key: string; value: string }[];
  operands: string[];
}

/**
 * Options and operands as getopt_long sees them: `--` ends the options, a lone `-` is an operand,
 * and operands may come before options (both glibc and musl permute).
 */
export function getoptLong(tool: string, args: readonly string[], specs: readonly OptionSpec[]): ParsedOptions | { unrecognized: string } {
  const out: ParsedOptions = { options: [], operands: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const taken = longOption(tool, arg, args[i + 1], specs, out);
      if (typeof taken === 'string') return unrecognized(taken);
      i += taken;
    } else if (arg.startsWith('-') && arg !== '-') {
      const taken = shortOptions(tool, arg, args[i + 1], specs, out);
      if (typeof taken === 'string') return unrecognized(taken);
      i += taken;
    } else {
      out.operands.push(arg);
    }
  }
  return out;
}

/** Reads one `--name[=value]`; returns how many following words it used, or an error sentence. */
function longOption(tool: string, arg: string, next: string | undefined, specs: readonly OptionSpec[], out: ParsedOptions): number | string {
  const eq = arg.indexOf('=');
  const name = arg.slice(2, eq < 0 ? undefined : eq);
  const spec = findLong(specs, name);
  if (spec === 'ambiguous') return `${tool}: option --${name} is ambiguous`;
  if (spec === undefined) return `${tool}: option --${name} is not understood`;
  if (!spec.value) {
    if (eq >= 0) return `${tool}: option --${spec.long} takes no value`;
    out.options.push({ key: spec.key, value: '' });
    return 0;
  }
  if (eq >= 0) {
    out.options.push({ key: spec.key, value: arg.slice(eq + 1) });
    return 0;
  }
  if (next === undefined) return `${tool}: option --${spec.long} needs a value`;
  out.options.push({ key: spec.key, value: next });
  return 1;
}

/** An exact long name, else the only option whose long name starts with `name`. */
function findLong(specs: readonly OptionSpec[], name: string): OptionSpec | 'ambiguous' | undefined {
  const exact = specs.find((s) => s.long === name);
  if (exact) return exact;
  const hits = specs.filter((s) => name !== '' && s.long?.startsWith(name));
  if (new Set(hits.map((s) => s.key)).size > 1) return 'ambiguous';
  return hits[0];
}

/** Reads one `-abc` bundle; a flag taking a value takes the rest of the word or the next word. */
function shortOptions(tool: string, arg: string, next: string | undefined, specs: readonly OptionSpec[], out: ParsedOptions): number | string {
  for (let j = 1; j < arg.length; j++) {
    const spec = specs.find((s) => s.short === arg[j]);
    if (spec === undefined) return `${tool}: option -${arg[j]} is not understood`;
    if (!spec.value) {
      out.options.push({ key: spec.key, value: '' });
      continue;
    }
    if (j + 1 < arg.length) {
      out.options.push({ key: spec.key, value: arg.slice(j + 1) });
      return 0;
    }
    if (next === undefined) return `${tool}: option -${spec.short} needs a value`;
    out.options.push({ key: spec.key, value: next });
    return 1;
  }
  return 0;
}

/** The last value given for an option (the tools keep the last one), if any. */
export function lastValue(parsed: ParsedOptions, key: string): string | undefined {
  let value: string | undefined;
  for (const o of parsed.options) if (o.key === key) value = o.value;
  return value;
}

export function hasOption(parsed: ParsedOptions, key: string): boolean {
  return parsed.options.some((o) => o.key === key);
}

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * What useradd and groupadd take from /etc/login.defs and /etc/default/useradd. Ranges are the
 * tools' automatic-id ranges. Caveat on order: shadow picks one below the lowest id in use in the
 * system range (one above the highest for regular ids), only searching the whole range when that
 * end is reached; "the first free id in order" is the same as long as the range has no gaps,
 * which is how it fills on a fresh install.
 */
export interface ShadowDefaults {
  /** SHELL of /etc/default/useradd. */
  defaultShell: string;
  /** SYS_UID_MIN..SYS_UID_MAX (useradd -r). */
  sysRange: IdRange;
  /** UID_MIN..UID_MAX. */
  userRange: IdRange;
  /** SYS_GID_MIN..SYS_GID_MAX (groupadd -r); default: sysRange. */
  sysGroupRange?: IdRange;
  /** GID_MIN..GID_MAX; default: userRange. */
  userGroupRange?: IdRange;
  /** GROUP of /etc/default/useradd: the primary group with -N (or USERGROUPS_ENAB no); default 100. */
  defaultGroup?: number | string;
  /** HOME_MODE, else 0777 & ~UMASK; default 0755. */
  homeMode?: number;
  /** CREATE_HOME: regular users get a home without -m; default false. */
  createHome?: boolean;
  /** USERGROUPS_ENAB; default true. */
  userGroups?: boolean;
  /** /etc/subuid exists, so a regular user gets subordinate ids; default true. */
  subIds?: boolean;
}

/**
 * Debian bookworm: /etc/login.defs sets UID_MIN 1000, UID_MAX 60000 (GID_* alike), UMASK 022,
 * USERGROUPS_ENAB yes and no SYS_UID_*, CREATE_HOME or HOME_MODE, so useradd's built-in
 * SYS_UID_MIN 101 and SYS_UID_MAX UID_MIN-1 apply; /etc/default/useradd sets SHELL=/bin/sh and
 * (as Debian builds it) GROUP=100; login's postinst creates /etc/subuid.
 */
export const DEBIAN_SHADOW_DEFAULTS: ShadowDefaults = {
  defaultShell: '/bin/sh',
  sysRange: { min: 101, max: 999, order: 'descending' },
  userRange: { min: 1000, max: 60000, order: 'ascending' },
  defaultGroup: 100,
  homeMode: 0o755,
  createHome: false,
  userGroups: true,
  subIds: true,
};

/**
 * Arch Linux: upstream shadow's login.defs (SYS_UID_MIN 101, SYS_UID_MAX 999, UID 1000..60000,
 * UMASK 022, USERGROUPS_ENAB yes, no CREATE_HOME or HOME_MODE) and Arch's /etc/default/useradd
 * (GROUP=users, SHELL=/bin/bash).
 */
export const ARCH_SHADOW_DEFAULTS: ShadowDefaults = {
  defaultShell: '/bin/bash',
  sysRange: { min: 101, max: 999, order: 'descending' },
  userRange: { min: 1000, max: 60000, order: 'ascending' },
  defaultGroup: 'users',
  homeMode: 0o755,
  createHome: false,
  userGroups: true,
  subIds: true,
};

/** The -K KEY=VALUE overrides that change what is modeled; others would change what is not. */
const RANGE_KEYS = new Set(['UID_MIN', 'UID_MAX', 'SYS_UID_MIN', 'SYS_UID_MAX', 'GID_MIN', 'GID_MAX', 'SYS_GID_MIN', 'SYS_GID_MAX']);

interface Ranges {
  sys: IdRange;
  user: IdRange;
  sysGroup: IdRange;
  userGroup: IdRange;
  homeMode: number;
  createHome: boolean;
  userGroups: boolean;
}

/** The defaults with -K overrides applied, or why they cannot be. */
function withKeys(tool: string, defaults: ShadowDefaults, keys: readonly string[], system: boolean): Ranges | string {
  const r: Ranges = {
    sys: defaults.sysRange,
    user: defaults.userRange,
    sysGroup: defaults.sysGroupRange ?? defaults.sysRange,
    userGroup: defaults.userGroupRange ?? defaults.userRange,
    homeMode: defaults.homeMode ?? 0o755,
    createHome: defaults.createHome ?? false,
    userGroups: defaults.userGroups ?? true,
  };
  const set = new Map<string, string>();
  for (const kv of keys) {
    const eq = kv.indexOf('=');
    if (eq < 0) return `${tool}: -K ${kv} is not KEY=VALUE`;
    set.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const [key, value] of set) {
    const failed = applyKey(r, key, value);
    if (failed) return `${tool}: -K ${key}=${value} ${failed}`;
  }
  // SYS_*_MAX may follow *_MIN - 1 when login.defs leaves it out: which it is, we cannot tell.
  if (system && ((set.has('UID_MIN') && !set.has('SYS_UID_MAX')) || (set.has('GID_MIN') && !set.has('SYS_GID_MAX')))) {
    return `${tool}: -K UID_MIN/GID_MIN without SYS_UID_MAX/SYS_GID_MAX leaves the system range to login.defs`;
  }
  return r;
}

/** A login.defs number as getdef_num reads it (strtol base 0): 0750 is octal, 750 decimal. */
function cNumber(value: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(value)) return parseInt(value.slice(2), 16);
  if (/^0[0-7]*$/.test(value)) return parseInt(value, 8);
  return /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
}

/** Sets one -K value; returns why it is not understood, if so. */
function applyKey(r: Ranges, key: string, value: string): string | undefined {
  if (RANGE_KEYS.has(key)) {
    if (!/^\d+$/.test(value)) return 'is not a number';
    const n = Number(value);
    const field = key.startsWith('SYS_') ? (key.includes('UID') ? 'sys' : 'sysGroup') : key.includes('UID') ? 'user' : 'userGroup';
    r[field] = key.endsWith('_MIN') ? { ...r[field], min: n } : { ...r[field], max: n };
    return undefined;
  }
  if (key === 'HOME_MODE' || key === 'UMASK') {
    const n = cNumber(value);
    if (n === undefined) return 'is not a number';
    r.homeMode = key === 'HOME_MODE' ? n : 0o777 & ~n;
    return undefined;
  }
  if (key === 'CREATE_HOME' || key === 'USERGROUPS_ENAB') {
    const on = value.toLowerCase() === 'yes';
    if (key === 'CREATE_HOME') r.createHome = on;
    else r.userGroups = on;
    return undefined;
  }
  return 'is not modeled';
}

// ---------------------------------------------------------------------------------------------
// Shared checks

/** shadow's VALID(): ':' and newlines would break the account files. */
function validField(s: string): boolean {
  return !/[:\n]/.test(s);
}

/**
 * Names Debian's relaxed check and upstream's both accept: not empty, not all digits, no leading
 * '-', '+' or '~', no ':', ',', '/' or whitespace, at most 32 bytes. Upstream (Arch) is stricter
 * without --badname ([a-z_][a-z0-9_-]*$?); real package scripts stay within that anyway.
 */
export function acceptableName(name: string): boolean {
  return /^[^-+~:,\s/][^:,\s/]*$/.test(name) && !/^\d+$/.test(name) && Buffer.byteLength(name) <= 32;
}

/** A decimal id as get_uid/get_gid read it; (uid_t)-1 is refused. */
function parseId(value: string): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n < 0xffffffff ? n : undefined;
}

/** A group as -g names it: its number or its name. */
function groupRef(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Password fields that leave the account locked, as the effect model has it. */
function isLockedPassword(p: string): boolean {
  return p.startsWith('!') || p.startsWith('*');
}

/** Memberships from a comma-separated list, as -G gives them. */
function members(user: string, groups: string): MemberEffect[] {
  return groups
    .split(',')
    .filter((g) => g !== '')
    .map((group) => ({ kind: 'member', user, group, origin: 'script' }));
}

// ---------------------------------------------------------------------------------------------
// useradd

const USERADD_OPTIONS: readonly OptionSpec[] = [
  { key: 'b', short: 'b', long: 'base-dir', value: true },
  { key: 'btrfs', long: 'btrfs-subvolume-home', value: false },
  { key: 'badname', long: 'badname', value: false },
  { key: 'c', short: 'c', long: 'comment', value: true },
  { key: 'd', short: 'd', long: 'home-dir', value: true },
  { key: 'D', short: 'D', long: 'defaults', value: false },
  { key: 'e', short: 'e', long: 'expiredate', value: true },
  { key: 'f', short: 'f', long: 'inactive', value: true },
  { key: 'F', short: 'F', long: 'add-subids-for-system', value: false },
  { key: 'g', short: 'g', long: 'gid', value: true },
  { key: 'G', short: 'G', long: 'groups', value: true },
  { key: 'h', short: 'h', long: 'help', value: false },
  { key: 'k', short: 'k', long: 'skel', value: true },
  { key: 'K', short: 'K', long: 'key', value: true },
  { key: 'l', short: 'l', long: 'no-log-init', value: false },
  { key: 'm', short: 'm', long: 'create-home', value: false },
  { key: 'M', short: 'M', long: 'no-create-home', value: false },
  { key: 'N', short: 'N', long: 'no-user-group', value: false },
  { key: 'o', short: 'o', long: 'non-unique', value: false },
  { key: 'p', short: 'p', long: 'password', value: true },
  { key: 'r', short: 'r', long: 'system', value: false },
  { key: 'R', short: 'R', long: 'root', value: true },
  { key: 'P', short: 'P', long: 'prefix', value: true },
  { key: 's', short: 's', long: 'shell', value: true },
  { key: 'u', short: 'u', long: 'uid', value: true },
  { key: 'U', short: 'U', long: 'user-group', value: false },
  { key: 'Z', short: 'Z', long: 'selinux-user', value: true },
];

/** Options whose effect lies outside the image's account files and homes, or outside this image. */
const USERADD_REFUSED: Record<string, string> = {
  D: 'useradd -D changes useradd’s own defaults',
  R: 'useradd --root works on another tree',
  P: 'useradd --prefix works on another tree',
  Z: 'useradd -Z maps the user to an SELinux user',
  btrfs: 'useradd --btrfs-subvolume-home makes a subvolume',
};

/**
 * useradd's argument words as effects: the user (locked, as the model makes created accounts;
 * useradd itself leaves "!" in /etc/shadow), its own group when USERGROUPS_ENAB or -U asks for one
 * (a user effect without `group`: the group takes the uid's number when free, as useradd prefers),
 * its -G memberships and, with -m (or CREATE_HOME for a regular user), its home directory.
 */
export function parseUseradd(args: string[], defaults: ShadowDefaults, context: AccountCommandContext = {}): AccountCommandResult {
  const dynamic = unexpandedWord('useradd', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('useradd', args, USERADD_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  if (hasOption(parsed, 'h')) return { effects: [] };
  const refused = parsed.options.find((o) => USERADD_REFUSED[o.key] !== undefined);
  if (refused) return unrecognized(USERADD_REFUSED[refused.key]!);
  const [name, ...extra] = parsed.operands;
  if (name === undefined || extra.length > 0) return unrecognized('useradd: expects exactly one user name');
  if (!acceptableName(name) && !hasOption(parsed, 'badname')) return unrecognized(`useradd: ${name} is not a valid user name`);
  const system = hasOption(parsed, 'r');
  const ranges = withKeys('useradd', defaults, parsed.options.filter((o) => o.key === 'K').map((o) => o.value), system);
  if (typeof ranges === 'string') return unrecognized(ranges);
  const conflict = useraddConflict(parsed);
  if (conflict) return unrecognized(conflict);
  return useraddEffects(name, parsed, ranges, defaults, context);
}

/** Combinations useradd refuses, checked after all options are read. */
function useraddConflict(p: ParsedOptions): string | undefined {
  const has = (k: string) => hasOption(p, k);
  if (has('o') && !has('u')) return 'useradd: -o is only allowed with -u';
  if (has('k') && !has('m')) return 'useradd: -k is only allowed with -m';
  if (has('U') && has('g')) return 'useradd: -U and -g conflict';
  if (has('U') && has('N')) return 'useradd: -U and -N conflict';
  if (has('m') && has('M')) return 'useradd: -m and -M conflict';
  const expire = lastValue(p, 'e');
  if (expire !== undefined && expire !== '') return 'useradd: -e sets an expiry date, which is not modeled';
  const inactive = lastValue(p, 'f');
  if (inactive !== undefined && inactive !== '-1') return 'useradd: -f sets an inactivity period, which is not modeled';
  return undefined;
}

function useraddEffects(name: string, p: ParsedOptions, r: Ranges, defaults: ShadowDefaults, context: AccountCommandContext): AccountCommandResult {
  const system = hasOption(p, 'r');
  const uidText = lastValue(p, 'u');
  const uid = uidText === undefined ? undefined : parseId(uidText);
  if (uidText !== undefined && uid === undefined) return unrecognized(`useradd: ${uidText} is not a user id`);
  const gecos = lastValue(p, 'c') ?? '';
  const home = lastValue(p, 'd') ?? `${lastValue(p, 'b') ?? '/home'}/${name}`;
  const shell = lastValue(p, 's') ?? defaults.defaultShell;
  const bad = badUseraddField(gecos, home, shell);
  if (bad) return unrecognized(bad);
  const gOption = lastValue(p, 'g');
  const ownGroup = hasOption(p, 'U') || (gOption === undefined && !hasOption(p, 'N') && r.userGroups);
  const group = gOption !== undefined ? groupRef(gOption) : ownGroup ? undefined : (defaults.defaultGroup ?? 100);
  const user: UserEffect = {
    kind: 'user',
    name,
    ...(uid !== undefined ? { uid } : { range: system ? r.sys : r.user }),
    ...(group !== undefined ? { group } : {}),
    gecos,
    home,
    shell,
    origin: 'script',
  };
  const effects: AccountCommandEffect[] = [user, ...members(name, lastValue(p, 'G') ?? '')];
  const notes: string[] = [];
  const makesHome = hasOption(p, 'm') || (!system && r.createHome && !hasOption(p, 'M'));
  if (makesHome && !context.homeExists?.(home)) {
    effects.push({ kind: 'directory', path: home, mode: r.homeMode, user: name, group: String(group ?? name) });
    const skel = lastValue(p, 'k') ?? '/etc/skel';
    if (skel !== '/dev/null') notes.push(`useradd: files of ${skel} are not copied into ${home}`);
  }
  notes.push(...useraddNotes(p, system, uid, r, defaults));
  return { effects, ...joinNotes(notes) };
}

function badUseraddField(gecos: string, home: string, shell: string): string | undefined {
  if (!validField(gecos)) return 'useradd: the comment has a colon or a newline';
  if (!validField(home) || !home.startsWith('/')) return `useradd: ${home} is not a valid home directory`;
  if (!validField(shell) || (shell !== '' && !shell.startsWith('/') && !shell.startsWith('*'))) return `useradd: ${shell} is not a valid shell`;
  return undefined;
}

/** What the effects leave out: a password set with -p, subordinate ids. */
function useraddNotes(p: ParsedOptions, system: boolean, uid: number | undefined, r: Ranges, defaults: ShadowDefaults): string[] {
  const notes: string[] = [];
  const password = lastValue(p, 'p');
  if (password !== undefined && !isLockedPassword(password)) notes.push('useradd: the password -p sets is not kept (created accounts are locked)');
  const inUserRange = uid === undefined || (uid >= r.user.min && uid <= r.user.max);
  if ((defaults.subIds ?? true) && ((!system && inUserRange) || (system && hasOption(p, 'F')))) {
    notes.push('useradd: the subordinate ids it adds to /etc/subuid and /etc/subgid are not reproduced');
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// groupadd

const GROUPADD_OPTIONS: readonly OptionSpec[] = [
  { key: 'f', short: 'f', long: 'force', value: false },
  { key: 'g', short: 'g', long: 'gid', value: true },
  { key: 'h', short: 'h', long: 'help', value: false },
  { key: 'K', short: 'K', long: 'key', value: true },
  { key: 'o', short: 'o', long: 'non-unique', value: false },
  { key: 'p', short: 'p', long: 'password', value: true },
  { key: 'r', short: 'r', long: 'system', value: false },
  { key: 'R', short: 'R', long: 'root', value: true },
  { key: 'P', short: 'P', long: 'prefix', value: true },
  { key: 'U', short: 'U', long: 'users', value: true },
];

/**
 * groupadd's argument words as a group effect (and members with -U). With -f an existing group
 * is kept, which is what a group effect means anyway; -f with a -g that is taken picks another
 * id instead, which a fixed gid cannot say: the fixed gid is kept (it is free on a fresh install).
 */
export function parseGroupadd(args: string[], defaults: ShadowDefaults): AccountCommandResult {
  const dynamic = unexpandedWord('groupadd', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('groupadd', args, GROUPADD_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  if (hasOption(parsed, 'h')) return { effects: [] };
  if (hasOption(parsed, 'R') || hasOption(parsed, 'P')) return unrecognized('groupadd: --root/--prefix work on another tree');
  const [name, ...extra] = parsed.operands;
  if (name === undefined || extra.length > 0) return unrecognized('groupadd: expects exactly one group name');
  if (!acceptableName(name)) return unrecognized(`groupadd: ${name} is not a valid group name`);
  if (hasOption(parsed, 'o') && !hasOption(parsed, 'g')) return unrecognized('groupadd: -o is only allowed with -g');
  const system = hasOption(parsed, 'r');
  const ranges = withKeys('groupadd', defaults, parsed.options.filter((o) => o.key === 'K').map((o) => o.value), system);
  if (typeof ranges === 'string') return unrecognized(ranges);
  const gidText = lastValue(parsed, 'g');
  const gid = gidText === undefined ? undefined : parseId(gidText);
  if (gidText !== undefined && gid === undefined) return unrecognized(`groupadd: ${gidText} is not a group id`);
  const group: GroupEffect = { kind: 'group', name, ...(gid !== undefined ? { gid } : { range: system ? ranges.sysGroup : ranges.userGroup }), origin: 'script' };
  const listed = (lastValue(parsed, 'U') ?? '').split(',').filter((u) => u !== '');
  const password = lastValue(parsed, 'p');
  const notes = password !== undefined && !isLockedPassword(password) ? ['groupadd: the password -p sets is not kept'] : [];
  return { effects: [group, ...listed.map((user): MemberEffect => ({ kind: 'member', user, group: name, origin: 'script' }))], ...joinNotes(notes) };
}

// ---------------------------------------------------------------------------------------------
// gpasswd

const GPASSWD_OPTIONS: readonly OptionSpec[] = [
  { key: 'a', short: 'a', long: 'add', value: true },
  { key: 'A', short: 'A', long: 'administrators', value: true },
  { key: 'd', short: 'd', long: 'delete', value: true },
  { key: 'g', short: 'g', value: false },
  { key: 'h', short: 'h', long: 'help', value: false },
  { key: 'M', short: 'M', long: 'members', value: true },
  { key: 'Q', short: 'Q', long: 'root', value: true },
  { key: 'r', short: 'r', long: 'remove-password', value: false },
  { key: 'R', short: 'R', long: 'restrict', value: false },
];

/** `gpasswd -a USER GROUP`: a membership. Removing members, setting passwords or admins is not modeled. */
export function parseGpasswd(args: string[]): AccountCommandResult {
  const dynamic = unexpandedWord('gpasswd', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('gpasswd', args, GPASSWD_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  if (hasOption(parsed, 'h')) return { effects: [] };
  const other = parsed.options.find((o) => o.key !== 'a');
  if (other) return unrecognized(`gpasswd: -${other.key} is not modeled`);
  const user = lastValue(parsed, 'a');
  const [group, ...extra] = parsed.operands;
  if (user === undefined) return unrecognized('gpasswd: without -a it changes the group password');
  if (group === undefined || extra.length > 0 || parsed.options.length > 1) return unrecognized('gpasswd: expects -a USER and one group');
  return { effects: [{ kind: 'member', user, group, origin: 'script' }] };
}

// ---------------------------------------------------------------------------------------------
// usermod

/** Changes usermod makes to an account an earlier command created, for the caller to merge. */
export interface UserUpdate {
  user: string;
  home?: string;
  shell?: string;
  gecos?: string;
  group?: number | string;
}

export type UsermodResult = { effects: MemberEffect[]; update?: UserUpdate; note?: string } | { unrecognized: string };

const USERMOD_OPTIONS: readonly OptionSpec[] = [
  { key: 'a', short: 'a', long: 'append', value: false },
  { key: 'b', short: 'b', long: 'badnames', value: false },
  { key: 'c', short: 'c', long: 'comment', value: true },
  { key: 'd', short: 'd', long: 'home', value: true },
  { key: 'e', short: 'e', long: 'expiredate', value: true },
  { key: 'f', short: 'f', long: 'inactive', value: true },
  { key: 'g', short: 'g', long: 'gid', value: true },
  { key: 'G', short: 'G', long: 'groups', value: true },
  { key: 'h', short: 'h', long: 'help', value: false },
  { key: 'l', short: 'l', long: 'login', value: true },
  { key: 'L', short: 'L', long: 'lock', value: false },
  { key: 'm', short: 'm', long: 'move-home', value: false },
  { key: 'o', short: 'o', long: 'non-unique', value: false },
  { key: 'p', short: 'p', long: 'password', value: true },
  { key: 'r', short: 'r', long: 'remove', value: false },
  { key: 'R', short: 'R', long: 'root', value: true },
  { key: 'P', short: 'P', long: 'prefix', value: true },
  { key: 's', short: 's', long: 'shell', value: true },
  { key: 'u', short: 'u', long: 'uid', value: true },
  { key: 'U', short: 'U', long: 'unlock', value: false },
  { key: 'v', short: 'v', long: 'add-subuids', value: true },
  { key: 'V', short: 'V', long: 'del-subuids', value: true },
  { key: 'w', short: 'w', long: 'add-subgids', value: true },
  { key: 'W', short: 'W', long: 'del-subgids', value: true },
  { key: 'Z', short: 'Z', long: 'selinux-user', value: true },
];

/** usermod options that touch what the model has no words for. */
const USERMOD_REFUSED: Record<string, string> = {
  e: 'an expiry date',
  f: 'an inactivity period',
  l: 'the login name',
  m: 'the home directory’s place (it moves files)',
  o: 'a non-unique uid',
  r: 'removals from groups',
  R: 'another tree',
  P: 'another tree',
  u: 'the uid (it chowns files)',
  U: 'the password lock',
  v: 'subordinate ids',
  V: 'subordinate ids',
  w: 'subordinate ids',
  W: 'subordinate ids',
  Z: 'the SELinux user',
};

/**
 * usermod's argument words: -a -G as memberships, -G alone as memberships too (it would also drop
 * the user from groups it leaves out: said in `note`), and -d/-s/-c/-g as an `update` of the
 * account, which the caller applies to the user effect an earlier command made (applyUserUpdate).
 * -L changes nothing here: created accounts are locked already.
 */
export function parseUsermod(args: string[]): UsermodResult {
  const dynamic = unexpandedWord('usermod', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('usermod', args, USERMOD_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  if (hasOption(parsed, 'h')) return { effects: [] };
  const refused = parsed.options.find((o) => USERMOD_REFUSED[o.key] !== undefined);
  if (refused) return unrecognized(`usermod: -${refused.key} changes ${USERMOD_REFUSED[refused.key]}, which is not modeled`);
  const [user, ...extra] = parsed.operands;
  if (user === undefined || extra.length > 0) return unrecognized('usermod: expects exactly one user name');
  const groups = lastValue(parsed, 'G');
  if (hasOption(parsed, 'a') && groups === undefined) return unrecognized('usermod: -a is only allowed with -G');
  const update = usermodUpdate(user, parsed);
  if (typeof update === 'string') return unrecognized(update);
  const notes: string[] = [];
  if (groups !== undefined && !hasOption(parsed, 'a')) notes.push('usermod: -G without -a also drops the user from groups it does not list; only the additions are kept');
  const password = lastValue(parsed, 'p');
  if (password !== undefined && !isLockedPassword(password)) notes.push('usermod: the password -p sets is not kept (created accounts are locked)');
  return { effects: members(user, groups ?? ''), ...(update ? { update } : {}), ...joinNotes(notes) };
}

function usermodUpdate(user: string, p: ParsedOptions): UserUpdate | string | undefined {
  const home = lastValue(p, 'd');
  const shell = lastValue(p, 's');
  const gecos = lastValue(p, 'c');
  const group = lastValue(p, 'g');
  if (home !== undefined && (!validField(home) || !home.startsWith('/'))) return `usermod: ${home} is not a valid home directory`;
  if (shell !== undefined && !validField(shell)) return `usermod: ${shell} is not a valid shell`;
  if (gecos !== undefined && !validField(gecos)) return 'usermod: the comment has a colon or a newline';
  if (home === undefined && shell === undefined && gecos === undefined && group === undefined) return undefined;
  return {
    user,
    ...(home !== undefined ? { home } : {}),
    ...(shell !== undefined ? { shell } : {}),
    ...(gecos !== undefined ? { gecos } : {}),
    ...(group !== undefined ? { group: groupRef(group) } : {}),
  };
}

/**
 * Merges a usermod update into the last user effect of that name in `effects` (one a script of
 * the same package made). Returns false when there is none: the account came from elsewhere
 * (a base account, another package), and the change is the caller's to report.
 */
export function applyUserUpdate(effects: Effect[], update: UserUpdate): boolean {
  for (let i = effects.length - 1; i >= 0; i--) {
    const target = effects[i]!;
    if (target.kind !== 'user' || target.name !== update.user) continue;
    const { user: _user, ...changes } = update;
    effects[i] = { ...target, ...changes };
    return true;
  }
  return false;
}
