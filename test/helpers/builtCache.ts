import { cpSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { layerpkg } from './cli.js';
import type { TestRepo } from './testRepo.js';

/** An image locked and built into its own cache, with what the tests damage or keep. */
export interface BuiltImage {
  image: string;
  lock: string;
  cache: string;
  out: string;
  manifestDigest: string;
  /** Package layer blobs (not the final layer), in image order. */
  layerDigests: string[];
  packageSha256s: string[];
}

/** Lock and build `include` from the test repository into `cache` (created if needed). */
export async function buildInto(repo: TestRepo, include: string[], name: string, cache: string): Promise<BuiltImage> {
  const image = repo.writeImage(include, { file: `${name}.toml` });
  const lock = path.join(repo.work, `${name}.lock.json`);
  const out = path.join(repo.work, `${name}-out`);
  const locked = await layerpkg(['lock', image, '--cache-dir', cache, '-q']);
  expect(locked.stderr).toBe('');
  const built = await layerpkg(['build', image, '--cache-dir', cache, '-o', out, '--json']);
  expect(built.stderr).toBe('');
  const result = JSON.parse(built.stdout) as { manifestDigest: string; layers: { digest: string; packages: string[] }[] };
  const pinned = JSON.parse(readFileSync(lock, 'utf8')) as { architectures: Record<string, { packages: { sha256: string }[] }> };
  return {
    image,
    lock,
    cache,
    out,
    manifestDigest: result.manifestDigest,
    layerDigests: result.layers.filter((l) => l.packages.length).map((l) => l.digest),
    packageSha256s: Object.values(pinned.architectures).flatMap((a) => a.packages.map((p) => p.sha256)),
  };
}

export function copyCache(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

export function blobFile(cache: string, digest: string): string {
  return path.join(cache, 'blobs/sha256', digest.replace(/^sha256:/, ''));
}

/** The index's layer rows, read as another process would. */
export function layerRows(cache: string): { key: string; digest: string; metadata_digest: string }[] {
  const db = new Database(path.join(cache, 'index.db'), { readonly: true });
  try {
    return db.prepare('SELECT key, digest, metadata_digest FROM layers ORDER BY key').all() as { key: string; digest: string; metadata_digest: string }[];
  } finally {
    db.close();
  }
}

/**
 * Make the cache look `ms` older: blob mtimes and recorded uses both move back, so gc's grace
 * period (for blobs a concurrent build may be using) no longer protects them.
 */
export function ageCache(cache: string, ms: number, only: (digest: string) => boolean = () => true): void {
  const dir = path.join(cache, 'blobs/sha256');
  for (const name of readdirSync(dir)) {
    if (!only(`sha256:${name}`)) continue;
    const file = path.join(dir, name);
    const t = (statSync(file).mtimeMs - ms) / 1000;
    utimesSync(file, t, t);
  }
  const db = new Database(path.join(cache, 'index.db'));
  try {
    const rows = db.prepare('SELECT digest FROM blob_use').all() as { digest: string }[];
    const stmt = db.prepare('UPDATE blob_use SET used_at = used_at - ? WHERE digest = ?');
    for (const r of rows) if (only(r.digest)) stmt.run(ms, r.digest);
  } finally {
    db.close();
  }
}
