import pLimit from 'p-limit';
import { pinnedCutoff, type Cas } from '../cas/cas.js';
import type { CacheIndex } from '../cas/cacheIndex.js';
import { UserError } from '../errors.js';
import type { LockedPackage } from '../lock/lockfile.js';
import { downloadToCas, NotFoundError } from './download.js';
import { packageIdentity } from './packageIdentity.js';

export interface FetchReport {
  downloaded: number;
  bytes: number;
  /** Where each package's file is in the CAS, by `packageIdentity`. */
  blobs: Map<string, string>;
}

export interface FetchDeps {
  cas: Cas;
  index: CacheIndex;
  /** The format's own check of a downloaded file, if it has one (required for checksum-pinned packages). */
  verifierFor: (pkg: LockedPackage) => ((tmpFile: string) => Promise<void>) | undefined;
}

/**
 * Make every locked package present in the CAS. A package with a locked sha256 is verified by it
 * (and its size, and the format's own check if any, e.g. pacman's signature) and found by it; one
 * pinned by its format's checksum (apk `C:`) is checked by the adapter before it enters the store,
 * then found through the cache index. Packages the mirror no
 * longer serves are all named at once.
 */
export async function fetchPackages(deps: FetchDeps, packages: LockedPackage[], concurrency: number, lockPath: string): Promise<FetchReport> {
  const { cas, index } = deps;
  const limit = pLimit({ concurrency, rejectOnClear: true });
  let failure: unknown;
  const gone: LockedPackage[] = [];
  const blobs = new Map<string, string>();
  let downloaded = 0;
  let bytes = 0;
  await Promise.allSettled(
    packages.map((pkg) =>
      limit(async () => {
        const id = packageIdentity(pkg);
        const cached = pkg.sha256 !== undefined ? ((await cas.has(pkg.sha256)) ? pkg.sha256 : undefined) : await index.findPinned(id, cas);
        if (cached !== undefined) {
          blobs.set(id, cached);
          return;
        }
        try {
          const got =
            pkg.sha256 !== undefined
              ? await downloadToCas(cas, pkg.url, { sha256: pkg.sha256, size: pkg.size }, undefined, deps.verifierFor(pkg))
              : // The format's check covers the size too, and says first whether it is the pinned build at all.
                // An endless answer is cut off, though, far enough past the locked size for that check to speak.
                await downloadToCas(cas, pkg.url, { maxBytes: pinnedCutoff(pkg.size) }, undefined, requireVerifier(deps, pkg, lockPath));
          if (pkg.sha256 === undefined) index.putPinned(id, got.digest);
          blobs.set(id, got.digest);
          downloaded++;
          bytes += got.size;
        } catch (e) {
          if (e instanceof NotFoundError) {
            gone.push(pkg);
            return;
          }
          // Start nothing more, but let the downloads under way finish: each cleans up its temp file.
          failure ??= e instanceof UserError ? new UserError(`package ${pkg.name} ${pkg.version}: ${e.message}`) : e;
          limit.clearQueue();
        }
      }),
    ),
  );
  if (failure !== undefined) throw failure;
  if (gone.length) {
    const list = gone.sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => `${p.name} ${p.version} (${p.url})`);
    throw new UserError(
      `the mirror no longer serves ${gone.length} package(s) pinned in ${lockPath}: ${list.join(', ')}; run \`layerpkg lock\` to re-resolve against the current mirror`,
    );
  }
  return { downloaded, bytes, blobs };
}

function requireVerifier(deps: FetchDeps, pkg: LockedPackage, lockPath: string): (tmpFile: string) => Promise<void> {
  const verify = deps.verifierFor(pkg);
  // Without a sha256 the file is trusted only through its format's checks; never skip them.
  if (!verify) throw new UserError(`${lockPath}: package ${pkg.name} ${pkg.version} has no sha256 and its format cannot check it; run \`layerpkg lock\``);
  return verify;
}
