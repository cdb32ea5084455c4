import { Readable } from 'node:stream';
import { readFile, rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { Adapter, PackageMetadata, UnpackLimits } from '../../adapters/types.js';
import type { Cas } from '../cas/cas.js';
import { blobIntact } from '../cas/blobIntact.js';
import { jsonChunks } from '../cas/jsonChunks.js';
import type { CacheIndex } from '../cas/cacheIndex.js';
import { UserError } from '../errors.js';
import type { LockedPackage } from '../lock/lockfile.js';
import { packageIdentity } from '../fetch/packageIdentity.js';
import { LAYER_FORMAT_VERSION } from '../formatVersions.js';
import { orderEntries } from './orderEntries.js';
import type { LayerPlan } from './planLayers.js';
import { StagingArea, type StagedEntry } from './stageEntries.js';
import type { LayerItem, WrittenLayer } from './writeLayer.js';


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
  deps: { cas: Cas; index: CacheIndex; concurrency: number; blobs: Map<string, string>; limits: UnpackLimits },
): Promise<BuiltLayer[]> {
  const limit = pLimit({ concurrency: deps.concurrency, rejectOnClear: true });
  let failure: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    plans.map((plan) =>
      limit(() =>
        buildOne(adapter, plan, deps).catch((error: unknown) => {
          // Start nothing more, but let the layers under way finish: each removes its staging file.
          failure ??= { error };
          limit.clearQueue();
          throw error;
        }),
      ),
    ),
  );
  if (failure) throw failure.error;
  return settled.map((r) => (r as PromiseFulfilledResult<BuiltLayer>).value);
}

async function buildOne(
  adapter: Adapter,
  plan: LayerPlan<LockedPackage>,
  { cas, index, blobs, limits }: { cas: Cas; index: CacheIndex; blobs: Map<string, string>; limits: UnpackLimits },
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
      const unpacked = adapter.unpack(cas.blobPath(blob), label, limits, (suffix) => cas.tempPath(suffix));
      await staging.add(unpacked.entries, pkg.name).catch(async (e: unknown) => {
        throw await unpackFailure(e, label, cas, blob);
      });
      metadata.push(await unpacked.metadata);
    }
    const ordered = orderEntries([...staging.entries.values()]);
    // Loaded on a cache miss only: a cached rebuild never needs the tar writer.
    const { writeLayer } = await import('./writeLayer.js');
    const written = await writeLayer(cas, layerItems(ordered, staging));
    // In pieces: one package's path lists can be tens of megabytes of JSON.
    const meta = await cas.writeStream(Readable.from(jsonChunks(metadata)));
    index.putLayer(key, { ...written, metadataDigest: meta.digest });
    return { ...written, metadataDigest: meta.digest, packages: plan.packages, metadata: async () => metadata, cached: false };
  } finally {
    await staging.dispose();
  }
}

/** The writer's items, made as it goes: one object per entry at a time, not 200,000 at once. */
function* layerItems(ordered: StagedEntry[], staging: StagingArea): Generator<LayerItem> {
  for (const s of ordered) yield { entry: s.entry, content: () => staging.read(s) };
}

/**
 * The error for a package that failed to unpack, with the advice that fits: the file was verified
 * when it entered the cache, so either the cached copy was damaged since (it is removed, and the
 * next build downloads it again) or the package itself is malformed or hostile, which no
 * download can fix. The adapters' own "download it again" hints are replaced accordingly.
 */
async function unpackFailure(e: unknown, label: string, cas: Cas, blob: string): Promise<UserError> {
  const problem = e instanceof UserError ? e.message : `${label}: cannot unpack: ${(e as Error).message}`;
  const bare = problem.replace(/[:;,]?\s*download it again.*$/s, '');
  if (await blobIntact(cas, blob)) {
    return new UserError(`${bare}; the file matches the sha256 its lock pins, so the package itself is malformed or hostile: nothing was cached; leave it out of the image or report it to its repository`);
  }
  await rm(cas.blobPath(blob), { force: true });
  return new UserError(`${bare}; the cached copy ${cas.blobPath(blob)} was damaged since it was verified and has been removed: run the build again to download it`);
}

/**
 * The compressed bytes depend on the zlib build (Node bundles its own), so its version is part of
 * the key: after a Node upgrade a layer is remade rather than served with another digest.
 */
export function layerKey(type: string, packages: LockedPackage[]): string {
  return `layer-v${LAYER_FORMAT_VERSION}:${type}:gzip-zlib${process.versions.zlib}:${packages.map(packageIdentity).sort().join(',')}`;
}
