import { createHash } from 'node:crypto';
import type { IndexContext, PackageRecord, RepositoryConfig, RepositoryIndex } from '../types.js';
import { verifyAndParseApkIndex } from './apkIndex.js';
import { apkPackageRecord } from './packageRecord.js';
import { trustedKeys } from './repositoryOptions.js';

/**
 * `<url>/<arch>/APKINDEX.tar.gz`, its signature verified with the repository's keys before any
 * of it is read, → the records installable on `arch` (its own and noarch).
 */
export async function readApkIndex(repo: RepositoryConfig, ctx: IndexContext): Promise<RepositoryIndex> {
  const url = `${repo.url}/${ctx.arch}/APKINDEX.tar.gz`;
  const bytes = await ctx.fetchBytes(url);
  const index = verifyAndParseApkIndex(bytes, trustedKeys(repo.options), url);
  const packages: PackageRecord[] = [];
  let newest = 0;
  for (const record of index.records) {
    const arch = record.fields.get('A');
    if (arch !== undefined && arch !== ctx.arch && arch !== 'noarch') continue;
    packages.push(apkPackageRecord(record, repo.name, repo.url, ctx.arch, url));
    newest = Math.max(newest, Number(record.fields.get('t') ?? 0) || 0);
  }
  return {
    indexes: [{ url, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, verifiedBy: `rsa:${index.signedBy}` }],
    packages,
    // An APKINDEX carries no date of its own; its newest build date stands for it.
    date: newest,
  };
}
