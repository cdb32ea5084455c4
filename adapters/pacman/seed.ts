import { UserError } from '../../src/errors.js';
import type { PackageRecord } from '../types.js';

/** A pacman seed is a package group, as `pacman -S base-devel` installs every member. */
export function pacmanSeed(group: string, candidates: PackageRecord[]): string[] {
  const members = [...new Set(candidates.filter((p) => p.tags.includes(`group:${group}`)).map((p) => p.name))].sort();
  if (members.length === 0) {
    const groups = [...new Set(candidates.flatMap((p) => p.tags.filter((t) => t.startsWith('group:')).map((t) => t.slice(6))))].sort();
    throw new UserError(`packages.seed "${group}": no package of the pacman repositories is in that group${groups.length ? `; groups there: ${groups.slice(0, 20).join(', ')}` : ''}`);
  }
  return members;
}
