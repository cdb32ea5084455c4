import type { ImageConfig } from '../config/imageConfig.js';
import type { Effect, IdRange } from './effects.js';

/** Regular accounts from 1000 up, system ones from 100 up: the ranges of Debian's adduser.conf and most distributions' login.defs. */
const USER_RANGE: IdRange = { min: 1000, max: 59999, order: 'ascending' };
const SYSTEM_RANGE: IdRange = { min: 100, max: 999, order: 'ascending' };

/**
 * [[groups]], [[users]] and [[paths]] of image.toml as effects, so they are declared and applied
 * by the same engine as what maintainer scripts do. They come after every package's effects: a
 * path the user declares wins over one a script made, and an account a package already created
 * is kept (as useradd on an existing name would refuse), which the report shows.
 */
export function configEffects(config: Pick<ImageConfig, 'users' | 'groups' | 'paths'>): Effect[] {
  const out: Effect[] = [];
  for (const g of config.groups) {
    out.push({ kind: 'group', name: g.name, ...(g.gid !== undefined ? { gid: g.gid } : { range: g.system ? SYSTEM_RANGE : USER_RANGE }), origin: 'image.toml' });
  }
  for (const u of config.users) {
    const range = u.system ? SYSTEM_RANGE : USER_RANGE;
    const home = u.home ?? (u.system ? '/' : `/home/${u.name}`);
    if (u.group === undefined) out.push({ kind: 'group', name: u.name, ...(u.uid !== undefined ? { gid: u.uid } : { range }), origin: 'image.toml' });
    out.push({
      kind: 'user',
      name: u.name,
      ...(u.uid !== undefined ? { uid: u.uid } : { range }),
      group: u.group ?? u.name,
      gecos: u.gecos,
      home,
      shell: u.shell ?? (u.system ? '/usr/sbin/nologin' : '/bin/sh'),
      origin: 'image.toml',
    });
    for (const g of u.groups) out.push({ kind: 'member', user: u.name, group: g, origin: 'image.toml' });
    // A regular user's home exists and is private, as `useradd -m` with HOME_MODE 0700 leaves it.
    if (!u.system && u.home === undefined) out.push({ kind: 'directory', path: home, mode: 0o700, user: u.name, group: String(u.group ?? u.name) });
  }
  // Members once every user exists.
  for (const g of config.groups) for (const m of g.members) out.push({ kind: 'member', user: m, group: g.name, origin: 'image.toml' });
  for (const p of config.paths) {
    const user = String(p.user);
    const group = String(p.group);
    if (p.type === 'directory') out.push({ kind: 'directory', path: p.path, mode: p.mode ?? 0o755, user, group });
    else if (p.type === 'symlink') out.push({ kind: 'symlink', path: p.path, target: p.target!, ifMissing: false });
    else out.push({ kind: 'file', path: p.path, mode: p.mode ?? 0o644, user, group, content: Buffer.from(p.content ?? '').toString('base64'), ifMissing: false });
  }
  return out;
}
