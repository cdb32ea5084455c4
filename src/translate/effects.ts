/**
 * The effect model: what maintainer scripts would have done to the filesystem, stated as data.
 * Adapters recognize effects in their format's scripts; src/translate applies them in the final
 * layer. Nothing here knows a package format.
 */

/** A user as sysusers.d and /etc/passwd know it. */
export interface UserEffect {
  kind: 'user';
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
  /** Password field of /etc/shadow ("*" locked, "!" disabled). */
  password: string;
}

export interface GroupEffect {
  kind: 'group';
  name: string;
  gid: number;
  members: string[];
  password: string;
}

/** update-alternatives --install: a generic link that the highest-priority choice serves. */
export interface AlternativeEffect {
  kind: 'alternative';
  link: string;
  name: string;
  path: string;
  priority: number;
  slaves: { link: string; name: string; path: string }[];
}

/** Certificates that a CA bundle tool would link and concatenate. */
export interface CaBundleEffect {
  kind: 'ca-bundle';
  /** Relative to the certificate store (e.g. "mozilla/ISRG_Root_X1.crt"). */
  /** Content as base64: certificate files are bytes, and the bundle must reproduce them exactly. */
  certificates: { relPath: string; base64: string }[];
}

/**
 * Filesystem objects a script would create. Paths are absolute, as the script names them (the
 * adapter places them, e.g. for merged-/usr); owners are account names, resolved to ids against
 * the accounts the whole package set defines.
 */

/** A directory with this mode and owner: created if absent, its mode and owner set if present. */
export interface DirectoryEffect {
  kind: 'directory';
  path: string;
  mode: number;
  user: string;
  group: string;
}

/** A symbolic link. With `ifMissing`, nothing a package installs at the path is replaced. */
export interface SymlinkEffect {
  kind: 'symlink';
  path: string;
  target: string;
  ifMissing: boolean;
}

/** A regular file. With `ifMissing`, a file a package installs at the path is kept as it is. */
export interface FileEffect {
  kind: 'file';
  path: string;
  mode: number;
  user: string;
  group: string;
  /** Base64, so effects stay plain JSON whatever the bytes. */
  content: string;
  ifMissing: boolean;
}

export type FilesystemEffect = DirectoryEffect | SymlinkEffect | FileEffect;

export type Effect = UserEffect | GroupEffect | AlternativeEffect | CaBundleEffect | FilesystemEffect;

export function isFilesystemEffect(e: Effect): e is FilesystemEffect {
  return e.kind === 'directory' || e.kind === 'symlink' || e.kind === 'file';
}
