/**
 * OpenRC's `rc-update add SERVICE RUNLEVEL…` as Alpine package scripts use it: the link
 * /etc/runlevels/RUNLEVEL/SERVICE → /etc/init.d/SERVICE, which is all rc-update leaves behind.
 */
import type { SymlinkEffect } from '../../src/translate/effects.js';
import type { ScriptContext } from '../types.js';

export type OpenrcResult = { effects: SymlinkEffect[] } | { unrecognized: string };

export function rcUpdate(args: string[], ctx: Pick<ScriptContext, 'pathType'>): OpenrcResult {
  const words = args.filter((a) => a !== '-q' && a !== '--quiet');
  const [verb, service, ...levels] = words;
  if (verb !== 'add' || service === undefined || words.some((w) => w.startsWith('-') || /[$`]/.test(w))) {
    return { unrecognized: 'only `rc-update add SERVICE RUNLEVEL…` with known words is translated' };
  }
  // Without a runlevel rc-update picks the running one; while building there is none to ask.
  if (levels.length === 0) return { unrecognized: 'no runlevel named; rc-update would use the running one' };
  if (ctx.pathType(`/etc/init.d/${service}`) !== 'file') return { unrecognized: `/etc/init.d/${service} is not in the image` };
  const missing = levels.find((l) => ctx.pathType(`/etc/runlevels/${l}`) !== 'directory');
  if (missing !== undefined) return { unrecognized: `runlevel ${missing} does not exist in the image` };
  return { effects: levels.map((l) => ({ kind: 'symlink', path: `/etc/runlevels/${l}/${service}`, target: `/etc/init.d/${service}`, ifMissing: true })) };
}
