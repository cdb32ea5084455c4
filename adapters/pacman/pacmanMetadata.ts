import type { PackagedFile } from '../tarEntries.js';
import type { PackageMetadata } from '../types.js';

/** One entry of a package's data (everything but its dot-files), as the local database needs it. */
export type PacmanFile = PackagedFile;

/**
 * What the final layer needs of one .pkg.tar.*, stored as JSON beside its layer in the cache.
 * Everything comes from the package file itself.
 */
export type PacmanMetadata = PackageMetadata & {
  /** .PKGINFO "key = value" pairs in file order; keys repeat (depend, provides, backup...). */
  pkginfo: [string, string][];
  /** The package's .MTREE exactly as shipped (gzip-compressed), base64; pacman copies it to local/<pkg>/mtree. */
  mtree?: string;
  /** The .INSTALL script, base64; pacman keeps it as local/<pkg>/install. */
  install?: string;
  /** The .CHANGELOG, base64; pacman keeps it as local/<pkg>/changelog (`pacman -Qc`). */
  changelog?: string;
  /** Contents of the files script effects read (account files, sysusers.d, tmpfiles.d, alpm hooks), base64 by path. */
  effectFiles?: Record<string, string>;
  /** The data entries in archive order, directories included. */
  files: PacmanFile[];
  /** Each `backup` file of .PKGINFO with the md5 of its shipped content, for %BACKUP%. */
  backup: { path: string; md5: string }[];
};

export function asPacman(pkg: PackageMetadata): PacmanMetadata {
  return pkg as PacmanMetadata;
}

/** All values of a .PKGINFO key, in order. */
export function pkginfoValues(meta: PacmanMetadata, key: string): string[] {
  return meta.pkginfo.filter(([k]) => k === key).map(([, v]) => v);
}
