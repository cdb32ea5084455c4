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
  certificates: { relPath: string; content: string }[];
}

export type Effect = UserEffect | GroupEffect | AlternativeEffect | CaBundleEffect;
