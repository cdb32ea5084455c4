/**
 * The one seam of layerpkg: everything a package format knows lives behind this interface.
 * The core (resolver, fetcher, layer writer, cache, OCI) never branches on the format.
 */
import type { Readable } from 'node:stream';
import type { AlternativeEffect, Effect } from '../src/translate/effects.js';
import type { ImageEntry } from '../src/translate/ldsoCache.js';

/** A repository as configured in image.toml, after the core checked name/type/url. */
export interface RepositoryConfig {
  name: string;
  type: string;
  url: string;
  /** Adapter-specific fields (suite, components, keyring...), validated by `Adapter.repositoryOptions`. */
  options: Record<string, unknown>;
  /** Directory of the image.toml, for resolving relative paths such as keyrings. */
  baseDir: string;
}

/** One index file pinned in the lock (InRelease, Packages.xz, APKINDEX...). */
export interface LockedIndex {
  url: string;
  sha256: string;
  size: number;
  /** How the file was trusted: "openpgp:<fingerprint>" or "sha256 from <url>". */
  verifiedBy: string;
}

/** A dependency on a name, optionally versioned; `arch` is a format-specific qualifier (":any"). */
export interface Dependency {
  name: string;
  op?: string;
  version?: string;
  archQualifier?: string;
}

/** Alternatives: any one of them satisfies the group (`a | b`). */
export type DependencyGroup = Dependency[];

export interface Provide {
  name: string;
  version?: string;
}

/** A package as an index describes it: enough to resolve and to download it. */
export interface PackageRecord {
  name: string;
  version: string;
  arch: string;
  repository: string;
  url: string;
  /**
   * The file's sha256, when the index gives it (Debian). Formats whose index pins a package by
   * another digest leave it out and set `checksum`; the file is then checked by `verifyDownload`.
   */
  sha256?: string;
  /** The format's own pin of the package, recorded in the lock (apk: `C:`, "Q1" + SHA-1 of its control stream). */
  checksum?: string;
  size: number;
  /** Hard dependencies, in the order the format lists them. */
  depends: DependencyGroup[];
  provides: Provide[];
  conflicts: Dependency[];
  /** Format-specific selection tags a seed can pick by ("essential", "priority:required"). */
  tags: string[];
  /** Multi-architecture behaviour ("same", "foreign", "allowed"), where the format has one. */
  multiArch?: string;
  /** Preference among several providers of one name, for `Adapter.orderProviders` (apk `provider_priority`). */
  providerPriority?: number;
  /**
   * Installed automatically once every one of these is satisfied by the selection (apk
   * `install_if`: e.g. a -doc or -openrc subpackage follows its parent) and none of
   * `installIfNot` is; skipped when it would not install cleanly beside the selection.
   */
  installIf?: Dependency[];
  installIfNot?: Dependency[];
  /** Optional dependencies (pacman optdepends): never installed for their own sake, reported to the user. */
  optional?: { name: string; text: string }[];
}

/** One way to satisfy a dependency on a name: the package of that name, or one providing it. */
export interface ProviderCandidate {
  pkg: PackageRecord;
  /** The version the name is had at: the package's own, or the provide's (none if unversioned). */
  version?: string;
  isProvide: boolean;
}

export interface IndexContext {
  arch: string;
  /** Download a URL to the cache after an optional integrity check; returns its bytes. */
  fetchBytes(url: string, expect?: { sha256: string; size?: number }): Promise<Buffer>;
  /** The same, for a file that may be absent (an optional signature): undefined when the server says 404. */
  fetchIfExists(url: string): Promise<Buffer | undefined>;
}

export interface RepositoryIndex {
  indexes: LockedIndex[];
  packages: PackageRecord[];
  /** Seconds since the epoch of the index's own date, for SOURCE_DATE_EPOCH. */
  date?: number;
}

/** A package as the lock pins it, for adapter checks at build time. */
export interface LockedPackageRef {
  name: string;
  version: string;
  arch: string;
  url: string;
  size: number;
  checksum?: string;
}

/** A tar-like entry of the future layer: path relative to the root, no leading "/" or "./". */
export interface LayerEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes by name, written as PAX SCHILY.xattr records. */
  xattrs?: Record<string, Buffer>;
}

/** What an adapter's unpack yields: entries with their bodies, in the package's own order. */
export interface UnpackedEntry {
  entry: LayerEntry;
  /**
   * Present for regular files; must be consumed before the next entry is produced. A plain
   * iterable, not a stream: a package of 200,000 files would otherwise make 200,000 streams.
   */
  body?: AsyncIterable<Buffer>;
}

/**
 * Format metadata the final layer needs later (control fields, file list, captured files).
 * Stored as JSON in the cache beside the layer, so a warm build needs no unpack.
 */
export type PackageMetadata = { name: string; version: string; arch: string } & Record<string, unknown>;

/** What one package may unpack to ([limits] in image.toml, or the build's flags). */
export interface UnpackLimits {
  /** Decompressed bytes of the package's payload (its data tar), headers included. */
  maxUnpackedBytes: number;
  /** Entries of the payload that reach the layer. */
  maxEntries: number;
}

/**
 * A fresh path for a large intermediate file (a big library read back by offset): in the cache's
 * tmp/, so the start of the next run removes it if this one is killed.
 */
export type ScratchPath = (suffix: string) => string;

export interface UnpackResult {
  entries: AsyncIterable<UnpackedEntry>;
  /** Resolves after `entries` has been fully consumed. */
  metadata: Promise<PackageMetadata>;
}

/** Recognized script effects of one package plus what could not be translated. */
export interface ScriptEffects {
  effects: Effect[];
  untranslated: string[];
  /** The scripts the package has that run on a fresh install (for the report's coverage figure). */
  scripts?: string[];
}

export interface InstalledDirectory {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/** What a script can look at while it runs: the unpacked package set, before any script. */
export interface ScriptContext {
  /** What is at an absolute path once every package is unpacked; undefined when unknown. */
  pathType(absPath: string): 'file' | 'directory' | 'absent' | undefined;
  /**
   * The same, as a script that runs before the package's own files are unpacked sees it
   * (preinst, .pre-install): the package's own paths are absent unless another package has them.
   */
  pathTypeBeforeUnpack(absPath: string): 'file' | 'directory' | 'absent' | undefined;
  /** Every package of the image (triggers: one package's files make another's script run). */
  packages: PackageMetadata[];
  /** A diversion of the path made by the scripts of a package configured earlier ("package" is ":" when local). */
  diversion?(absPath: string): { divertTo: string; package: string } | undefined;
  /** Whether the scripts of a package configured earlier installed an alternative of this name. */
  hasAlternative?(name: string): boolean;
  /** Whether the scripts of a package configured earlier put a stat override on the path. */
  statOverridden?(absPath: string): boolean;
  /**
   * A directory's mode and owner (names, or ids as digits) as a script would stat it: as shipped,
   * or as the scripts of packages configured earlier left it. Undefined when not a directory.
   */
  directory?(absPath: string): { mode: number; user: string; group: string } | undefined;
  /** The text of a file the scripts of packages configured earlier wrote (libc-bin's nsswitch.conf). */
  fileText?(absPath: string): string | undefined;
  /**
   * What sh's pathname expansion gives for a word whose last component is a glob: the matching
   * paths, sorted (none: the word stays as written). Undefined for a pattern not modelled.
   * `globBeforeUnpack` is the preinst's, before the package's own files are there.
   */
  glob?(pattern: string): string[] | undefined;
  /** The choices earlier scripts installed for an alternative (`update-alternatives --query`). */
  alternativeChoices?(name: string): AlternativeEffect[];
  globBeforeUnpack?(pattern: string): string[] | undefined;
}

export interface FinalContext {
  arch: string;
  /** The names image.toml asked for (packages.include), as a package manager's "world" records them. */
  requested: string[];
  /** The locked packages the user selected (include or seed), not pulled in as dependencies. */
  explicit: string[];
  sourceDateEpoch: number;
  repositories: RepositoryConfig[];
  /** Everything the translation decided (which alternative won, which users exist...). */
  applied: AppliedState;
}

export interface AppliedState {
  alternatives: SelectedAlternative[];
  /** dpkg-statoverride entries (owner and group by name, as dpkg records them). */
  statOverrides: { path: string; user: string; group: string; mode: number }[];
  /** dpkg-divert --add records, in the order they were made. */
  diversions: { path: string; divertTo: string; package: string }[];
}

export interface SelectedAlternative {
  name: string;
  link: string;
  /** The winning choice in auto mode. */
  best: string;
  choices: { path: string; priority: number; slaves: Record<string, string> }[];
  /** Slave name → link, for every slave any choice declared. */
  slaveLinks: Record<string, string>;
}

/** A file of the final layer: a path and its content or link target. */
export type FinalEntry =
  | {
      path: string;
      type: 'file';
      mode: number;
      content: Buffer;
      uid?: number;
      gid?: number;
      /** Default SOURCE_DATE_EPOCH (never later). */
      mtime?: number;
      /** Extended attributes by name (security.capability from setcap). */
      xattrs?: Record<string, Buffer>;
    }
  | { path: string; type: 'directory'; mode: number; uid?: number; gid?: number }
  | { path: string; type: 'symlink'; linkname: string };

export interface Adapter {
  readonly type: string;
  /** Check and normalize the adapter-specific fields of a repository; throws UserError on bad input. */
  repositoryOptions(repo: { name: string; url: string; options: Record<string, unknown> }, file: string): Record<string, unknown>;
  /**
   * Check a downloaded package file (still outside the cache) the way the format trusts it: for
   * packages locked without a sha256, against `checksum` and size (apk); otherwise against a
   * detached signature the format requires (pacman). Throws UserError. `fetchIfExists` gets
   * companion files such as `<url>.sig` (undefined on a 404).
   */
  verifyDownload?(file: string, pkg: LockedPackageRef, repo: RepositoryConfig, ctx: { fetchIfExists(url: string): Promise<Buffer | undefined> }): Promise<void>;
  /** Download, verify and parse one repository's indexes for one architecture. */
  readIndex(repo: RepositoryConfig, ctx: IndexContext): Promise<RepositoryIndex>;
  /** Names of the packages a named seed ("required", "essential") selects from all candidates. */
  seed(seedName: string, candidates: PackageRecord[]): string[];
  /** Packages the image layout itself implies (Debian: usr-is-merged, since layers are merged-/usr). */
  implicitPackages(candidates: PackageRecord[]): string[];
  compareVersions(a: string, b: string): number;
  /**
   * Which of several packages of one name (from different repositories) is a candidate:
   * "newest" (apt, apk; the default) or "first-repository" (pacman: the first repository in
   * image.toml's order that has the name wins, whatever the version).
   */
  readonly candidatePolicy?: 'newest' | 'first-repository';
  /** Whether `candidate` (a package, or one of its provides) satisfies `dep`. */
  satisfies(dep: Dependency, candidate: { name: string; version?: string; arch: string; multiArch?: string; isProvide: boolean }, targetArch: string): boolean;
  formatDependency(dep: DependencyGroup): string;
  /**
   * Several candidates satisfy a dependency on `name` (or a requested name): order them best
   * first, leaving out those the format never picks on its own. An empty answer for a non-empty
   * list makes it the user's choice. Without this: the package itself, then base-system
   * providers, then by name; a requested virtual name needs a sole provider.
   */
  orderProviders?(name: string, candidates: ProviderCandidate[]): ProviderCandidate[];
  /**
   * Stream a downloaded package file into normalized layer entries plus its metadata. `label`
   * names the package (name, version, URL) in error messages. The payload is refused, while it
   * streams, once it outgrows `limits` or the installed size the package declares.
   */
  unpack(file: string, label: string, limits: UnpackLimits, scratch?: ScratchPath): UnpackResult;
  /** Whether `later` may overwrite a path `earlier` also ships (Debian Replaces). */
  mayOverwrite(later: PackageMetadata, earlier: PackageMetadata): boolean;
  /** What the maintainer scripts would have done on a fresh install, recognized without running them. */
  scriptEffects(pkg: PackageMetadata, ctx: ScriptContext): ScriptEffects;
  /**
   * The order the format's installer runs the packages' scripts in, when it is not the layer
   * order (dpkg under apt or mmdebstrap configures the Essential set first): later scripts see
   * what earlier ones made. Without this: the layer order.
   */
  configureOrder?(packages: PackageMetadata[]): PackageMetadata[];
  /** Entries of the final layer: the package database and the format's rootfs conventions. */
  database(packages: PackageMetadata[], ctx: FinalContext): FinalEntry[];
  /** Paths a package installs (canonical, relative), for conflict checks and effect targets. */
  installedPaths(pkg: PackageMetadata): string[];
  /**
   * Directories a package installs (canonical, relative path, mode, owner): scripts' `[ -d … ]`
   * tests see empty ones too, and a chown on one keeps the mode it was shipped with.
   */
  installedDirectories(pkg: PackageMetadata): InstalledDirectory[];
  /** Symlinks a package installs (canonical, relative path; target as shipped), for the checks across packages. */
  installedSymlinks(pkg: PackageMetadata): { path: string; target: string }[];
  /**
   * What ldconfig reads of a package, as absolute paths where they land: its ELF shared objects,
   * the symlinks with shared-object names, and ld.so.conf files with their text. Formats whose
   * scripts never run ldconfig need not say.
   */
  ldconfigInputs?(pkg: PackageMetadata): ImageEntry[];
  /** The OCI platform of a format's architecture name (Debian "arm64" → arm64/v8). */
  platform(arch: string): { architecture: string; variant?: string };
  /** Where an absolute path a script names physically lands (merged-/usr), relative to the root. */
  canonicalPath(absPath: string): string;
}
