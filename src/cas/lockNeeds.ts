import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { packageIdentity } from '../fetch/packageIdentity.js';
import { LAYER_FORMAT_VERSION } from '../formatVersions.js';
import { readLockfile } from '../lock/lockfile.js';
import { hexOf } from './cas.js';
import type { CacheIndex } from './cacheIndex.js';

/** What `cache gc --keep` never removes: blobs by digest, layer rows by key. */
export interface Needs {
  blobs: Set<string>;
  layerKeys: Set<string>;
}

/**
 * What a kept lock needs so that building it again takes no download and no unpack: each
 * locked package's file (by sha256, or through its pinned_files row), its repository index files,
 * and every package layer this layerpkg can reuse whose packages are all in the lock (single or
 * grouped, whatever [layering] the image uses) with that layer's metadata blob. The final layer,
 * image configs and manifests are not needed: they are remade from those in moments.
 */
export async function keptLockNeeds(lockPaths: string[], index: CacheIndex): Promise<Needs> {
  const identities = new Set<string>();
  const blobs = new Set<string>();
  for (const file of lockPaths) {
    const abs = path.resolve(file);
    if (!(await stat(abs).then((s) => s.isFile(), () => false))) {
      throw new UserError(`--keep ${file}: no such lockfile; pass the lock of each image to keep (e.g. image.lock.json)`);
    }
    const lock = await readLockfile(abs);
    for (const repo of lock.repositories) for (const i of repo.indexes) blobs.add(`sha256:${hexOf(i.sha256)}`);
    for (const { packages } of Object.values(lock.architectures)) {
      for (const pkg of packages) {
        identities.add(packageIdentity(pkg));
        if (pkg.sha256) blobs.add(`sha256:${pkg.sha256}`);
      }
    }
  }
  for (const row of index.pinnedRows()) if (identities.has(row.pin)) blobs.add(row.digest);
  const layerKeys = new Set<string>();
  for (const row of index.layerRows()) {
    const members = reusableLayerMembers(row.key);
    if (!members?.every((id) => identities.has(id))) continue;
    layerKeys.add(row.key);
    blobs.add(row.digest);
    blobs.add(row.metadataDigest);
  }
  return { blobs, layerKeys };
}

/**
 * The package identities of a package layer's key (see `layerKey` in src/layer/packageLayers.ts),
 * when this layerpkg (its layer format, its zlib) can still reuse it; undefined otherwise.
 */
export function reusableLayerMembers(key: string): string[] | undefined {
  const m = /^layer-v(\d+):[^:]+:gzip-zlib([^:]+):(.+)$/.exec(key);
  if (!m || Number(m[1]) !== LAYER_FORMAT_VERSION || m[2] !== process.versions.zlib) return undefined;
  return m[3]!.split(',');
}
