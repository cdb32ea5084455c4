import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cas } from '../cas/cas.js';
import { hexOf } from '../cas/cas.js';
import { linkOrCopy } from '../cas/linkOrCopy.js';
import { removeSiblingLeftovers } from '../cas/removeLeftovers.js';
import { OWNER } from '../cas/tempOwner.js';
import { UserError } from '../errors.js';
import { MEDIA_TYPES, type Descriptor } from './mediaTypes.js';

/**
 * Write an OCI image layout: blobs are hardlinked from the cache (copied only across
 * filesystems), and the whole directory is built beside the target and renamed into place, so a
 * failed build never leaves a half-written layout where the old one was.
 */
export async function writeLayout(cas: Cas, outDir: string, blobDigests: Iterable<string>, top: Descriptor): Promise<void> {
  const target = path.resolve(outDir);
  const staging = `${target}.tmp-${OWNER}`;
  await removeSiblingLeftovers(target); // what a killed earlier write of this output left beside it
  try {
    await rm(staging, { recursive: true, force: true }); // a leftover of an earlier run with this pid
    await mkdir(path.join(staging, 'blobs', 'sha256'), { recursive: true });
    await writeFile(path.join(staging, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
  } catch (e) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw new UserError(`cannot write the output directory ${outDir} (${(e as NodeJS.ErrnoException).code ?? String(e)}): choose a writable path with --output`);
  }
  try {
    for (const digest of new Set(blobDigests)) await linkOrCopy(cas.blobPath(digest), path.join(staging, 'blobs', 'sha256', hexOf(digest)));
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [top] };
    await writeFile(path.join(staging, 'index.json'), `${JSON.stringify(index)}\n`);
    await replaceDir(staging, target);
  } catch (e) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
}

/** Swap the new layout in; if that fails, put the old one back where it was. */
async function replaceDir(staging: string, target: string): Promise<void> {
  const exists = await stat(target).then(() => true, () => false);
  if (!exists) {
    await rename(staging, target);
    return;
  }
  const old = `${target}.old-${OWNER}`;
  await rename(target, old);
  try {
    await rename(staging, target);
  } catch (e) {
    await rename(old, target);
    throw e;
  }
  // The new layout is in place: a failure to remove the old one is not the build's failure, and
  // the next write of this output removes it.
  await rm(old, { recursive: true, force: true }).catch(() => {});
}
