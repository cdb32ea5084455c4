import os from 'node:os';
import path from 'node:path';

/** --cache-dir, else $LAYERPKG_CACHE_DIR, else $XDG_CACHE_HOME/layerpkg, else ~/.cache/layerpkg. */
export function resolveCacheDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.LAYERPKG_CACHE_DIR) return path.resolve(env.LAYERPKG_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'layerpkg');
  return path.join(os.homedir(), '.cache', 'layerpkg');
}
