/**
 * BusyBox's adduser and addgroup applets as Alpine builds them (loginutils/adduser.c and
 * addgroup.c, the same from 1.35 to 2024's master, with Alpine's patch making
 * /sbin/nologin the default shell of system users), read from a .pre-install script's argument
 * words and turned into account effects for a fresh install.
 *
 * Alpine's busyboxconfig: FIRST_SYSTEM_ID 100, LAST_SYSTEM_ID 999, LAST_ID 256000,
 * FEATURE_CHECK_NAMES y, FEATURE_SHADOWPASSWDS y. Both applets read options with getopt_long
 * (musl: bundles, attached values, unique prefixes of long names, operands anywhere).
 *
 * Not like Debian's adduser: -g is the gecos and -G the group; ids are the first free one counting
 * up from the range's start; a system user's group is "nogroup" and it is also listed as a member
 * of its primary group (adduser runs `addgroup USER GROUP` for -G or nogroup); the home is made
 * unless -H, mode 02755, even for a system user, and an existing one gets that mode and owner too.
 * The shadow entry is "!" (locked), as the effect model makes created accounts anyway.
 */
import type { GroupEffect, IdRange, UserEffect } from '../../src/translate/effects.js';
import {
  getoptLong,
  hasOption,
  joinNotes,
  lastValue,
  unexpandedWord,
  unrecognized,
  type AccountCommandEffect,
  type AccountCommandResult,
  type OptionSpec,
} from '../shadowCommands.js';

export interface BusyboxAccountDefaults {
  /** FIRST_SYSTEM_ID..LAST_SYSTEM_ID, counted up. */
  systemRange: IdRange;
  /** LAST_SYSTEM_ID+1..LAST_ID, counted up. */
  userRange: IdRange;
  /** A system user's shell without -s (Alpine's patch; upstream: /bin/false). */
  systemShell: string;
  /**
   * A regular user's shell without -s: $SHELL, else root's shell. apk runs scripts with PATH only,
   * so root's: /bin/ash in alpine-baselayout's passwd.
   */
  userShell: string;
}

export const ALPINE_BUSYBOX_DEFAULTS: BusyboxAccountDefaults = {
  systemRange: { min: 100, max: 999, order: 'ascending' },
  userRange: { min: 1000, max: 256000, order: 'ascending' },
  systemShell: '/sbin/nologin',
  userShell: '/bin/ash',
};

const GECOS = 'Linux User,,,';
const HOME_MODE = 0o2755;

const ADDUSER_OPTIONS: readonly OptionSpec[] = [
  { key: 'h', short: 'h', long: 'home', value: true },
  { key: 'g', short: 'g', long: 'gecos', value: true },
  { key: 's', short: 's', long: 'shell', value: true },
  { key: 'G', short: 'G', long: 'ingroup', value: true },
  { key: 'D', short: 'D', long: 'disabled-password', value: false },
  { key: 'D', long: 'empty-password', value: false },
  { key: 'S', short: 'S', long: 'system', value: false },
  { key: 'H', short: 'H', long: 'no-create-home', value: false },
  { key: 'u', short: 'u', long: 'uid', value: true },
  { key: 'k', short: 'k', long: 'skel', value: true },
];

const ADDGROUP_OPTIONS: readonly OptionSpec[] = [
  { key: 'g', short: 'g', long: 'gid', value: true },
  { key: 'S', short: 'S', long: 'system', value: false },
];

/**
 * die_if_bad_username (FEATURE_CHECK_NAMES): letters, digits and '_', and after the first
 * character also '-' and '.', and '$' as the last one; fewer than 256 bytes.
 */
function goodName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(name) && Buffer.byteLength(name) < 256;
}

/** An id as xatou_range reads it: decimal, within 0..LAST_ID. */
function idWithin(value: string, last: number): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n <= last ? n : undefined;
}

/**
 * `adduser [OPTIONS] USER [GROUP]`. With no option and two names: USER joins GROUP. Otherwise a
 * new user (a second name is then ignored, as adduser does): with -G or -S its primary group is
 * that group (nogroup for -S) and it becomes a member of it; a regular user without -G gets a
 * group of its own name with the uid's number (adduser picks an id free as both).
 */
export function parseBusyboxAdduser(args: string[], defaults: BusyboxAccountDefaults = ALPINE_BUSYBOX_DEFAULTS): AccountCommandResult {
  const dynamic = unexpandedWord('adduser', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('adduser', args, ADDUSER_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  const [name, group] = parsed.operands;
  if (name === undefined || parsed.operands.length > 2) return unrecognized('adduser: expects a user name and at most a group');
  if (parsed.options.length === 0 && group !== undefined) return { effects: [{ kind: 'member', user: name, group, origin: 'script' }] };
  if (!goodName(name)) return unrecognized(`adduser: ${name} is not a valid user name`);
  const system = hasOption(parsed, 'S');
  const uidText = lastValue(parsed, 'u');
  const uid = uidText === undefined ? undefined : idWithin(uidText, defaults.userRange.max);
  if (uidText !== undefined && uid === undefined) return unrecognized(`adduser: ${uidText} is not a user id`);
  // xgroup2gid looks the group up by name only, so -G is always a name.
  const usegroup = lastValue(parsed, 'G') ?? (system ? 'nogroup' : undefined);
  const home = lastValue(parsed, 'h') ?? `/home/${name}`;
  const user: UserEffect = {
    kind: 'user',
    name,
    ...(uid !== undefined ? { uid } : { range: system ? defaults.systemRange : defaults.userRange }),
    ...(usegroup !== undefined ? { group: usegroup } : {}),
    gecos: lastValue(parsed, 'g') ?? GECOS,
    home,
    shell: lastValue(parsed, 's') ?? (system ? defaults.systemShell : defaults.userShell),
    origin: 'script',
  };
  const effects: AccountCommandEffect[] = [user];
  if (usegroup !== undefined) effects.push({ kind: 'member', user: name, group: usegroup, origin: 'script' });
  const notes: string[] = [];
  if (home === '/dev/null' && !hasOption(parsed, 'H')) {
    notes.push('adduser: it would chown and chmod /dev/null, its home, which is no directory to make');
  } else if (!hasOption(parsed, 'H')) {
    // mkdir without parents: a home whose parent is missing is not made (adduser only warns).
    effects.push({ kind: 'directory', path: home, mode: HOME_MODE, user: name, group: usegroup ?? name });
    // Alpine has no /etc/skel; a -k directory's files are copied into a new home.
    const skel = lastValue(parsed, 'k');
    if (skel !== undefined) notes.push(`adduser: files of ${skel} are not copied into ${home}`);
  }
  // -S implies -D; without it adduser runs passwd, which gets no answer in a package script.
  if (!system && !hasOption(parsed, 'D')) notes.push('adduser: passwd asks for a password; the account stays locked');
  return { effects, ...joinNotes(notes) };
}

/**
 * `addgroup [-g GID] [-S] GROUP` (a group: -g, else the first free gid counting up from 100 with
 * -S, from 1000 without) or `addgroup USER GROUP` (a membership; -g is then refused).
 */
export function parseBusyboxAddgroup(args: string[], defaults: BusyboxAccountDefaults = ALPINE_BUSYBOX_DEFAULTS): AccountCommandResult {
  const dynamic = unexpandedWord('addgroup', args);
  if (dynamic) return unrecognized(dynamic);
  const parsed = getoptLong('addgroup', args, ADDGROUP_OPTIONS);
  if ('unrecognized' in parsed) return parsed;
  const [first, second] = parsed.operands;
  if (first === undefined || parsed.operands.length > 2) return unrecognized('addgroup: expects a group, or a user and a group');
  const gidText = lastValue(parsed, 'g');
  if (second !== undefined) {
    if (gidText !== undefined) return unrecognized('addgroup: -g with a user and a group is a usage error');
    return { effects: [{ kind: 'member', user: first, group: second, origin: 'script' }] };
  }
  if (!goodName(first)) return unrecognized(`addgroup: ${first} is not a valid group name`);
  const gid = gidText === undefined ? undefined : idWithin(gidText, defaults.userRange.max);
  if (gidText !== undefined && gid === undefined) return unrecognized(`addgroup: ${gidText} is not a group id`);
  const range = hasOption(parsed, 'S') ? defaults.systemRange : defaults.userRange;
  const group: GroupEffect = { kind: 'group', name: first, ...(gid !== undefined ? { gid } : { range }), origin: 'script' };
  return { effects: [group] };
}
