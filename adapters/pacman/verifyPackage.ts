import path from 'node:path';
import { UserError } from '../../src/errors.js';
import type { LockedPackageRef, RepositoryConfig } from '../types.js';
import { pacmanOptions } from './repositoryOptions.js';
import { readPacmanKeyring, verifyDetachedSignature } from './verifySignature.js';

/** A downloaded package against its detached `<url>.sig`, as pacman's package SigLevel requires. */
export async function verifyPacmanPackage(
  file: string,
  pkg: LockedPackageRef,
  repo: RepositoryConfig,
  fetchIfExists: (url: string) => Promise<Buffer | undefined>,
): Promise<void> {
  const opts = pacmanOptions(repo.options);
  if (opts.siglevel === 'never') return;
  const sig = await fetchIfExists(`${pkg.url}.sig`);
  if (!sig) {
    if (opts.siglevel === 'optional') return;
    throw new UserError(`${pkg.url} has no signature (${pkg.url}.sig not found): repository "${repo.name}" requires signed packages; sign it, or set siglevel for a local repository`);
  }
  const keys = await readPacmanKeyring(path.resolve(repo.baseDir, opts.keyring!));
  await verifyDetachedSignature(file, sig, keys, pkg.url, opts.keyring);
}
