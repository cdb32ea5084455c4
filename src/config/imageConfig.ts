/** image.toml, as the rest of layerpkg sees it after validation. */
export interface ImageConfig {
  /** Absolute path of the image.toml, for messages and relative paths. */
  file: string;
  image: { name: string; tag: string; architectures: string[] };
  repositories: RepositorySection[];
  packages: { seed?: string; include: string[] };
  config: RuntimeConfig;
  layering: { maxLayers: number };
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

/** The hard ceiling on layers: beyond 127, overlayfs mounts fail on common kernels. */
export const MAX_LAYERS_CEILING = 127;
export const DEFAULT_MAX_LAYERS = 100;
