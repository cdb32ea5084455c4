import type { FinalEntry, SelectedAlternative } from '../../adapters/types.js';
import type { AlternativeEffect } from './effects.js';

/**
 * update-alternatives in auto mode: the highest priority choice wins (ties: the first path in
 * byte order, for determinism); /etc/alternatives/<name> points at it and the generic link at
 * /etc/alternatives/<name>. Slaves whose file is not installed are left out, as the tool does.
 */
export function applyAlternatives(
  effects: AlternativeEffect[],
  exists: (absPath: string) => boolean,
  canonical: (absPath: string) => string,
): { selected: SelectedAlternative[]; entries: FinalEntry[] } {
  const byName = new Map<string, AlternativeEffect[]>();
  for (const e of effects) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  const selected: SelectedAlternative[] = [];
  const entries: FinalEntry[] = [];
  for (const name of [...byName.keys()].sort()) {
    const installs = byName.get(name)!.filter((e) => exists(e.path));
    if (installs.length === 0) continue;
    const best = [...installs].sort((a, b) => b.priority - a.priority || (a.path < b.path ? -1 : 1))[0]!;
    const slaveLinks: Record<string, string> = {};
    for (const e of installs) for (const s of e.slaves) slaveLinks[s.name] ??= s.link;
    selected.push({
      name,
      link: best.link,
      best: best.path,
      choices: installs.map((e) => ({ path: e.path, priority: e.priority, slaves: Object.fromEntries(e.slaves.map((s) => [s.name, s.path])) })),
      slaveLinks,
    });
    entries.push({ path: `etc/alternatives/${name}`, type: 'symlink', linkname: best.path });
    entries.push({ path: canonical(best.link), type: 'symlink', linkname: `/etc/alternatives/${name}` });
    for (const s of best.slaves) {
      if (!exists(s.path)) continue;
      entries.push({ path: `etc/alternatives/${s.name}`, type: 'symlink', linkname: s.path });
      entries.push({ path: canonical(s.link), type: 'symlink', linkname: `/etc/alternatives/${s.name}` });
    }
  }
  return { selected, entries };
}
