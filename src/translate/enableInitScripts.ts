import type { FinalEntry } from '../../adapters/types.js';
import type { EnableInitScriptEffect } from './effects.js';

/** Default-Start and Default-Stop of an init script's LSB header (### BEGIN INIT INFO). */
export function lsbRunlevels(text: string): { start: string[]; stop: string[] } | undefined {
  const begin = text.indexOf('### BEGIN INIT INFO');
  const end = text.indexOf('### END INIT INFO', begin);
  if (begin < 0 || end < 0) return undefined;
  const field = (name: string): string[] => {
    const m = new RegExp(`^#\\s*${name}:[ \\t]*(.*)$`, 'm').exec(text.slice(begin, end));
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
  };
  return { start: field('Default-Start'), stop: field('Default-Stop') };
}

/**
 * The rc links `update-rc.d NAME defaults` makes when insserv is absent (as in a minimal Debian):
 * S01NAME in each Default-Start runlevel and K01NAME in each Default-Stop one, relative links
 * to ../init.d/NAME; for one `update-rc.d NAME disable` turned off, K01NAME in the start
 * runlevels too. A script without an LSB header gets no links and is reported, as update-rc.d
 * refuses it.
 */
export function enableInitScripts(effects: EnableInitScriptEffect[], disabled: ReadonlySet<string> = new Set()): { entries: FinalEntry[]; problems: string[] } {
  const entries: FinalEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of effects) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    const levels = lsbRunlevels(e.text);
    if (levels === undefined) {
      problems.push(`/etc/init.d/${e.name}: no LSB header (### BEGIN INIT INFO), so update-rc.d would make no links`);
      continue;
    }
    // `update-rc.d NAME disable` renames each start link to a stop link of the same number.
    const start = disabled.has(e.name) ? 'K' : 'S';
    for (const l of levels.start) entries.push({ path: `etc/rc${l}.d/${start}01${e.name}`, type: 'symlink', linkname: `../init.d/${e.name}` });
    for (const l of levels.stop) entries.push({ path: `etc/rc${l}.d/K01${e.name}`, type: 'symlink', linkname: `../init.d/${e.name}` });
  }
  return { entries, problems };
}
