import type { LayerEntry } from '../../adapters/types.js';
import { compareUtf8 } from '../compareUtf8.js';

/**
 * Sort by path (byte order) and make every hardlink point at an entry that comes before it:
 * in each hardlink set the first path in sort order carries the content and the others link
 * to it, so extraction never meets a link to a file it has not written yet.
 */
export function orderEntries<T extends { entry: LayerEntry }>(items: T[]): T[] {
  const sorted = [...items].sort((a, b) => compareUtf8(a.entry.path, b.entry.path));
  // Most layers have no hard links: no map of every path for them (200,000 entries: ~10 MiB).
  if (!sorted.some((s) => s.entry.type === 'hardlink')) return sorted;
  const byPath = new Map(sorted.map((s) => [s.entry.path, s]));
  const sets = new Map<string, T[]>(); // content path → its hardlinks
  for (const s of sorted) {
    if (s.entry.type !== 'hardlink') continue;
    const target = byPath.get(s.entry.linkname!);
    if (!target || target.entry.type !== 'file') continue;
    sets.set(target.entry.path, [...(sets.get(target.entry.path) ?? []), s]);
  }
  const replaced = new Map<T, T>();
  for (const [contentPath, links] of sets) {
    const content = byPath.get(contentPath)!;
    const members = [content, ...links].sort((a, b) => compareUtf8(a.entry.path, b.entry.path));
    const first = members[0]!;
    if (first === content) continue;
    // The first member takes over the content (and its metadata); the rest link to it.
    replaced.set(first, { ...content, entry: { ...content.entry, path: first.entry.path } });
    for (const m of members.slice(1)) {
      replaced.set(m, { ...m, entry: { ...content.entry, path: m.entry.path, type: 'hardlink', linkname: first.entry.path, size: 0 } });
    }
  }
  return sorted.map((s) => replaced.get(s) ?? s);
}
