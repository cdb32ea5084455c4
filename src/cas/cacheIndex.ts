import Database from 'better-sqlite3';
import path from 'node:path';
import type { Cas } from './cas.js';

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
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS layers (
      key TEXT PRIMARY KEY,
      diff_id TEXT NOT NULL,
      digest TEXT NOT NULL,
      size INTEGER NOT NULL,
      metadata_digest TEXT NOT NULL
    )`);
    this.db.exec('CREATE TABLE IF NOT EXISTS pinned_files (pin TEXT PRIMARY KEY, digest TEXT NOT NULL)');
  }

  /**
   * The blob of a package the lock pins by its format's own checksum rather than a sha256 (apk):
   * recorded once the downloaded file passed the format's checks, so a warm build costs a lookup.
   */
  async findPinned(pin: string, cas: Cas): Promise<string | undefined> {
    const row = this.db.prepare('SELECT digest FROM pinned_files WHERE pin = ?').get(pin) as { digest: string } | undefined;
    return row && (await cas.has(row.digest)) ? row.digest : undefined;
  }

  putPinned(pin: string, digest: string): void {
    this.db.prepare('INSERT OR REPLACE INTO pinned_files (pin, digest) VALUES (?, ?)').run(pin, digest);
  }

  /**
   * The cached layer for a key, only if its blob and metadata are still in the store: a cache
   * directory pruned by hand must lead to a rebuild, not to a manifest naming missing blobs.
   */
  async findLayer(key: string, cas: Cas): Promise<CachedLayer | undefined> {
    const hit = this.getLayer(key);
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
  }

  close(): void {
    this.db.close();
  }
}
