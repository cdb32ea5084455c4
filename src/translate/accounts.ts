import type { FinalEntry } from '../../adapters/types.js';
import type { GroupEffect, UserEffect } from './effects.js';

/**
 * /etc/passwd, group, shadow and gshadow as pwconv/grpconv leave them after the base accounts
 * are created: passwords move to the shadow files, which the shadow group may read.
 */
export function accountFiles(users: UserEffect[], groups: GroupEffect[], sourceDateEpoch: number): FinalEntry[] {
  const days = Math.floor(sourceDateEpoch / 86400);
  const uniqueUsers = firstByName(users);
  const uniqueGroups = firstByName(groups);
  const shadowGid = uniqueGroups.find((g) => g.name === 'shadow')?.gid ?? 0;
  const lines = (xs: string[]) => Buffer.from(xs.map((l) => `${l}\n`).join(''));
  return [
    { path: 'etc/passwd', type: 'file', mode: 0o644, content: lines(uniqueUsers.map((u) => [u.name, 'x', u.uid, u.gid, u.gecos, u.home, u.shell].join(':'))) },
    { path: 'etc/shadow', type: 'file', mode: 0o640, gid: shadowGid, content: lines(uniqueUsers.map((u) => `${u.name}:${u.password}:${days}:0:99999:7:::`)) },
    { path: 'etc/group', type: 'file', mode: 0o644, content: lines(uniqueGroups.map((g) => [g.name, 'x', g.gid, g.members.join(',')].join(':'))) },
    { path: 'etc/gshadow', type: 'file', mode: 0o640, gid: shadowGid, content: lines(uniqueGroups.map((g) => `${g.name}:${g.password}::${g.members.join(',')}`)) },
  ];
}

/** The first definition of a name wins, as with useradd on an existing account. */
function firstByName<T extends { name: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.name) && seen.add(x.name));
}
