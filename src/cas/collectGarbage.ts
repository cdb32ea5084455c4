import { existsSync, unlinkSync } from 'node:fs';
import { UserError } from '../errors.js';
import { listBlobs, type BlobFile } from './blobFiles.js';
import { CacheIndex } from './cacheIndex.js';
import { blobClassifier, cacheUsage, USAGE_KINDS, type UsageKind } from './cacheUsage.js';
import { existingCache } from './existingCache.js';
import { keptLockNeeds, type Needs } from './lockNeeds.js';

/**
 * Blobs used or written this recently are never removed: a concurrent build may have just
 * written one and not yet recorded the row that names it, or be about to link it into an output.
 */
export const GC_GRACE_MS = 3600_000;

export interface GcOptions {
  /** Remove least recently used blobs until the cache is at most this many bytes. */
  maxSize?: number;
  /** Lockfiles whose images must stay buildable without download or unpack. */
  keep: string[];
  now?: number;
}

export interface GcReport {
  cacheDir: string;
  beforeBytes: number;
  afterBytes: number;
  maxSize?: number;
  removed: { blobs: number; bytes: number; byKind: Record<UsageKind, { count: number; bytes: number }>; layerRows: number; pinnedRows: number };
  /** Bytes gc could not remove: needed by a kept lock, or used within GC_GRACE_MS. */
  neededBytes: number;
  recentBytes: number;
}

/**
 * Remove blobs no kept lock needs (see `keptLockNeeds`), least recently used first (the index's
 * blob_use, else the file's mtime), until the cache fits --max-size — or all of them without it.
 * Rows go before their blobs, and everything is decided and deleted under the index's write lock:
 * a build marks a blob used before relying on it, so it either sees the blob gone (a cache miss,
 * remade) or gc sees it used and keeps it.
 */
export async function collectGarbage(cacheDir: string, opts: GcOptions): Promise<GcReport> {
  if (opts.maxSize === undefined && !opts.keep.length) {
    throw new UserError('cache gc needs --max-size SIZE, --keep LOCKFILE... or both: without them it would remove the whole cache');
  }
  const now = opts.now ?? Date.now();
  const cas = await existingCache(cacheDir);
  const beforeBytes = (await cacheUsage(cacheDir)).totalBytes;
  const blobs = (await listBlobs(cas.blobsDir)).filter((b) => b.blob);
  const index = new CacheIndex(cacheDir);
  let removed: ReturnType<typeof removeUnneeded>;
  try {
    const needs: Needs = opts.keep.length ? await keptLockNeeds(opts.keep, index) : { blobs: new Set(), layerKeys: new Set() };
    removed = index.exclusive(() => removeUnneeded(index, blobs, needs, { now, maxSize: opts.maxSize, total: beforeBytes, blobPath: (d) => cas.blobPath(d) }));
    index.checkpoint();
  } finally {
    index.close();
  }
  const afterBytes = (await cacheUsage(cacheDir)).totalBytes;
  return { cacheDir, beforeBytes, afterBytes, ...(opts.maxSize !== undefined ? { maxSize: opts.maxSize } : {}), ...removed };
}

/** The part under the write lock: synchronous on purpose, so no build interleaves. */
function removeUnneeded(
  index: CacheIndex,
  blobs: BlobFile[],
  needs: Needs,
  ctx: { now: number; maxSize: number | undefined; total: number; blobPath: (digest: string) => string },
): Omit<GcReport, 'cacheDir' | 'beforeBytes' | 'afterBytes' | 'maxSize'> {
  const use = index.blobUse();
  const kindOf = blobClassifier(index);
  const lastUse = (b: BlobFile) => Math.max(use.get(b.digest)?.usedAt ?? 0, b.mtimeMs);
  const recent = (b: BlobFile) => ctx.now - lastUse(b) < GC_GRACE_MS;
  const byDigest = new Map(blobs.map((b) => [b.digest, b]));
  const removable = new Set(blobs.filter((b) => !needs.blobs.has(b.digest) && !recent(b)).map((b) => b.digest));

  let layers = index.layerRows();
  let pins = index.pinnedRows();
  const report: ReturnType<typeof removeUnneeded> = {
    removed: { blobs: 0, bytes: 0, byKind: Object.fromEntries(USAGE_KINDS.map((k) => [k, { count: 0, bytes: 0 }])) as GcReport['removed']['byKind'], layerRows: 0, pinnedRows: 0 },
    neededBytes: blobs.filter((b) => needs.blobs.has(b.digest)).reduce((a, b) => a + b.size, 0),
    recentBytes: blobs.filter((b) => !needs.blobs.has(b.digest) && recent(b)).reduce((a, b) => a + b.size, 0),
  };
  const dropRows = (dropL: typeof layers, dropP: typeof pins) => {
    index.dropLayers(dropL.map((r) => r.key));
    index.dropPinned(dropP.map((r) => r.pin));
    layers = layers.filter((r) => !dropL.includes(r));
    pins = pins.filter((r) => !dropP.includes(r));
    report.removed.layerRows += dropL.length;
    report.removed.pinnedRows += dropP.length;
  };

  // Rows whose blob is already gone only ever give misses: drop them (checked now, under the lock).
  const gone = (d: string) => !existsSync(ctx.blobPath(d));
  dropRows(
    layers.filter((r) => gone(r.digest) || gone(r.metadataDigest)),
    pins.filter((r) => gone(r.digest)),
  );

  let total = ctx.total;
  const remove = (digest: string): void => {
    const b = byDigest.get(digest);
    if (!b || !removable.delete(digest)) return;
    const rowsL = layers.filter((r) => r.digest === digest || r.metadataDigest === digest);
    dropRows(rowsL, pins.filter((r) => r.digest === digest));
    const kind = kindOf(b);
    try {
      unlinkSync(b.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    index.dropUse([digest]);
    total -= b.size;
    report.removed.blobs++;
    report.removed.bytes += b.size;
    report.removed.byKind[kind].count++;
    report.removed.byKind[kind].bytes += b.size;
    // A layer goes as a whole: its other blob is useless once no row names it.
    for (const r of rowsL) {
      for (const other of [r.digest, r.metadataDigest]) {
        if (!layers.some((l) => l.digest === other || l.metadataDigest === other)) remove(other);
      }
    }
  };
  for (const b of blobs.filter((x) => removable.has(x.digest)).sort((x, y) => lastUse(x) - lastUse(y) || (x.name < y.name ? -1 : 1))) {
    if (ctx.maxSize !== undefined && total <= ctx.maxSize) break;
    remove(b.digest);
  }
  // Use records of blobs long absent (a package marked, then never fetched) are dropped too.
  index.dropUse([...use].filter(([d, u]) => !byDigest.has(d) && ctx.now - u.usedAt >= GC_GRACE_MS && gone(d)).map(([d]) => d));
  return report;
}
