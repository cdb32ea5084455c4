import { UserError } from '../src/errors.js';
import { apkAdapter } from './apk/index.js';
import { debAdapter } from './deb/index.js';
import { pacmanAdapter } from './pacman/index.js';
import type { Adapter } from './types.js';

/** The one place that maps a repository `type` to its adapter. */
const adapters: Record<string, Adapter> = { deb: debAdapter, apk: apkAdapter, pacman: pacmanAdapter };

export function getAdapter(type: string, where: string): Adapter {
  const adapter = adapters[type];
  if (!adapter) throw new UserError(`${where}: unknown repository type "${type}"; supported: ${Object.keys(adapters).join(', ')}`);
  return adapter;
}
