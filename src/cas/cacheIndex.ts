import Database from 'better-sqlite3';
import path from 'node:path';
import { hexOf, type Cas } from './cas.js';

/** What a blob is, where the index knows it beyond the layer rows. */
export type BlobKind = 'package';

/** What a cached layer is: enough to put it in a manifest without reading the blob. */
export interface CachedLayer {
  diffId: string;
  digest: string;
  size: number;
  /** Digest of the JSON with each package's metadata, so a warm build needs no unpack. */
  metadataDigest: string;
}

/**
 * The SQLite index of the cache: which layer a (packages + options + format version) key made.
 * WAL mode lets parallel builds read while one writes; the blobs themselves live in the CAS.
 */
export class CacheIndex {
  private readonly db: Database.Database;

  constructor(cacheRoot: string) {
    this.db = new Database(path.join(cacheRoot, 'index.db'));
    this.db.pragma('journal_mode = WAL');
    // Safe against a killed process in WAL mode (a power loss may only forget the last rows: misses);
    // without it every recorded use would wait for an fsync.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS layers (
      key TEXT PRIMARY KEY,
      diff_id TEXT NOT NULL,
      digest TEXT NOT NULL,
      size INTEGER NOT NULL,
      metadata_digest TEXT NOT NULL
    )`);
    this.db.exec('CREATE TABLE IF NOT EXISTS pinned_files (pin TEXT PRIMARY KEY, digest TEXT NOT NULL)');
    // When each blob was last used (ms since the epoch) and, where known, what it is: gc removes
    // the least recently used first, and `cache ls` sizes packages apart from other blobs.
    this.db.exec('CREATE TABLE IF NOT EXISTS blob_use (digest TEXT PRIMARY KEY, used_at INTEGER NOT NULL, kind TEXT)');
  }

  /**
   * Record that a build uses these blobs, before it relies on them being there: gc deletes under
   * the same write lock after checking use, so a blob is either seen as used or already gone.
   */
  markUsed(digests: Iterable<string>, kind?: BlobKind, now = Date.now()): void {
    const stmt = this.db.prepare(
      'INSERT INTO blob_use (digest, used_at, kind) VALUES (?, ?, ?) ON CONFLICT(digest) DO UPDATE SET used_at = max(used_at, excluded.used_at), kind = coalesce(excluded.kind, kind)',
    );
    this.db.transaction(() => {
      for (const d of new Set([...digests].map(fullDigest))) stmt.run(d, now, kind ?? null);
    })();
  }

  blobUse(): Map<string, { usedAt: number; kind: BlobKind | undefined }> {
    const rows = this.db.prepare('SELECT digest, used_at, kind FROM blob_use').all() as { digest: string; used_at: number; kind: BlobKind | null }[];
    return new Map(rows.map((r) => [r.digest, { usedAt: r.used_at, kind: r.kind ?? undefined }]));
  }

  layerRows(): ({ key: string } & CachedLayer)[] {
    const rows = this.db.prepare('SELECT key, diff_id, digest, size, metadata_digest FROM layers ORDER BY key').all() as {
      key: string;
      diff_id: string;
      digest: string;
      size: number;
      metadata_digest: string;
    }[];
    return rows.map((r) => ({ key: r.key, diffId: r.diff_id, digest: r.digest, size: r.size, metadataDigest: r.metadata_digest }));
  }

  pinnedRows(): { pin: string; digest: string }[] {
    return this.db.prepare('SELECT pin, digest FROM pinned_files ORDER BY pin').all() as { pin: string; digest: string }[];
  }

  dropLayers(keys: Iterable<string>): void {
    const stmt = this.db.prepare('DELETE FROM layers WHERE key = ?');
    for (const k of keys) stmt.run(k);
  }

  dropPinned(pins: Iterable<string>): void {
    const stmt = this.db.prepare('DELETE FROM pinned_files WHERE pin = ?');
    for (const p of pins) stmt.run(p);
  }

  dropUse(digests: Iterable<string>): void {
    const stmt = this.db.prepare('DELETE FROM blob_use WHERE digest = ?');
    for (const d of digests) stmt.run(fullDigest(d));
  }

  /** Run `fn` holding the index's write lock (builds recording use wait for it). */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Fold the write-ahead log back into index.db, so removing rows does not leave the cache bigger. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** SQLite's own check of the file; empty when it is sound. */
  integrityProblems(): string[] {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
  }

  /**
   * The blob of a package the lock pins by its format's own checksum rather than a sha256 (apk):
   * recorded once the downloaded file passed the format's checks, so a warm build costs a lookup.
   */
  async findPinned(pin: string, cas: Cas): Promise<string | undefined> {
    const row = this.db.prepare('SELECT digest FROM pinned_files WHERE pin = ?').get(pin) as { digest: string } | undefined;
    if (row) this.markUsed([row.digest], 'package');
    return row && (await cas.has(row.digest)) ? row.digest : undefined;
  }

  putPinned(pin: string, digest: string): void {
    this.db.prepare('INSERT OR REPLACE INTO pinned_files (pin, digest) VALUES (?, ?)').run(pin, digest);
    this.markUsed([digest], 'package');
  }

  /**
   * The cached layer for a key, only if its blob and metadata are still in the store: a cache
   * directory pruned by hand must lead to a rebuild, not to a manifest naming missing blobs.
   */
  async findLayer(key: string, cas: Cas): Promise<CachedLayer | undefined> {
    const hit = this.getLayer(key);
    if (hit) this.markUsed([hit.digest, hit.metadataDigest]);
    return hit && (await cas.has(hit.digest)) && (await cas.has(hit.metadataDigest)) ? hit : undefined;
  }

  getLayer(key: string): CachedLayer | undefined {
    const row = this.db.prepare('SELECT diff_id, digest, size, metadata_digest FROM layers WHERE key = ?').get(key) as
      | { diff_id: string; digest: string; size: number; metadata_digest: string }
      | undefined;
    return row && { diffId: row.diff_id, digest: row.digest, size: row.size, metadataDigest: row.metadata_digest };
  }

  putLayer(key: string, layer: CachedLayer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO layers (key, diff_id, digest, size, metadata_digest) VALUES (?, ?, ?, ?, ?)')
      .run(key, layer.diffId, layer.digest, layer.size, layer.metadataDigest);
    this.markUsed([layer.digest, layer.metadataDigest]);
  }

  close(): void {
    this.db.close();
  }
}

/** Digests are stored as `sha256:<hex>`; locks give package sha256s bare. */
function fullDigest(d: string): string {
  return `sha256:${hexOf(d)}`;
}
