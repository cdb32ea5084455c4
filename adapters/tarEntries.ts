/**
 * What every format's unpacker shares: package payloads are tars (tar-stream), their entries
 * become `LayerEntry`s, and the metadata is known only once the last entry has gone by.
 */
import type tar from 'tar-stream';
import { UserError } from '../src/errors.js';
import type { LayerEntry, PackageMetadata, UnpackedEntry, UnpackResult } from './types.js';

/** tar-stream's entry types → layer entry types; anything else is refused by the caller. */
export const TAR_TYPES: Record<string, LayerEntry['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'character-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

/**
 * An entry's layer type and its path relative to the root ("" for the root itself, which callers
 * skip); an entry type no layer can hold is refused.
 */
export function tarEntryPath(h: tar.Header, label: string): { type: LayerEntry['type']; rel: string } {
  const type = TAR_TYPES[h.type ?? 'file'];
  if (!type) throw new UserError(`${label}: unsupported tar entry type "${h.type}" for ${h.name}`);
  return { type, rel: relativeName(h.name, label) };
}

/** "./usr/bin/x" → "usr/bin/x"; anything that could escape the root is refused. */
export function relativeName(name: string, label: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..') || name.startsWith('/')) {
    throw new UserError(`${label}: refusing tar entry "${name}": it would escape the image root`);
  }
  return parts.join('/');
}

/**
 * A package's entry as its format's database records it: a layer entry without size and times.
 * `path` is relative to the root with no leading or trailing "/"; `linkname` is a symlink's
 * target as shipped, or a hard link's target path (relative, like `path`).
 */
export type PackagedFile = Omit<LayerEntry, 'size' | 'mtime' | 'devmajor' | 'devminor'>;

/**
 * A tar header as a layer entry at `path`: permission bits, numeric owner, whole-second mtime,
 * symlink target as shipped and device numbers. A hardlink's target is the caller's to place
 * (formats differ on what it may point at), so it is left unset.
 */
export function layerEntryOf(h: tar.Header, path: string, type: LayerEntry['type']): LayerEntry {
  const entry: LayerEntry = {
    path,
    type,
    mode: (h.mode ?? 0o644) & 0o7777,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
    size: type === 'file' ? (h.size ?? 0) : 0,
  };
  if (type === 'symlink') entry.linkname = h.linkname ?? '';
  if (type === 'character-device' || type === 'block-device') {
    entry.devmajor = h.devmajor ?? 0;
    entry.devminor = h.devminor ?? 0;
  }
  return entry;
}

/**
 * An UnpackResult from a generator that yields the entries and returns the metadata: `metadata`
 * settles when the generator finishes (or fails), after the caller consumed every entry.
 */
export function unpackResult(produce: () => AsyncGenerator<UnpackedEntry, PackageMetadata>): UnpackResult {
  let resolveMeta!: (m: PackageMetadata) => void;
  let rejectMeta!: (e: unknown) => void;
  const metadata = new Promise<PackageMetadata>((res, rej) => {
    resolveMeta = res;
    rejectMeta = rej;
  });
  // The caller awaits metadata only after consuming entries; avoid an unhandled rejection meanwhile.
  metadata.catch(() => {});
  // A body's error reaches the caller through its own loop, which then leaves the entries
  // early: the metadata must still settle, with that same error.
  let bodyFailure: { error: unknown } | undefined;
  async function* watched(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    try {
      yield* body;
    } catch (error) {
      bodyFailure ??= { error };
      throw error;
    }
  }
  async function* entries(): AsyncGenerator<UnpackedEntry> {
    const produced = produce();
    try {
      for (;;) {
        const next = await produced.next();
        if (next.done) {
          resolveMeta(next.value);
          return;
        }
        const { entry, body } = next.value;
        yield body ? { entry, body: watched(body) } : { entry };
      }
    } catch (e) {
      rejectMeta(e);
      throw e;
    } finally {
      // Left early (the caller stopped, or a body failed): the streams close, the metadata settles.
      await produced.return(undefined as never).catch(() => {});
      rejectMeta(bodyFailure ? bodyFailure.error : new Error('the package was not read to its end'));
    }
  }
  return { entries: entries(), metadata };
}
