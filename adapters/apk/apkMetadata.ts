import type { PackagedFile } from '../tarEntries.js';
import type { PackageMetadata } from '../types.js';

/** One entry of a package's data tar, as the installed database needs it. */
export interface ApkFile extends PackagedFile {
  /** apk's per-file checksum (the data tar's `APK-TOOLS.checksum.SHA1` PAX header), hex; never for directories. */
  sha1?: string;
}

/**
 * What the final layer needs of one .apk, stored as JSON beside its layer in the cache (so a warm
 * build needs no unpack). Everything comes from the package file itself.
 */
export type ApkMetadata = PackageMetadata & {
  /** `C:`: "Q1" + base64 of the SHA-1 of the compressed control gzip stream. */
  checksum: string;
  /** `S:`: the package file's size in bytes. */
  fileSize: number;
  /** .PKGINFO "key = value" pairs in file order; keys repeat (depend, provides, triggers...). */
  pkginfo: [string, string][];
  /** Scripts of the control stream by name (".pre-install", ".post-install", ".trigger"...), base64. */
  scripts: Record<string, string>;
  /** The data tar's entries in tar order, directories included. */
  files: ApkFile[];
  /**
   * When the package ships a busybox binary (bin/busybox): the applet links `busybox --install -s`
   * would make, as relative paths ("bin/ash", "usr/bin/wget"), read from the binary's own tables.
   */
  busyboxApplets?: string[];
  /** The account files it ships (etc/passwd, etc/group, etc/shadow), as text. */
  accountFiles?: Record<string, string>;
};

export function asApk(pkg: PackageMetadata): ApkMetadata {
  return pkg as ApkMetadata;
}

/** All values of a .PKGINFO key, in order. */
export function pkginfoValues(meta: ApkMetadata, key: string): string[] {
  return meta.pkginfo.filter(([k]) => k === key).map(([, v]) => v);
}
