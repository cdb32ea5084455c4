import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { listBlobs, treeSize, type BlobFile } from './blobFiles.js';
import { CacheIndex } from './cacheIndex.js';
import { existingCache } from './existingCache.js';

/** The kinds `cache ls` sizes the cache by. */
export const USAGE_KINDS = ['packages', 'layers', 'metadata', 'other', 'index', 'builds', 'tmp'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

export const USAGE_LABELS: Record<UsageKind, string> = {
  packages: 'package files',
  layers: 'layer blobs (package and final layers)',
  metadata: 'layer metadata (package metadata, final-layer reports)',
  other: 'other blobs (repository indexes, image configs, manifests)',
  index: 'index (index.db)',
  builds: 'build records',
  tmp: 'tmp (work in progress, leftovers)',
};

export interface CacheUsage {
  cacheDir: string;
  kinds: Record<UsageKind, { count: number; bytes: number }>;
  totalBytes: number;
}

/**
 * What the cache holds, by kind. A blob is a layer or metadata when a layer row names it, a
 * package when the index recorded it as one (builds mark the packages they use); the rest is
 * "other". Sizes are file sizes: a blob hardlinked into an output frees no space when removed.
 */
export async function cacheUsage(cacheDir: string): Promise<CacheUsage> {
  const cas = await existingCache(cacheDir);
  const index = new CacheIndex(cacheDir);
  let kindOf: (b: BlobFile) => UsageKind;
  try {
    kindOf = blobClassifier(index);
  } finally {
    index.close();
  }
  const kinds = Object.fromEntries(USAGE_KINDS.map((k) => [k, { count: 0, bytes: 0 }])) as CacheUsage['kinds'];
  const add = (kind: UsageKind, bytes: number, count = 1) => {
    kinds[kind].count += count;
    kinds[kind].bytes += bytes;
  };
  for (const b of await listBlobs(cas.blobsDir)) add(kindOf(b), b.size);
  for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) {
    const st = await lstat(path.join(cacheDir, f)).catch(() => undefined);
    if (st) add('index', st.size);
  }
  const builds = await treeSize(path.join(cacheDir, 'builds'));
  add('builds', builds.bytes, builds.count);
  const tmp = await treeSize(cas.tmpDir);
  add('tmp', tmp.bytes, tmp.count);
  return { cacheDir, kinds, totalBytes: Object.values(kinds).reduce((a, k) => a + k.bytes, 0) };
}

/** Which kind each blob is, from the index's rows (read once). */
export function blobClassifier(index: CacheIndex): (b: BlobFile) => UsageKind {
  const layers = new Set<string>();
  const metadata = new Set<string>();
  const packages = new Set<string>();
  for (const row of index.layerRows()) {
    layers.add(row.digest);
    metadata.add(row.metadataDigest);
  }
  for (const row of index.pinnedRows()) packages.add(row.digest);
  for (const [digest, use] of index.blobUse()) if (use.kind === 'package') packages.add(digest);
  return (b) => (layers.has(b.digest) ? 'layers' : metadata.has(b.digest) ? 'metadata' : packages.has(b.digest) ? 'packages' : 'other');
}
