import { createHash } from 'node:crypto';

export interface PlannedPackage {
  name: string;
  size: number;
}

export interface LayerPlan<T extends PlannedPackage> {
  /** The packages of one layer, sorted by name; one package unless grouped. */
  packages: T[];
  grouped: boolean;
}

/**
 * One layer per package while the budget allows (the final layer takes one slot). Above it, the
 * largest packages keep their own layer — they are the ones worth sharing and re-pulling alone —
 * and the rest go to a fixed number of groups chosen by a hash of the package *name*, so a new
 * version of a package changes only its own group's layer.
 */
export function planLayers<T extends PlannedPackage>(packages: T[], maxLayers: number): LayerPlan<T>[] {
  const byName = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const budget = maxLayers - 1;
  if (byName.length <= budget) return byName.map((p) => ({ packages: [p], grouped: false }));

  const groupCount = Math.max(1, Math.min(budget - 1, Math.ceil(budget / 5)));
  const ownCount = budget - groupCount;
  const largest = new Set([...byName].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1)).slice(0, ownCount));
  const groups: T[][] = Array.from({ length: groupCount }, () => []);
  for (const p of byName) if (!largest.has(p)) groups[bucketOf(p.name, groupCount)]!.push(p);

  return [
    ...byName.filter((p) => largest.has(p)).map((p) => ({ packages: [p], grouped: false })),
    ...groups.filter((g) => g.length > 0).map((g) => ({ packages: g, grouped: true })),
  ];
}

function bucketOf(name: string, buckets: number): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) % buckets;
}
