/**
 * Debian's adduser and addgroup (adduser 3.134, bookworm), read from a maintainer script's
 * argument words and turned into account effects, as the Perl program would act on a fresh
 * install with the /etc/adduser.conf bookworm ships (every setting commented out, so the
 * program's built-in defaults apply: Debian::AdduserCommon::preseed_config).
 *
 * What adduser leaves in /etc/shadow is "!" (useradd without -p, and no passwd run for system
 * accounts); the effect model makes every created account locked ("!*", as systemd-sysusers
 * does), so no password is set here.
 */
import type { GroupEffect, IdRange, UserEffect } from '../../src/translate/effects.js';
import {
  joinNotes,
  unexpandedWord,
  unrecognized,
  type AccountCommandContext,
  type AccountCommandEffect,
  type AccountCommandResult,
} from '../shadowCommands.js';

/** adduser 3.134's defaults (preseed_config), which bookworm's adduser.conf leaves in place. */
export const ADDUSER_DEFAULTS = {
  dshell: '/bin/bash',
  dhome: '/home',
  firstSystemUid: 100,
  lastSystemUid: 999,
  firstSystemGid: 100,
  lastSystemGid: 999,
  firstUid: 1000,
  lastUid: 59999,
  firstGid: 1000,
  lastGid: 59999,
  /** USERS_GROUP is unset, so regular users join "users" as a supplementary group. */
  usersGroup: 'users',
  dirMode: 0o700,
  sysDirMode: 0o755,
  skel: '/etc/skel',
  /** A system user's defaults, hard-coded in adduser. */
  systemHome: '/nonexistent',
  systemShell: '/usr/sbin/nologin',
  systemGroup: 'nogroup',
} as const;

const NAME_REGEX = /^[a-z][a-z0-9_-]*\$?$/;
const SYS_NAME_REGEX = /^[a-z_][a-z0-9_-]*\$?$/;
const IEEE_NAME = /^[_.A-Za-z0-9][-@_.A-Za-z0-9]*\$?$/;
const MIN_NAME = /^[^-+~:,\s/][^:,\s/]*$/;
const NONEXISTENT = /^\/+nonexistent(\/|$)/;

// ---------------------------------------------------------------------------------------------
// Getopt::Long, as adduser configures it (the module's defaults): options start with --, - or +,
// take `=value` or the next word, may be shortened to a unique prefix, ignore case, and mix with
// operands; no bundling. A mandatory string takes the next word whatever it is.

type OptionType = 'flag' | 'string' | 'int';

/** One Getopt::Long spec ("conf|c=s"): its names, type, and the setting it stores to. */
interface PerlOption {
  key: string;
  names: readonly string[];
  type: OptionType;
}

/** adduser's GetOptions table; specs storing to one setting stay apart, as abbreviations see them. */
const OPTIONS: readonly PerlOption[] = [
  { key: 'add-extra-groups', names: ['add-extra-groups'], type: 'flag' },
  { key: 'add-extra-groups', names: ['add_extra_groups'], type: 'flag' },
  { key: 'allow-all-names', names: ['allow-all-names'], type: 'flag' },
  { key: 'allow-bad-names', names: ['allow-badname'], type: 'flag' },
  { key: 'allow-bad-names', names: ['allow-bad-names'], type: 'flag' },
  { key: 'comment', names: ['comment'], type: 'string' },
  { key: 'conf', names: ['conf', 'c'], type: 'string' },
  { key: 'debug', names: ['debug'], type: 'flag' },
  { key: 'disabled-login', names: ['disabled-login'], type: 'flag' },
  { key: 'disabled-password', names: ['disabled-password'], type: 'flag' },
  { key: 'firstgid', names: ['firstgid'], type: 'int' },
  { key: 'firstuid', names: ['firstuid'], type: 'int' },
  { key: 'allow-bad-names', names: ['force-badname'], type: 'flag' },
  { key: 'comment', names: ['gecos'], type: 'string' },
  { key: 'gid', names: ['gid'], type: 'int' },
  { key: 'group', names: ['group'], type: 'flag' },
  { key: 'help', names: ['help', 'h'], type: 'flag' },
  { key: 'home', names: ['home'], type: 'string' },
  { key: 'ingroup', names: ['ingroup'], type: 'string' },
  { key: 'lastgid', names: ['lastgid'], type: 'int' },
  { key: 'lastuid', names: ['lastuid'], type: 'int' },
  { key: 'no-create-home', names: ['no-create-home'], type: 'flag' },
  { key: 'quiet', names: ['quiet', 'q'], type: 'flag' },
  { key: 'shell', names: ['shell'], type: 'string' },
  { key: 'system', names: ['system'], type: 'flag' },
  { key: 'uid', names: ['uid'], type: 'int' },
  { key: 'verbose', names: ['verbose'], type: 'flag' },
  { key: 'version', names: ['version', 'v'], type: 'flag' },
];

/** Each option's last value (strings and numbers) or `true` for flags, and the operands. */
interface Parsed {
  values: Map<string, string | number | true>;
  names: string[];
}

/** The `adduser: …` sentence or the parsed words. */
function getOptions(tool: string, args: readonly string[]): Parsed | string {
  const out: Parsed = { values: new Map(), names: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.names.push(...args.slice(i + 1));
      break;
    }
    const m = /^(--|-|\+)(.+)$/s.exec(arg);
    if (!m) {
      out.names.push(arg);
      continue;
    }
    const used = readOption(tool, m[2]!, args[i + 1], out);
    if (typeof used === 'string') return used;
    i += used;
  }
  return out;
}

/** One option (without its prefix); returns how many following words it took, or an error. */
function readOption(tool: string, text: string, next: string | undefined, out: Parsed): number | string {
  const eq = text.indexOf('=', 1);
  const name = eq > 0 ? text.slice(0, eq) : text;
  const option = findOption(name.toLowerCase());
  if (option === 'ambiguous') return `${tool}: option --${name} is ambiguous`;
  if (option === undefined) return `${tool}: option --${name} is not understood`;
  if (option.type === 'flag') {
    if (eq > 0) return `${tool}: option --${option.names[0]} takes no value`;
    out.values.set(option.key, true);
    return 0;
  }
  const value = eq > 0 ? text.slice(eq + 1) : next;
  if (value === undefined || (eq > 0 && value === '')) return `${tool}: option --${option.names[0]} needs a value`;
  if (option.type === 'int') {
    if (!/^[-+]?_*[0-9][0-9_]*$/.test(value)) return `${tool}: option --${option.names[0]} needs a number, not ${value}`;
    out.values.set(option.key, Number(value.replace(/_/g, '')));
  } else {
    out.values.set(option.key, value);
  }
  return eq > 0 ? 0 : 1;
}

/** An exact name, else a unique prefix (the names of one spec count once). */
function findOption(name: string): PerlOption | 'ambiguous' | undefined {
  const exact = OPTIONS.find((o) => o.names.includes(name));
  if (exact) return exact;
  const hits = OPTIONS.filter((o) => o.names.some((n) => n.startsWith(name)));
  return hits.length > 1 ? 'ambiguous' : hits[0];
}

// ---------------------------------------------------------------------------------------------
// The command

type Action = 'adduser' | 'addgroup' | 'addsysuser' | 'addsysgroup' | 'addusertogroup';

interface Request {
  tool: 'adduser' | 'addgroup';
  action: Action;
  /** The new user or group, or the existing user for addusertogroup. */
  name: string;
  /** The existing group for addusertogroup. */
  group?: string;
  values: Map<string, string | number | true>;
}

/**
 * `adduser …` or `addgroup …` (the same program; `invokedAs` is the name it was called by) as
 * effects. Modes: a system user (--system: uid from 100 up, group nogroup unless --group,
 * --ingroup or --gid, home /nonexistent and shell /usr/sbin/nologin unless given), a system
 * group, a regular user or group (ids from 1000 up), and `adduser USER GROUP` (a membership).
 */
export function parseAdduser(args: string[], invokedAs: 'adduser' | 'addgroup' = 'adduser', context: AccountCommandContext = {}): AccountCommandResult {
  const dynamic = unexpandedWord(invokedAs, args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getOptions(invokedAs, args);
  if (typeof parsed === 'string') return unrecognized(parsed);
  const { values } = parsed;
  // --help and --version print and exit while the options are read.
  if (values.has('help') || values.has('version')) return { effects: [] };
  if (values.has('conf')) return unrecognized(`${invokedAs}: --conf reads another configuration file`);
  const request = requestOf(invokedAs, parsed);
  if (typeof request === 'string') return unrecognized(request);
  const badName = request.action === 'addusertogroup' ? undefined : checkName(request);
  if (badName) return unrecognized(badName);
  switch (request.action) {
    case 'addusertogroup':
      return { effects: [{ kind: 'member', user: request.name, group: request.group!, origin: 'script' }] };
    case 'addsysgroup':
    case 'addgroup':
      return { effects: [groupEffect(request)] };
    case 'addsysuser':
      return systemUser(request, context);
    case 'adduser':
      return regularUser(request, context);
  }
}

/** `addgroup …`: the same as parseAdduser(args, 'addgroup'). */
export function parseAddgroup(args: string[], context: AccountCommandContext = {}): AccountCommandResult {
  return parseAdduser(args, 'addgroup', context);
}

/** The mode adduser settles on, with its checks of the names and option combinations. */
function requestOf(tool: 'adduser' | 'addgroup', parsed: Parsed): Request | string {
  const { values, names } = parsed;
  const system = values.has('system');
  let action: Action = tool === 'addgroup' ? (system ? 'addsysgroup' : 'addgroup') : system ? 'addsysuser' : 'adduser';
  const [first, second] = names;
  if (first === undefined || first === '' || names.length > 2) return `${tool}: only one or two names are allowed`;
  if (second !== undefined) {
    if (action === 'addsysuser' || values.has('group')) return `${tool}: only one name is allowed in this mode`;
    if (action === 'addgroup' || action === 'addsysgroup') return 'addgroup: two names is an unspecified operation';
    return { tool, action: 'addusertogroup', name: first, group: second, values };
  }
  if (action !== 'addgroup' && ['group', 'ingroup', 'gid'].filter((k) => values.has(k)).length > 1) {
    return `${tool}: --group, --ingroup and --gid are mutually exclusive`;
  }
  const home = values.get('home');
  if (typeof home === 'string' && !home.startsWith('/')) return `${tool}: the home directory ${home} is not an absolute path`;
  if (values.has('group') && action !== 'addsysuser') action = system ? 'addsysgroup' : 'addgroup';
  return { tool, action, name: first, values };
}

/** adduser's checkname: some rules always apply, the name regex only without --allow-bad-names. */
function checkName(r: Request): string | undefined {
  const name = r.name;
  const refused = `${r.tool}: the name ${name} is refused`;
  if (/^\d+$/.test(name) || Buffer.byteLength(name) > 32 || !MIN_NAME.test(name)) return refused;
  if ((r.values.has('system') ? SYS_NAME_REGEX : NAME_REGEX).test(name)) return undefined;
  if (!IEEE_NAME.test(name) && !r.values.has('allow-all-names')) return refused;
  if (r.values.has('allow-bad-names') || r.values.has('allow-all-names')) return undefined;
  return `${refused} without --allow-bad-names`;
}

/** A number option as Perl's `||` reads it: 0 or absent gives the default. */
function numberOr(values: Request['values'], key: string, fallback: number): number {
  const v = values.get(key);
  return typeof v === 'number' && v !== 0 ? v : fallback;
}

function ascending(min: number, max: number): IdRange {
  return { min, max, order: 'ascending' };
}

/** addgroup [--system] NAME: --gid, else the first free gid of the (system) range. */
function groupEffect(r: Request): GroupEffect {
  const gid = r.values.get('gid');
  const d = ADDUSER_DEFAULTS;
  const range = r.action === 'addsysgroup'
    ? ascending(numberOr(r.values, 'firstgid', d.firstSystemGid), numberOr(r.values, 'lastgid', d.lastSystemGid))
    : ascending(numberOr(r.values, 'firstgid', d.firstGid), numberOr(r.values, 'lastgid', d.lastGid));
  return { kind: 'group', name: r.name, ...(typeof gid === 'number' ? { gid } : { range }), origin: 'script' };
}

/**
 * adduser --system: useradd -r with the uid adduser chose and `-g` its group, then chfn for a
 * --gecos, then the home directory (mode 0755, no skeleton) unless --no-create-home or a home
 * under /nonexistent. With --group the group is allocated on its own (groupadd -g, from 100 up),
 * or takes the uid's number when --uid is given.
 */
function systemUser(r: Request, context: AccountCommandContext): AccountCommandResult {
  const d = ADDUSER_DEFAULTS;
  const v = r.values;
  const uid = v.get('uid');
  const gid = v.get('gid');
  const ingroup = v.get('ingroup');
  const effects: AccountCommandEffect[] = [];
  let group: number | string = d.systemGroup;
  if (v.has('group')) {
    group = r.name;
    const range = ascending(numberOr(v, 'firstgid', d.firstSystemGid), numberOr(v, 'lastgid', d.lastSystemGid));
    effects.push({ kind: 'group', name: r.name, ...(typeof uid === 'number' ? { gid: uid } : { range }), origin: 'script' });
  } else if (typeof gid === 'number') {
    group = gid;
  } else if (typeof ingroup === 'string') {
    group = ingroup;
  }
  const fields = accountFields(r, str(v, 'home') ?? d.systemHome, str(v, 'shell') ?? d.systemShell, '');
  if (typeof fields === 'string') return unrecognized(fields);
  const range = ascending(numberOr(v, 'firstuid', d.firstSystemUid), numberOr(v, 'lastuid', d.lastSystemUid));
  effects.push(userEffect(r.name, typeof uid === 'number' ? uid : range, group, fields));
  const home = homeDirectory(r, fields.home, group, d.sysDirMode, context);
  return { effects: [...effects, ...home] };
}

/**
 * adduser NAME: a user group of its own name with the uid's number (adduser picks an id free as
 * both uid and gid; the model's own-group rule takes the uid's number when free) unless --ingroup
 * or --gid; membership of "users"; a home of mode 0700 with /etc/skel copied into it; the shell
 * /bin/bash (/usr/sbin/nologin with --disabled-login). Without --gecos adduser runs chfn, and
 * without --disabled-password passwd, both asking on the terminal: with no answers the gecos
 * becomes ",,," and the account stays locked, which is what the effects say (and `note`).
 */
function regularUser(r: Request, context: AccountCommandContext): AccountCommandResult {
  const d = ADDUSER_DEFAULTS;
  const v = r.values;
  const uid = v.get('uid');
  const gid = v.get('gid');
  const ingroup = v.get('ingroup');
  const group = typeof gid === 'number' ? gid : typeof ingroup === 'string' ? ingroup : undefined;
  const shell = str(v, 'shell') ?? (v.has('disabled-login') ? d.systemShell : d.dshell);
  const fields = accountFields(r, str(v, 'home') ?? `${d.dhome}/${r.name}`, shell, ',,,');
  if (typeof fields === 'string') return unrecognized(fields);
  const range = ascending(numberOr(v, 'firstuid', d.firstUid), numberOr(v, 'lastuid', d.lastUid));
  const effects: AccountCommandEffect[] = [
    userEffect(r.name, typeof uid === 'number' ? uid : range, group, fields),
    { kind: 'member', user: r.name, group: d.usersGroup, origin: 'script' },
  ];
  const home = homeDirectory(r, fields.home, group ?? r.name, d.dirMode, context);
  effects.push(...home);
  const notes: string[] = [];
  if (home.length > 0) notes.push(`adduser: files of ${d.skel} are not copied into ${fields.home}`);
  if (!v.has('comment')) notes.push('adduser: chfn asks for the full name on the terminal; with no answer the gecos is ",,,"');
  if (!v.has('disabled-password') && !v.has('disabled-login')) notes.push('adduser: passwd asks for a password on the terminal; the account stays locked');
  notes.push('adduser: the subordinate ids useradd adds to /etc/subuid and /etc/subgid are not reproduced');
  return { effects, ...joinNotes(notes) };
}

interface AccountFields {
  gecos: string;
  home: string;
  shell: string;
}

/** Gecos, home and shell as the account files get them, or why useradd or chfn would refuse them. */
function accountFields(r: Request, home: string, shell: string, noComment: string): AccountFields | string {
  if (/[:\n]/.test(home)) return `${r.tool}: useradd refuses the home directory ${home}`;
  if (/[:\n]/.test(shell) || (shell !== '' && !shell.startsWith('/') && !shell.startsWith('*'))) return `${r.tool}: useradd refuses the shell ${shell}`;
  const comment = str(r.values, 'comment');
  const gecos = comment === undefined ? noComment : chfnGecos(comment);
  if (gecos === undefined) return `${r.tool}: chfn refuses the gecos ${JSON.stringify(comment)}`;
  return { gecos, home, shell };
}

/**
 * The gecos chfn writes for adduser's --gecos on an account with an empty one. Without a comma
 * adduser runs `chfn -f COMMENT`; with commas it splits into name, room, work phone, home phone
 * and other (the first five fields; -w, -h and -o only for fields present). chfn always writes
 * "name,room,work,home" and ",other" when other is not empty. Undefined: chfn refuses.
 */
export function chfnGecos(comment: string): string | undefined {
  const [name = '', room = '', work = '', home = '', other = ''] = comment.includes(',') ? comment.split(',', 5) : [comment];
  const plain = /^[\x20-\x7e]*$/;
  if ([name, room].some((f) => /[:,=\n]/.test(f))) return undefined;
  if ([work, home].some((f) => /[:,=\n]/.test(f) || !plain.test(f))) return undefined;
  if (/[:\n]/.test(other)) return undefined;
  if (Buffer.byteLength(name + room + work + home + other) > 80) return undefined;
  return `${name},${room},${work},${home}${other === '' ? '' : `,${other}`}`;
}

function str(values: Request['values'], key: string): string | undefined {
  const v = values.get(key);
  return typeof v === 'string' ? v : undefined;
}

function userEffect(name: string, id: number | IdRange, group: number | string | undefined, fields: AccountFields): UserEffect {
  return {
    kind: 'user',
    name,
    ...(typeof id === 'number' ? { uid: id } : { range: id }),
    ...(group !== undefined ? { group } : {}),
    ...fields,
    origin: 'script',
  };
}

/**
 * The home adduser makes: not under /nonexistent, not with --no-create-home, and not when it
 * exists already (adduser then leaves it alone). Missing parents are made too, 0755 and owned by
 * root, which a directory effect for the home alone implies.
 */
function homeDirectory(r: Request, home: string, group: number | string, mode: number, context: AccountCommandContext): AccountCommandEffect[] {
  if (NONEXISTENT.test(home) || r.values.has('no-create-home') || context.homeExists?.(home)) return [];
  return [{ kind: 'directory', path: home, mode, user: r.name, group: String(group) }];
}
