import type { FinalEntry } from '../../adapters/types.js';
import type { LdCacheEffect } from './effects.js';
import { ldsoCache, scanImage, type ImageEntry } from './ldsoCache.js';

/**
 * /etc/ld.so.cache as the image's ldconfig would write it (`ldconfig -X`: links are the
 * packages' own), from what every package gives ldconfig: shared objects with their ELF
 * headers, soname links, ld.so.conf files, plus the directories the packages make and the root
 * links into /usr. Later packages' entries win a path, as their layers do.
 */
export function applyLdCache(effect: LdCacheEffect, inputs: ImageEntry[], directories: string[]): FinalEntry {
  const byPath = new Map<string, ImageEntry>();
  for (const d of directories) byPath.set(`/${d}`, { path: `/${d}`, type: 'dir' });
  for (const l of effect.rootLinks) byPath.set(l.path, { path: l.path, type: 'symlink', target: l.target });
  for (const e of inputs) byPath.set(e.path, e);
  const { libraries, hwcapsSubdirs } = scanImage({ entries: [...byPath.values()] }, { systemDirs: effect.systemDirs, hwcapBits: effect.hwcapBits });
  const content = ldsoCache(libraries, { hwcapsSubdirs, generator: effect.generator });
  return { path: 'etc/ld.so.cache', type: 'file', mode: 0o644, uid: 0, gid: 0, content };
}
