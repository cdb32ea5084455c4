import path from 'node:path';
import type { RepositoryConfig } from '../../adapters/types.js';
import type { ImageConfig } from '../config/imageConfig.js';
import { UserError } from '../errors.js';
import { Cas } from './cas.js';
import { removeLeftovers } from './removeLeftovers.js';

/**
 * The cache's store, created if needed; an unusable directory is the user's to fix. What killed
 * runs left in tmp/ is removed here, at the start of every command that uses the cache.
 */
export async function openCas(cacheDir: string): Promise<Cas> {
  const cas = new Cas(cacheDir);
  await cas.init().catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`cannot use the cache directory ${cacheDir} (${e.code ?? e.message}); pass a writable --cache-dir`);
  });
  await removeLeftovers(cas.tmpDir);
  return cas;
}

/** image.toml's repositories as adapters see them, with the directory relative paths start from. */
export function repositoryConfigs(config: ImageConfig): RepositoryConfig[] {
  return config.repositories.map((r) => ({ ...r, baseDir: path.dirname(config.file) }));
}
