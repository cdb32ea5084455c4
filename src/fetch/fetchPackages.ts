import pLimit from 'p-limit';
import type { Cas } from '../cas/cas.js';
import { UserError } from '../errors.js';
import type { LockedPackage } from '../lock/lockfile.js';
import { downloadToCas, NotFoundError } from './download.js';

export interface FetchReport {
  downloaded: number;
  bytes: number;
}

/**
 * Make every locked package present in the CAS, verified by its locked sha256 and size. Already
 * cached packages cost a stat. Packages the mirror no longer serves are all named at once.
 */
export async function fetchPackages(cas: Cas, packages: LockedPackage[], concurrency: number, lockPath: string): Promise<FetchReport> {
  const limit = pLimit(concurrency);
  const gone: LockedPackage[] = [];
  let downloaded = 0;
  let bytes = 0;
  await Promise.all(
    packages.map((pkg) =>
      limit(async () => {
        if (await cas.has(pkg.sha256)) return;
        try {
          const got = await downloadToCas(cas, pkg.url, { sha256: pkg.sha256, size: pkg.size });
          downloaded++;
          bytes += got.size;
        } catch (e) {
          if (e instanceof NotFoundError) gone.push(pkg);
          else if (e instanceof UserError) throw new UserError(`package ${pkg.name} ${pkg.version}: ${e.message}`);
          else throw e;
        }
      }),
    ),
  );
  if (gone.length) {
    const list = gone.sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => `${p.name} ${p.version} (${p.url})`);
    throw new UserError(
      `the mirror no longer serves ${gone.length} package(s) pinned in ${lockPath}: ${list.join(', ')}; run \`layerpkg lock\` to re-resolve against the current mirror`,
    );
  }
  return { downloaded, bytes };
}
