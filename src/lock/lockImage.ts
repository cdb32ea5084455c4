import { readFile } from 'node:fs/promises';
import { getAdapter } from '../../adapters/registry.js';
import type { IndexContext, LockedIndex, PackageRecord } from '../../adapters/types.js';
import { openCas, repositoryConfigs } from '../cas/openCache.js';
import type { ImageConfig } from '../config/imageConfig.js';
import { UserError } from '../errors.js';
import { downloadBytes, downloadToCas, fetchIfExists, NotFoundError } from '../fetch/download.js';
import type { Progress } from '../progress.js';
import { resolve } from '../resolve/resolve.js';
import { inputsHash, LOCKFILE_VERSION, type Lockfile } from './lockfile.js';

/** Fetch and verify every repository index, resolve each architecture, and pin the result. */
export async function lockImage(config: ImageConfig, cacheDir: string, progress: Progress): Promise<Lockfile> {
  const adapter = imageAdapter(config);
  // An architecture the format does not know fails here, not after every index is downloaded.
  for (const arch of config.image.architectures) adapter.platform(arch);
  const cas = await openCas(cacheDir);
  const repos = repositoryConfigs(config);
  const indexesByRepo = new Map<string, LockedIndex[]>(repos.map((r) => [r.name, []]));
  const architectures: Lockfile['architectures'] = {};
  let sourceDateEpoch = 0;

  for (const arch of config.image.architectures) {
    const ctx: IndexContext = {
      arch,
      // Indexes pinned by a verified hash are cached by it, so re-locking an unchanged mirror is cheap.
      fetchBytes: async (url, expect) => {
        if (!expect) return downloadBytes(url).catch(notFoundIsUserError);
        if (!(await cas.has(expect.sha256))) await downloadToCas(cas, url, expect).catch(notFoundIsUserError);
        return readFile(cas.blobPath(expect.sha256));
      },
      fetchIfExists,
    };
    const candidates: PackageRecord[] = [];
    for (const repo of repos) {
      progress.stage('resolve', `reading ${repo.name} (${arch})`);
      const index = await adapter.readIndex(repo, ctx);
      indexesByRepo.get(repo.name)!.push(...index.indexes);
      candidates.push(...index.packages);
      sourceDateEpoch = Math.max(sourceDateEpoch, index.date ?? 0);
    }
    // Adapters return only what installs on `arch` (native, Debian's all, apk's noarch).
    const seeded = config.packages.seed ? adapter.seed(config.packages.seed, candidates) : [];
    const requested = [...new Set([...seeded, ...config.packages.include])];
    if (requested.length === 0) throw new UserError(`${config.file}: [packages] selects nothing; set packages.include or packages.seed`);
    const implicit = adapter.implicitPackages(candidates).filter((n) => !requested.includes(n));
    requested.push(...implicit);
    progress.stage('resolve', `resolving ${requested.length} requested packages (${arch})`);
    const resolved = resolve(adapter, candidates, {
      arch,
      requested,
      requestSource: (name) =>
        config.packages.include.includes(name) ? `packages.include in ${config.file}` : implicit.includes(name) ? 'the image layout' : `packages.seed "${config.packages.seed}"`,
    });
    architectures[arch] = {
      packages: resolved.map(({ record, requiredBy }) => ({
        name: record.name,
        version: record.version,
        arch: record.arch,
        repository: record.repository,
        url: record.url,
        ...(record.sha256 !== undefined ? { sha256: record.sha256 } : {}),
        ...(record.checksum !== undefined ? { checksum: record.checksum } : {}),
        size: record.size,
        requiredBy,
        // As pacman -Qi shows them: marked when the image has them anyway.
        ...(record.optional?.length
          ? { optional: record.optional.map((o) => (resolved.some((r) => r.record.name === o.name) ? `${o.text} [installed]` : o.text)) }
          : {}),
      })),
    };
  }

  return {
    lockfileVersion: LOCKFILE_VERSION,
    inputsHash: inputsHash(config),
    sourceDateEpoch,
    repositories: repos.map((r) => ({ name: r.name, type: r.type, url: r.url, indexes: indexesByRepo.get(r.name)! })),
    architectures,
  };
}

/** One image, one package format: mixing dpkg and apk databases in a rootfs makes no sense. */
export function imageAdapter(config: ImageConfig) {
  const types = [...new Set(config.repositories.map((r) => r.type))];
  if (types.length !== 1) throw new UserError(`${config.file}: repositories mix types ${types.join(', ')}; an image uses one package format`);
  return getAdapter(types[0]!, `${config.file}: repository.type`);
}

/** An index the repository does not have is a wrong url or name in image.toml, not a crash. */
function notFoundIsUserError(e: unknown): never {
  if (e instanceof NotFoundError) {
    throw new UserError(`${e.url}: not found (HTTP ${e.status}); check the repository's url and the options that name its index`);
  }
  throw e;
}
