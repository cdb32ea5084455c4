import type { ElfInfo } from '../../src/elf/elfInfo.js';
import type { InstalledDirectory, PackageMetadata } from '../types.js';

/** What the final layer needs from a .deb, kept as JSON beside its layer in the cache. */
export interface DebMetadata extends PackageMetadata {
  /** The control file's fields, in order, values exactly as written (dpkg copies them to status). */
  control: [string, string][];
  /** Control members other than `control` (postinst, md5sums, conffiles...), base64. */
  controlFiles: Record<string, string>;
  /** Conffiles with the md5 of the shipped content, as dpkg records them in status. */
  conffiles: { path: string; md5: string; obsolete: boolean }[];
  /** The package's file list as dpkg writes info/<pkg>.list ("/.", "/bin", "/bin/bash"...). */
  files: string[];
  /** Canonical (merged-/usr) relative paths of non-directories, for conflict checks. */
  paths: string[];
  /** The directories it ships, canonical, with mode and owner (for script effects). */
  directories: InstalledDirectory[];
  /** Contents of files that script effects need (base64), keyed by canonical path. */
  captured: Record<string, string>;
  /** The shipped mode of each captured file (cp -p and ucf keep it). */
  capturedModes?: Record<string, number>;
  /** What ldconfig reads of the package: its ELF shared objects by canonical path... */
  libraries?: Record<string, ElfInfo>;
  /** ...and the symlinks with shared-object names (soname and dev links), canonical path → target. */
  libraryLinks?: Record<string, string>;
  /** Every symlink it ships, canonical path → target as shipped (for the checks across packages). */
  symlinks?: Record<string, string>;
}

export function asDeb(meta: PackageMetadata): DebMetadata {
  return meta as DebMetadata;
}

export function controlField(meta: DebMetadata, name: string): string | undefined {
  const lower = name.toLowerCase();
  return meta.control.find(([k]) => k.toLowerCase() === lower)?.[1];
}

export function controlFile(meta: DebMetadata, name: string): string | undefined {
  const b64 = meta.controlFiles[name];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}
