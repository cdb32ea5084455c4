import type { RuntimeConfig } from '../config/imageConfig.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface HistoryEntry {
  created_by: string;
  comment?: string;
}

/** The OCI image config: platform, runtime settings from image.toml, diff_ids, one history per layer. */
export function ociImageConfig(args: {
  platform: { architecture: string; variant?: string };
  runtime: RuntimeConfig;
  diffIds: string[];
  history: HistoryEntry[];
  created: number;
}): Record<string, unknown> {
  const { runtime } = args;
  const env = { PATH: DEFAULT_PATH, ...runtime.env };
  const created = new Date(args.created * 1000).toISOString();
  return {
    architecture: args.platform.architecture,
    ...(args.platform.variant ? { variant: args.platform.variant } : {}),
    os: 'linux',
    created,
    config: {
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(runtime.entrypoint ? { Entrypoint: runtime.entrypoint } : {}),
      ...(runtime.cmd ? { Cmd: runtime.cmd } : {}),
      ...(runtime.user ? { User: runtime.user } : {}),
      ...(runtime.workdir ? { WorkingDir: runtime.workdir } : {}),
      ...(Object.keys(runtime.labels).length ? { Labels: runtime.labels } : {}),
      ...(runtime.stopSignal ? { StopSignal: runtime.stopSignal } : {}),
    },
    rootfs: { type: 'layers', diff_ids: args.diffIds },
    history: args.history.map((h) => ({ created, ...h })),
  };
}
