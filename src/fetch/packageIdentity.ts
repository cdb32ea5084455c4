import type { LockedPackage } from '../lock/lockfile.js';

/**
 * What names a locked package's exact bytes: its sha256 where the lock has one (the form layer
 * cache keys always used), else the format's own pin (apk's `C:` covers .PKGINFO, whose datahash
 * covers the data) together with the file size.
 */
export function packageIdentity(pkg: Pick<LockedPackage, 'sha256' | 'checksum' | 'size'>): string {
  return pkg.sha256 ?? `checksum:${pkg.checksum}:${pkg.size}`;
}
