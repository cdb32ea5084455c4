import type { FinalEntry } from '../../adapters/types.js';
import { applySysusers, type AccountFiles } from './applySysusers.js';
import type { AccountEffect, AccountFilesEffect, GroupEffect, IdRange, MemberEffect, SysusersEffect, UserEffect } from './effects.js';
import { declarationFile } from './declarationFile.js';
import type { Tagged } from './filesystem.js';
import { parseSysusersLine, renderSysusers, type SysusersItem } from './sysusersConf.js';
import { usableLines } from './usableLines.js';

export type { AccountFiles };

export interface AppliedAccounts {
  files: AccountFiles;
  /** Whether there is anything to write: base accounts, or files that differ from what packages ship. */
  changed: boolean;
  /** Whether packages ship the account files (then only the files they ship are written). */
  shipped: boolean;
  /** sysusers.d items layerpkg declares for each source (package, or image.toml) that created accounts. */
  sysusers: Map<string, SysusersItem[]>;
  problems: Tagged<string>[];
}

/**
 * Accounts as the package set leaves them. Base accounts (the distribution's seed files) come
 * first, as they are; then, in install order, each package's created accounts and the sysusers.d
 * files its scripts apply. Created accounts get their ids here, the way the creating tool picks
 * them (adduser: the first free id up from 100), are declared with those fixed ids in a sysusers.d
 * file, and that file is applied as systemd-sysusers would — so the image's passwd is exactly
 * what its sysusers.d files produce, at build time and on any later boot.
 */
export function applyAccounts(steps: Tagged<AccountEffect | SysusersEffect>[], sourceDateEpoch: number): AppliedAccounts {
  const base = steps.map((s) => s.effect).filter((e): e is UserEffect | GroupEffect => (e.kind === 'user' || e.kind === 'group') && e.origin === 'base');
  // Shipped files (Alpine, Arch) are the start as they are; base accounts (Debian's base-passwd) are written out.
  const shipped = steps.map((s) => s.effect).find((e): e is AccountFilesEffect => e.kind === 'account-files');
  const start: AccountFiles = shipped
    ? { passwd: shipped.passwd ?? '', group: shipped.group ?? '', shadow: shipped.shadow ?? '', gshadow: shipped.gshadow ?? '' }
    : baseAccountFiles(base, sourceDateEpoch);
  let files = start;
  const sysusers = new Map<string, SysusersItem[]>();
  const problems: Tagged<string>[] = [];
  const opts = { sourceDateEpoch };
  let pending: { source: string; effects: (UserEffect | GroupEffect | MemberEffect)[] } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const { source, effects } = pending;
    pending = undefined;
    // Without any account files, useradd and adduser fail (nothing to add to); a script's
    // accounts are then reported, while image.toml's still make the files, as sysusers would.
    const possible = effects.filter((e) => e.origin !== 'script' || files.passwd !== '' || files.group !== '');
    for (const e of effects.filter((x) => !possible.includes(x))) {
      problems.push({ source, effect: `${e.kind === 'member' ? `member ${e.user} of ${e.group}` : `${e.kind} ${e.name}`}: the image has no /etc/passwd or /etc/group (no package ships them), so the script's command would fail; not created` });
    }
    const items = declareAccounts(possible, parseAccounts(files), (p) => problems.push({ source, effect: p }));
    if (!items.length) return;
    sysusers.set(source, [...(sysusers.get(source) ?? []), ...items]);
    files = applySysusers(files, [{ file: declarationFile('sysusers', source), text: renderSysusers(items) }], opts).files;
  };
  for (const { source, effect } of steps) {
    if (effect.kind === 'sysusers') {
      flush();
      const usable = usableLines(effect.text, effect.file, parseSysusersLine);
      // An account only the booted machine could name is missing from the image: reported too.
      [...usable.skipped, ...usable.atBoot.map((p) => `${p}; line not applied`)].forEach((p) => problems.push({ source, effect: p }));
      files = applySysusers(files, [{ file: effect.file, text: usable.text }], opts).files;
    } else if (effect.kind === 'account-files' || (effect.kind !== 'member' && effect.origin === 'base')) {
      continue;
    } else {
      if (pending && pending.source !== source) flush();
      pending ??= { source, effects: [] };
      pending.effects.push(effect);
    }
  }
  flush();
  // Base accounts are layerpkg's to write; shipped files only when something was added to them.
  const changed = (!shipped && base.length > 0) || (['passwd', 'group', 'shadow', 'gshadow'] as const).some((f) => files[f] !== start[f]);
  return { files, changed, shipped: shipped !== undefined, sysusers, problems };
}

/**
 * /etc/passwd, group, shadow and gshadow as pwconv/grpconv leave them after the base accounts
 * are created: passwords move to the shadow files. The first definition of a name wins, as
 * with useradd on an existing account.
 */
function baseAccountFiles(accounts: (UserEffect | GroupEffect)[], sourceDateEpoch: number): AccountFiles {
  const days = Math.floor(sourceDateEpoch / 86400);
  const users = firstByName(accounts.filter((a): a is UserEffect => a.kind === 'user'));
  const groups = firstByName(accounts.filter((a): a is GroupEffect => a.kind === 'group'));
  const lines = (xs: string[]) => xs.map((l) => `${l}\n`).join('');
  return {
    passwd: lines(users.map((u) => [u.name, 'x', u.uid ?? 0, u.group ?? 0, u.gecos, u.home, u.shell].join(':'))),
    shadow: lines(users.map((u) => `${u.name}:${u.password ?? '*'}:${days}:0:99999:7:::`)),
    group: lines(groups.map((g) => [g.name, 'x', g.gid ?? 0, (g.members ?? []).join(',')].join(':'))),
    gshadow: lines(groups.map((g) => `${g.name}:${g.password ?? '*'}::${(g.members ?? []).join(',')}`)),
  };
}

function firstByName<T extends { name: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.name) && seen.add(x.name));
}

/** Names and ids in use, from the account files as they stand. */
interface AccountIndex {
  uids: Set<number>;
  users: Map<string, { uid: number; gid: number }>;
  gids: Set<number>;
  groups: Map<string, { gid: number; members: string[] }>;
}

export function parseAccounts(files: AccountFiles): AccountIndex {
  const index: AccountIndex = { uids: new Set(), users: new Map(), gids: new Set(), groups: new Map() };
  for (const f of records(files.passwd)) {
    const uid = Number(f[2]);
    index.uids.add(uid);
    if (!index.users.has(f[0]!)) index.users.set(f[0]!, { uid, gid: Number(f[3]) });
  }
  for (const f of records(files.group)) {
    const gid = Number(f[2]);
    index.gids.add(gid);
    if (!index.groups.has(f[0]!)) index.groups.set(f[0]!, { gid, members: f[3] ? f[3].split(',') : [] });
  }
  return index;
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('+') && !l.startsWith('-'))
    .map((l) => l.split(':'));
}

/**
 * sysusers.d lines for one source's created accounts, with every id fixed. Ids are taken in
 * effect order from what is already in use, as the scripts would have found it. A name that
 * exists is left alone (adduser --system and sysusers both accept an existing account).
 */
function declareAccounts(effects: (UserEffect | GroupEffect | MemberEffect)[], index: AccountIndex, problem: (p: string) => void): SysusersItem[] {
  const lines: SysusersItem[] = [];
  for (const e of effects) {
    if (e.kind === 'group') {
      if (index.groups.has(e.name)) continue;
      const gid = pickId(e.gid, e.range, index.gids);
      if (gid === undefined) {
        problem(`group ${e.name}: ${e.gid !== undefined ? `gid ${e.gid} is taken` : 'no free gid in its range'}; not created`);
        continue;
      }
      index.gids.add(gid);
      index.groups.set(e.name, { gid, members: [] });
      lines.push({ type: 'g', name: e.name, gid });
    } else if (e.kind === 'user') {
      if (index.users.has(e.name)) continue;
      const uid = pickId(e.uid, e.range, index.uids);
      if (uid === undefined) {
        problem(`user ${e.name}: ${e.uid !== undefined ? `uid ${e.uid} is taken` : 'no free uid in its range'}; not created`);
        continue;
      }
      const gid = primaryGid(e, uid, index);
      if (gid === undefined) {
        problem(`user ${e.name}: its group "${String(e.group)}" does not exist; not created`);
        continue;
      }
      index.uids.add(uid);
      index.users.set(e.name, { uid, gid });
      if (!index.gids.has(gid)) {
        // sysusers makes the user's own group, with the user's id.
        index.gids.add(gid);
        index.groups.set(e.name, { gid, members: [] });
      }
      lines.push({ type: 'u', name: e.name, uid, gid, ...nonEmpty({ gecos: e.gecos, home: e.home, shell: e.shell }) });
    } else {
      const group = index.groups.get(e.group);
      if (!index.users.has(e.user) || group === undefined) {
        problem(`member ${e.user} of ${e.group}: ${group === undefined ? `no group ${e.group}` : `no user ${e.user}`}; not added`);
        continue;
      }
      if (group.members.includes(e.user)) continue;
      group.members.push(e.user);
      lines.push({ type: 'm', user: e.user, group: e.group });
    }
  }
  return lines;
}

/** A user's primary gid: a number as given, a group by name, or a new group of its own name with the uid's number when free. */
function primaryGid(e: UserEffect, uid: number, index: AccountIndex): number | undefined {
  if (typeof e.group === 'number') return e.group;
  const name = e.group ?? e.name;
  const existing = index.groups.get(name)?.gid;
  if (existing !== undefined) return existing;
  if (e.group !== undefined && e.group !== e.name) return undefined;
  return index.gids.has(uid) ? pickId(undefined, e.range ?? { min: 100, max: 999, order: 'ascending' }, index.gids) : uid;
}

function pickId(fixed: number | undefined, range: IdRange | undefined, used: Set<number>): number | undefined {
  if (fixed !== undefined) return used.has(fixed) ? undefined : fixed;
  if (range === undefined) return undefined;
  const step = range.order === 'ascending' ? 1 : -1;
  for (let id = range.order === 'ascending' ? range.min : range.max; id >= range.min && id <= range.max; id += step) if (!used.has(id)) return id;
  return undefined;
}

/** sysusers.d reads an empty field as absent: leave those out. */
function nonEmpty(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '' && v !== '-'));
}

/** The account files as final-layer entries; the shadow files readable by group shadow, as Debian's shadowconfig leaves them. */
export function accountEntries(files: AccountFiles, shippedOnly: boolean): FinalEntry[] {
  const shadowGid = parseAccounts(files).groups.get('shadow')?.gid ?? 0;
  const all: FinalEntry[] = [
    { path: 'etc/passwd', type: 'file', mode: 0o644, content: Buffer.from(files.passwd) },
    { path: 'etc/group', type: 'file', mode: 0o644, content: Buffer.from(files.group) },
    { path: 'etc/shadow', type: 'file', mode: 0o640, gid: shadowGid, content: Buffer.from(files.shadow) },
    { path: 'etc/gshadow', type: 'file', mode: 0o640, gid: shadowGid, content: Buffer.from(files.gshadow) },
  ];
  // Where packages ship the files, one they do not ship (Alpine has no gshadow) stays absent.
  return shippedOnly ? all.filter((e) => e.type === 'file' && e.content.length > 0) : all;
}
