import type { FinalEntry, LayerEntry } from '../../adapters/types.js';
import type { Cas } from '../cas/cas.js';
import { orderEntries } from '../layer/orderEntries.js';
import { writeLayer, type WrittenLayer } from '../layer/writeLayer.js';
import { landingPath } from './landingPath.js';

/**
 * The last layer: what only the whole package set determines (database, accounts, links).
 * Later entries for the same path win, so the translation can refine what the adapter wrote.
 * Each entry is written where it lands once the symlinks on its way are followed — the
 * packages' (`packageSymlinks`) and this layer's own (/var/run → /run) —, never beneath a
 * symlink, so no extractor decides where it goes.
 */
export async function writeFinalLayer(
  cas: Cas,
  entries: FinalEntry[],
  sourceDateEpoch: number,
  packageSymlinks: ReadonlyMap<string, string> = new Map(),
): Promise<WrittenLayer> {
  const links = new Map(packageSymlinks);
  for (const e of entries) if (e.type === 'symlink') links.set(e.path, e.linkname);
  const byPath = new Map<string, { entry: LayerEntry; content?: Buffer }>();
  for (const e of entries) {
    const path = landingPath(e.path, (rel) => links.get(rel)) ?? e.path;
    const entry: LayerEntry = {
      path,
      type: e.type,
      mode: e.type === 'symlink' ? 0o777 : e.mode,
      uid: e.type === 'symlink' ? 0 : (e.uid ?? 0),
      gid: e.type === 'symlink' ? 0 : (e.gid ?? 0),
      // A file keeps a time of its own when the format checks it (pacman's local/<pkg>/install).
      mtime: e.type === 'file' && e.mtime !== undefined ? Math.min(e.mtime, sourceDateEpoch) : sourceDateEpoch,
      size: e.type === 'file' ? e.content.length : 0,
      linkname: e.type === 'symlink' ? e.linkname : undefined,
      ...(e.type === 'file' && e.xattrs ? { xattrs: e.xattrs } : {}),
    };
    byPath.set(path, { entry, content: e.type === 'file' ? e.content : undefined });
  }
  const ordered = orderEntries([...byPath.values()]);
  return writeLayer(cas, ordered.map((o) => ({ entry: o.entry, content: o.content ? async () => o.content! : undefined })), {
    mtimeClamp: sourceDateEpoch,
  });
}
