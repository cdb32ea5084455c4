import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decompressIndex } from '../decompressIndex.js';
import { errorMessage, UserError } from '../../src/errors.js';
import type { IndexContext, LockedIndex, PackageRecord, RepositoryConfig, RepositoryIndex } from '../types.js';
import { parseDeb822 } from './deb822.js';
import { checkRelease } from './checkRelease.js';
import type { ReleaseFile } from './inRelease.js';
import { packageRecord } from './packageRecord.js';
import type { DebRepositoryOptions } from './repositoryOptions.js';

/** The Debian archive keyring shipped with layerpkg (see keys/README.md). */
export const BUNDLED_KEYRING = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../keys/debian-archive-keyring.gpg');

/**
 * InRelease (OpenPGP-verified) → Packages.xz per component (sha256 from InRelease, fetched by
 * hash where the archive supports it, so a mirror update between the two requests cannot mix
 * generations) → package records for the target architecture and `all`.
 */
export async function readDebIndex(repo: RepositoryConfig, ctx: IndexContext): Promise<RepositoryIndex> {
  const opts = repo.options as unknown as DebRepositoryOptions;
  const distUrl = `${repo.url}/dists/${opts.suite}`;
  const inReleaseUrl = `${distUrl}/InRelease`;
  const keyringPath = opts.keyring ? path.resolve(repo.baseDir, opts.keyring) : BUNDLED_KEYRING;
  const keyring = await readFile(keyringPath).catch(() => {
    throw new UserError(`repository "${repo.name}": cannot read keyring ${keyringPath}; fix its \`keyring\` path`);
  });
  const inReleaseBytes = await ctx.fetchBytes(inReleaseUrl);
  // OpenPGP is loaded only when locking: it is the largest module, and `build` never needs it.
  const { verifyInRelease } = await import('./inRelease.js');
  const release = await verifyInRelease(inReleaseBytes.toString('utf8'), keyring, inReleaseUrl);
  checkRelease(release, opts.suite, inReleaseUrl);
  const indexes: LockedIndex[] = [
    { url: inReleaseUrl, sha256: sha256Hex(inReleaseBytes), size: inReleaseBytes.length, verifiedBy: `openpgp:${release.signer}` },
  ];
  const packages: PackageRecord[] = [];
  for (const component of opts.components) {
    const { entry, text } = await fetchPackagesFile(release, distUrl, component, ctx, inReleaseUrl);
    indexes.push(entry);
    for (const p of parseDeb822(text, entry.url)) {
      const arch = p.get('Architecture');
      if (arch !== ctx.arch && arch !== 'all') continue;
      packages.push(packageRecord(p, repo.name, repo.url, entry.url));
    }
  }
  return { indexes, packages, date: release.date };
}

/** The archive's preferred compressions, best first; each is verified before it is decoded. */
const VARIANTS: { suffix: string; decode: (b: Buffer, url: string) => Promise<Buffer> }[] = [
  { suffix: '.xz', decode: (b, url) => decompressIndex(b, 'xz', url) },
  { suffix: '.gz', decode: (b, url) => decompressIndex(b, 'gzip', url) },
  { suffix: '', decode: async (b) => b },
];

async function fetchPackagesFile(release: ReleaseFile, distUrl: string, component: string, ctx: IndexContext, inReleaseUrl: string) {
  const base = `${component}/binary-${ctx.arch}/Packages`;
  for (const variant of VARIANTS) {
    const listed = release.sha256.find((s) => s.path === base + variant.suffix);
    if (!listed) continue;
    const byHash = release.fields.get('Acquire-By-Hash') === 'yes';
    const url = byHash ? `${distUrl}/${component}/binary-${ctx.arch}/by-hash/SHA256/${listed.sha256}` : `${distUrl}/${listed.path}`;
    const bytes = await ctx.fetchBytes(url, { sha256: listed.sha256, size: listed.size });
    // The bytes match the signed InRelease, so a decoding failure is the repository's, not the download's.
    const decoded = await variant.decode(bytes, url).catch((e: unknown) => {
      if (e instanceof UserError) throw e;
      throw new UserError(
        `${url} matches the sha256 ${inReleaseUrl} pins but cannot be decompressed (${errorMessage(e)}): the repository publishes a broken index; report it to its maintainer, or use another mirror`,
      );
    });
    const text = decoded.toString('utf8');
    return { entry: { url, sha256: listed.sha256, size: listed.size, verifiedBy: `sha256 from ${inReleaseUrl}` }, text };
  }
  throw new UserError(`${inReleaseUrl} lists no ${base}(.xz|.gz) : check the repository's \`components\` and the architecture`);
}

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
