import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { Adapter, PackageMetadata } from '../../adapters/types.js';
import type { Cas } from '../cas/cas.js';
import type { CacheIndex } from '../cas/cacheIndex.js';
import { UserError } from '../errors.js';
import type { LockedPackage } from '../lock/lockfile.js';
import { packageIdentity } from '../fetch/packageIdentity.js';
import { LAYER_FORMAT_VERSION } from '../formatVersions.js';
import { orderEntries } from './orderEntries.js';
import type { LayerPlan } from './planLayers.js';
import { StagingArea } from './stageEntries.js';
import type { WrittenLayer } from './writeLayer.js';


export interface BuiltLayer extends WrittenLayer {
  packages: LockedPackage[];
  /** The CAS digest of the members' metadata: what the final layer is computed from. */
  metadataDigest: string;
  /** Read from the cache only when the final layer has to be made again. */
  metadata: () => Promise<PackageMetadata[]>;
  cached: boolean;
}

/**
 * Build every planned package layer, reusing the cache: the key is the member packages' identity
 * (sha256, or the format's pin) plus the layer format, so the same package version makes the
 * same layer in every image. `blobs` says where fetch put each package file.
 */
export async function buildPackageLayers(
  adapter: Adapter,
  plans: LayerPlan<LockedPackage>[],
  deps: { cas: Cas; index: CacheIndex; concurrency: number; blobs: Map<string, string> },
): Promise<BuiltLayer[]> {
  const limit = pLimit(deps.concurrency);
  return Promise.all(plans.map((plan) => limit(() => buildOne(adapter, plan, deps))));
}

async function buildOne(
  adapter: Adapter,
  plan: LayerPlan<LockedPackage>,
  { cas, index, blobs }: { cas: Cas; index: CacheIndex; blobs: Map<string, string> },
): Promise<BuiltLayer> {
  const key = layerKey(adapter.type, plan.packages);
  const hit = await index.findLayer(key, cas);
  if (hit) {
    const metadata = async () => JSON.parse(await readFile(cas.blobPath(hit.metadataDigest), 'utf8')) as PackageMetadata[];
    return { ...hit, packages: plan.packages, metadata, cached: true };
  }

  const staging = await StagingArea.create(cas.tempPath('.stage'));
  try {
    const metadata: PackageMetadata[] = [];
    for (const pkg of plan.packages) {
      const label = `${pkg.name} ${pkg.version} (${pkg.url})`;
      const blob = blobs.get(packageIdentity(pkg));
      if (blob === undefined) throw new Error(`${label}: not fetched`); // fetchPackages covers every locked package
      const unpacked = adapter.unpack(cas.blobPath(blob), label);
      // The file was verified when it entered the cache; if it fails now, it may have been damaged since.
      const damaged = `; if the cached copy is damaged, delete ${cas.blobPath(blob)} to download it again`;
      await staging.add(unpacked.entries, pkg.name).catch((e: unknown) => {
        throw new UserError(e instanceof UserError ? `${e.message}${damaged}` : `${label}: cannot unpack: ${(e as Error).message}${damaged}`);
      });
      metadata.push(await unpacked.metadata);
    }
    const ordered = orderEntries([...staging.entries.values()]);
    // Loaded on a cache miss only: a cached rebuild never needs the tar writer.
    const { writeLayer } = await import('./writeLayer.js');
    const written = await writeLayer(
      cas,
      ordered.map((s) => ({ entry: s.entry, content: () => staging.read(s) })),
    );
    const meta = await cas.writeBuffer(Buffer.from(JSON.stringify(metadata)));
    index.putLayer(key, { ...written, metadataDigest: meta.digest });
    return { ...written, metadataDigest: meta.digest, packages: plan.packages, metadata: async () => metadata, cached: false };
  } finally {
    await staging.dispose();
  }
}

/**
 * The compressed bytes depend on the zlib build (Node bundles its own), so its version is part of
 * the key: after a Node upgrade a layer is remade rather than served with another digest.
 */
export function layerKey(type: string, packages: LockedPackage[]): string {
  return `layer-v${LAYER_FORMAT_VERSION}:${type}:gzip-zlib${process.versions.zlib}:${packages.map(packageIdentity).sort().join(',')}`;
}
