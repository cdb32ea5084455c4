import { UserError } from '../../src/errors.js';
import type { PackageRecord } from '../types.js';

/**
 * The base sets Debian's installers start from. "required" is mmdebstrap's minbase variant:
 * every Essential: yes package, every Priority: required package, and apt; "important" and
 * "standard" add those priorities, as mmdebstrap's variants of the same names do.
 */
const SEEDS: Record<string, (p: PackageRecord) => boolean> = {
  essential: (p) => p.tags.includes('essential'),
  required: (p) => p.tags.includes('essential') || p.tags.includes('priority:required') || p.name === 'apt',
  important: (p) =>
    p.tags.includes('essential') || p.tags.includes('priority:required') || p.tags.includes('priority:important') || p.name === 'apt',
  // debootstrap's and tasksel's "standard system": everything of Priority standard and above.
  standard: (p) =>
    p.tags.includes('essential') ||
    p.tags.includes('priority:required') ||
    p.tags.includes('priority:important') ||
    p.tags.includes('priority:standard') ||
    p.name === 'apt',
};

export function debSeed(seedName: string, candidates: PackageRecord[]): string[] {
  const pick = SEEDS[seedName];
  if (!pick) throw new UserError(`unknown packages.seed "${seedName}" for deb repositories; use one of ${Object.keys(SEEDS).join(', ')}`);
  return [...new Set(candidates.filter(pick).map((p) => p.name))].sort();
}
