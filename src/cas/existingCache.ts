import { stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { Cas } from './cas.js';
import { openCas } from './openCache.js';

/**
 * The cache the `cache` commands look at: it must exist already, so a mistyped --cache-dir is
 * reported instead of checked (or cleaned) as an empty new cache.
 */
export async function existingCache(cacheDir: string): Promise<Cas> {
  const st = await stat(cacheDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError(`no cache at ${cacheDir}: pass the cache directory with --cache-dir (or set LAYERPKG_CACHE_DIR)`);
  return openCas(cacheDir);
}
