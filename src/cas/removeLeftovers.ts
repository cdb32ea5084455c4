import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ownerGone, ownerOf } from './tempOwner.js';

/**
 * Remove what killed processes left in the cache's tmp/ (a staging file can be gigabytes).
 * Safe while other builds share the cache: an entry goes only when its maker is gone (see
 * `ownerGone`); a name without an owner is judged by its age alone. Best effort: cleaning never
 * fails the command that opened the cache. Returns the names removed.
 */
export async function removeLeftovers(tmpDir: string, now = Date.now()): Promise<string[]> {
  return removeWhere(tmpDir, (name) => name, now);
}

/**
 * Remove `<target>.tmp-<owner>` and `<target>.old-<owner>` beside an output (or a lockfile) that a
 * killed write left; the same rule as for the cache's tmp/.
 */
export async function removeSiblingLeftovers(target: string, now = Date.now()): Promise<string[]> {
  const base = path.basename(target);
  return removeWhere(path.dirname(target), (name) => {
    for (const kind of ['.tmp-', '.old-']) if (name.startsWith(base + kind)) return name.slice(base.length + kind.length);
    return undefined;
  }, now);
}

async function removeWhere(dir: string, ownerPart: (name: string) => string | undefined, now: number): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const owned = ownerPart(name);
    if (owned === undefined) continue;
    const st = await lstat(path.join(dir, name)).catch(() => undefined);
    if (!st) continue; // its owner finished meanwhile
    if (!ownerGone(ownerOf(owned) ?? { pid: 0, ns: '' }, st.mtimeMs, now)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true }).then(
      () => removed.push(name),
      () => {},
    );
  }
  return removed;
}
