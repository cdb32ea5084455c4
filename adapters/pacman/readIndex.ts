import { createHash } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import type { IndexContext, LockedIndex, PackageRecord, RepositoryConfig, RepositoryIndex } from '../types.js';
import { pacmanPackageRecord } from './packageRecord.js';
import { pacmanOptions } from './repositoryOptions.js';
import { parsePacmanDb, pacmanField } from './syncDb.js';
import { readPacmanKeyring, verifyDetachedSignature } from './verifySignature.js';

/**
 * `<url>/<db>.db` and its detached `<db>.db.sig`, verified with the repository's keyring before
 * the database is read (siglevel "required"); → the entries installable on `arch` (its own and
 * `any`).
 */
export async function readPacmanIndex(repo: RepositoryConfig, ctx: IndexContext): Promise<RepositoryIndex> {
  const opts = pacmanOptions(repo.options);
  const url = `${repo.url}/${opts.db}.db`;
  const bytes = await ctx.fetchBytes(url);
  const verifiedBy = await verifyDb(bytes, url, repo, ctx);
  const entries = await parsePacmanDb(bytes, url);
  const packages: PackageRecord[] = [];
  let newest = 0;
  for (const entry of entries) {
    const record = pacmanPackageRecord(entry, repo.name, repo.url, url);
    if (record.arch !== ctx.arch && record.arch !== 'any') continue;
    packages.push(record);
    newest = Math.max(newest, Number(pacmanField(entry.fields, 'BUILDDATE') ?? 0) || 0);
  }
  const index: LockedIndex = { url, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, verifiedBy };
  // A db carries no date of its own; its newest build date stands for it.
  return { indexes: [index], packages, date: newest };
}

async function verifyDb(bytes: Buffer, url: string, repo: RepositoryConfig, ctx: IndexContext): Promise<string> {
  const opts = pacmanOptions(repo.options);
  if (opts.siglevel === 'never') return 'unsigned (siglevel never)';
  const sig = await ctx.fetchIfExists(`${url}.sig`);
  if (!sig) {
    if (opts.siglevel === 'optional') return 'unsigned (siglevel optional)';
    if (opts.siglevel === 'packages') return 'unsigned database; packages openpgp (siglevel packages)';
    throw new UserError(`${url} has no signature (${url}.sig not found): repository "${repo.name}" requires one; sign the database (repo-add --sign), or set siglevel for a local repository`);
  }
  const keys = await readPacmanKeyring(path.resolve(repo.baseDir, opts.keyring!));
  return `openpgp:${await verifyDetachedSignature(bytes, sig, keys, url, opts.keyring)}`;
}
