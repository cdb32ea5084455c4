import type { FinalEntry } from '../../adapters/types.js';
import { UserError } from '../errors.js';
import type { FilesystemEffect, GroupEffect, UserEffect } from './effects.js';

export interface FilesystemContext {
  users: UserEffect[];
  groups: GroupEffect[];
  /** Canonical relative paths of every non-directory the packages install. */
  installed: ReadonlySet<string>;
  /** Where an absolute path a script names lands in the image (merged-/usr), relative. */
  canonical: (absPath: string) => string;
}

/**
 * Final-layer entries for directories, links and files that scripts would create. Effects apply
 * in order, as the scripts would have run: an `ifMissing` effect finds what packages install and
 * what earlier effects made; otherwise the later effect for a path wins.
 */
export function applyFilesystem(effects: FilesystemEffect[], ctx: FilesystemContext): { entries: FinalEntry[]; unresolved: string[] } {
  const unresolved: string[] = [];
  const uid = idsOf('user', ctx.users.map((u) => [u.name, u.uid]), unresolved);
  const gid = idsOf('group', ctx.groups.map((g) => [g.name, g.gid]), unresolved);
  const made = new Map<string, FinalEntry>();
  for (const e of effects) {
    const path = ctx.canonical(e.path);
    if (path === '' || path.split('/').includes('..')) throw new UserError(`a package script would create "${e.path}", outside the image or at its root`);
    const shipped = ctx.installed.has(path);
    if (e.kind !== 'directory' && e.ifMissing && (shipped || made.has(path))) continue;
    if (e.kind === 'directory') {
      // mkdir on an installed file fails, and so would the script.
      if (shipped) throw new UserError(`a package script creates the directory ${e.path}, but a package installs a file there`);
      made.set(path, { path, type: 'directory', mode: e.mode, uid: uid(e.user, e.path), gid: gid(e.group, e.path) });
    } else if (e.kind === 'symlink') {
      // In the final layer a link replaces the lower layers' directory with everything under it.
      const hidden = [...ctx.installed].find((p) => p.startsWith(`${path}/`));
      if (hidden !== undefined) {
        throw new UserError(`a package script turns ${e.path} into a link to ${e.target}, which would hide /${hidden} that a package installs under it`);
      }
      made.set(path, { path, type: 'symlink', linkname: e.target });
    } else {
      made.set(path, { path, type: 'file', mode: e.mode, uid: uid(e.user, e.path), gid: gid(e.group, e.path), content: Buffer.from(e.content, 'base64') });
    }
  }
  return { entries: [...made.values()], unresolved };
}

/**
 * Name → id, the first definition winning as in accounts.ts. A numeric name is already an id;
 * root is 0 even without a passwd (the kernel's superuser). A name no package defines (an image
 * without base-passwd) leaves the path to root, as a failed chown would, and is reported.
 */
function idsOf(what: 'user' | 'group', defined: [string, number][], unresolved: string[]): (name: string, forPath: string) => number {
  const ids = new Map<string, number>();
  for (const [name, id] of defined) if (!ids.has(name)) ids.set(name, id);
  return (name, forPath) => {
    const id = ids.get(name) ?? (/^\d+$/.test(name) ? Number(name) : name === 'root' ? 0 : undefined);
    if (id !== undefined) return id;
    unresolved.push(`${forPath}: ${what} "${name}" is not defined by any package in the image; left to root`);
    return 0;
  };
}
