import type { UnpackLimits } from '../../adapters/types.js';

/** image.toml, as the rest of layerpkg sees it after validation. */
export interface ImageConfig {
  /** Absolute path of the image.toml, for messages and relative paths. */
  file: string;
  image: { name: string; tag: string; architectures: string[] };
  repositories: RepositorySection[];
  packages: { seed?: string; include: string[] };
  config: RuntimeConfig;
  layering: { maxLayers: number };
  /** Bounds on what one package may unpack to: a hostile package stops the build, not the machine. */
  limits: UnpackLimits;
  /** Accounts and paths the user asks for; they go through the same engine as script effects. */
  users: UserSpec[];
  groups: GroupSpec[];
  paths: PathSpec[];
}

/** [[users]]: absent ids are allocated (1000 and up, or 100 and up for a system user). */
export interface UserSpec {
  name: string;
  uid?: number;
  /** Primary group, by name or id; absent: a group of the user's name. */
  group?: string | number;
  /** Supplementary groups. */
  groups: string[];
  gecos: string;
  home?: string;
  shell?: string;
  system: boolean;
}

export interface GroupSpec {
  name: string;
  gid?: number;
  members: string[];
  system: boolean;
}

/** [[paths]]: a directory, file or link made in the final layer, declared in tmpfiles.d. */
export interface PathSpec {
  path: string;
  type: 'directory' | 'file' | 'symlink';
  mode?: number;
  user: string | number;
  group: string | number;
  target?: string;
  content?: string;
}

export interface RepositorySection {
  name: string;
  type: string;
  url: string;
  options: Record<string, unknown>;
}

/** The OCI runtime config fields image.toml may set. */
export interface RuntimeConfig {
  env: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  workdir?: string;
  labels: Record<string, string>;
  stopSignal?: string;
}

/**
 * The defaults of [limits], above any real package (the largest Debian and Arch packages unpack
 * to a few GiB; the most files in Debian bookworm: 116,010, papirus-icon-theme), so only a
 * malformed or hostile one meets them. The build holds each entry's metadata (~1 KiB), so the
 * entry limit bounds its memory too (200,000 entries: under 300 MiB, see `npm run bench`).
 */
export const DEFAULT_LIMITS: UnpackLimits = { maxUnpackedBytes: 16 * 1024 ** 3, maxEntries: 200_000 };

/** The hard ceiling on layers: beyond 127, overlayfs mounts fail on common kernels. */
export const MAX_LAYERS_CEILING = 127;
export const DEFAULT_MAX_LAYERS = 100;
