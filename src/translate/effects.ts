/**
 * The effect model: what maintainer scripts would have done to the filesystem, stated as data.
 * Adapters recognize effects in their format's scripts; src/translate turns them into declarative
 * configuration (sysusers.d, tmpfiles.d, enablement links) and its applied result in the final
 * layer. Nothing here knows a package format.
 */

/** Where a tool would pick a free id: adduser counts up from 100, systemd-sysusers down from 999. */
export interface IdRange {
  min: number;
  max: number;
  order: 'ascending' | 'descending';
}

/**
 * "base": an account of the distribution's seed files (base-passwd's masters), written as is.
 * "script": created by a maintainer script; "image.toml": asked for by the user. Both of those
 * are declared in a sysusers.d file layerpkg writes, and applied from it.
 */
export type AccountOrigin = 'base' | 'script' | 'image.toml';

/** A user as sysusers.d and /etc/passwd know it. */
export interface UserEffect {
  kind: 'user';
  name: string;
  /** A fixed id; absent: allocated from `range`. */
  uid?: number;
  /** Primary group: its id or its name; absent: a group of the user's own name, created when missing. */
  group?: number | string;
  gecos: string;
  home: string;
  shell: string;
  /** /etc/shadow's password field of a base account; created accounts are locked ("!*"), as systemd-sysusers makes them. */
  password?: string;
  origin: AccountOrigin;
  range?: IdRange;
}

export interface GroupEffect {
  kind: 'group';
  name: string;
  gid?: number;
  /** Members of a base group, as its seed file lists them; later members come as `member` effects. */
  members?: string[];
  password?: string;
  origin: AccountOrigin;
  range?: IdRange;
}

/**
 * Account files a package ships as they are (Alpine's and Arch's /etc/passwd, group, shadow):
 * the starting point that created accounts are added to. A file left out is absent.
 */
export interface AccountFilesEffect {
  kind: 'account-files';
  passwd?: string;
  group?: string;
  shadow?: string;
  gshadow?: string;
}

/** A user added to a supplementary group (adduser user group, usermod -aG, sysusers `m`). */
export interface MemberEffect {
  kind: 'member';
  user: string;
  group: string;
  origin: AccountOrigin;
}

/** A sysusers.d file a package ships and a script (or hook) applies: systemd-sysusers on it. */
export interface SysusersEffect {
  kind: 'sysusers';
  /** Absolute path of the file in the image. */
  file: string;
  text: string;
}

/** A tmpfiles.d file a package ships and a script (or hook) applies: systemd-tmpfiles --create on it. */
export interface TmpfilesEffect {
  kind: 'tmpfiles';
  file: string;
  text: string;
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

/** A login shell registered in /etc/shells (add-shell, update-shells). */
export interface LoginShellEffect {
  kind: 'login-shell';
  path: string;
}

/** A systemd unit enabled as `systemctl enable` would: links from its [Install] section. */
export interface EnableUnitEffect {
  kind: 'enable-unit';
  /** The unit file's absolute path in the image, e.g. /lib/systemd/system/nginx.service. */
  path: string;
  /** Its text, for WantedBy=, RequiredBy=, Alias= and Also=. */
  text: string;
  /** For a template unit (getty@.service), the instance enabled (tty1); else its DefaultInstance=. */
  instance?: string;
}

/** A SysV init script enabled in its default runlevels (update-rc.d NAME defaults). */
export interface EnableInitScriptEffect {
  kind: 'enable-initscript';
  name: string;
  /** The script's text, for its LSB header's Default-Start and Default-Stop. */
  text: string;
}

/**
 * `update-rc.d NAME disable` after its `defaults`: the init script's start links become stop
 * links, and, as update-rc.d also runs `systemctl disable`, NAME.service is not enabled.
 */
export interface DisableServiceEffect {
  kind: 'disable-service';
  name: string;
}

/**
 * What a command would have made that an image leaves out on purpose: a per-machine secret or
 * identity (SSH host keys, the machine ID), or a cache its reader or a boot-time service builds
 * again (py3compile's bytecode, the journal catalog). Reported, never applied.
 */
export interface LeftOutEffect {
  kind: 'left-out';
  tool: string;
  /** Why, and who makes it instead, for the report. */
  reason: string;
  /** Files it would have made (rndc-confgen's key): a script's owner or mode for them goes with it. */
  paths?: string[];
}

/**
 * `ldconfig`: /etc/ld.so.cache made from the shared objects the whole image installs. The adapter
 * says how its ldconfig was built: the generator string it writes, the system directories it
 * scans after ld.so.conf, legacy hwcap names, and the root links that lead into /usr.
 */
export interface LdCacheEffect {
  kind: 'ld-cache';
  generator: string;
  systemDirs: string[];
  hwcapBits: Record<string, number>;
  /** Top-level links such as /lib → usr/lib: ldconfig reaches libraries through them. */
  rootLinks: { path: string; target: string }[];
}

/**
 * `dpkg-divert --add`: dpkg installs any other package's `path` at `divertTo` from now on. On a
 * fresh image nothing moves (renaming a present file is not translated); the record is what
 * later dpkg runs need. `package` is ":" for a local diversion, as dpkg writes it.
 */
export interface DiversionEffect {
  kind: 'diversion';
  path: string;
  divertTo: string;
  package: string;
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
  /**
   * A copy of a file a package ships whose bytes unpack did not keep (apache2's `cp` of
   * apache2-data's index.html): `content` is empty and the builder reads them from that
   * package's layer. `mode` is not used: the copy has the shipped mode, under umask 022 unless
   * `keepMode` (cp -p, -a).
   */
  copyOf?: { path: string; keepMode: boolean };
}

/**
 * Owner, mode or file capabilities set on a path a package or an earlier effect made (chown,
 * chmod, dpkg-statoverride, setcap). Absent fields stay as they are. `override` marks a dpkg statoverride, which
 * the package database also records.
 */
export interface AttributesEffect {
  kind: 'attributes';
  path: string;
  mode?: number;
  /** A symbolic chmod (`u+s`, `g+rwx`): bits cleared, then bits added, to the mode the path has. */
  modeChange?: ModeChange;
  user?: string;
  group?: string;
  /** `chown USER:`: the group is the user's login group, as the image's passwd gives it. */
  loginGroup?: boolean;
  override?: boolean;
  /** File capabilities as setcap's text (`cap_net_raw+ep`); of a regular file only. */
  capability?: string;
}

/** A relative mode change: the new mode is `(mode & ~clear) | add`. `text` is the script's own. */
export interface ModeChange {
  clear: number;
  add: number;
  text: string;
}

/** The mode a path has after a relative change. */
export function changedMode(mode: number, change: Pick<ModeChange, 'clear' | 'add'>): number {
  return (mode & ~change.clear) | change.add;
}

/** One relative change that does what `first`, then `then`, do. */
export function composedModeChange(first: Pick<ModeChange, 'clear' | 'add'>, then: Pick<ModeChange, 'clear' | 'add'>): Pick<ModeChange, 'clear' | 'add'> {
  return { clear: first.clear | then.clear, add: (first.add & ~then.clear) | then.add };
}

/**
 * `rm` of a path an earlier effect made (a preinst's marker file that its postinst removes):
 * that path, and with `recursive` everything under it, is not made after all. Of a file a
 * package installs, it stands only where a later effect makes the path again (dash's /bin/sh);
 * anything else would need a whiteout and is reported.
 */
export interface RemoveEffect {
  kind: 'remove';
  path: string;
  recursive: boolean;
}

export type FilesystemEffect = DirectoryEffect | SymlinkEffect | FileEffect | AttributesEffect | RemoveEffect;

export type AccountEffect = UserEffect | GroupEffect | MemberEffect | AccountFilesEffect;

export type Effect =
  | AccountEffect
  | SysusersEffect
  | TmpfilesEffect
  | AlternativeEffect
  | CaBundleEffect
  | LoginShellEffect
  | EnableUnitEffect
  | EnableInitScriptEffect
  | DisableServiceEffect
  | LeftOutEffect
  | LdCacheEffect
  | DiversionEffect
  | FilesystemEffect;

export function isFilesystemEffect(e: Effect): e is FilesystemEffect {
  return e.kind === 'directory' || e.kind === 'symlink' || e.kind === 'file' || e.kind === 'attributes' || e.kind === 'remove';
}

export function isAccountEffect(e: Effect): e is AccountEffect {
  return e.kind === 'user' || e.kind === 'group' || e.kind === 'member' || e.kind === 'account-files';
}
