/**
 * The order dpkg runs maintainer scripts in on a fresh install, as far as it matters to what
 * they see: the Essential set first (mmdebstrap and debootstrap set it up before the rest), then
 * every package after what it Depends or Pre-Depends on, so a later script finds what an earlier
 * one made (libpam-systemd's pam-auth-update after libpam-runtime's). A dependency cycle, which
 * dpkg also breaks somewhere, is broken where the walk enters it (packages in their given order).
 */
import type { PackageMetadata } from '../types.js';
import { asDeb, controlField } from './debMetadata.js';
import { parseProvides, parseRelationField } from './relations.js';

export function debConfigureOrder(packages: PackageMetadata[]): PackageMetadata[] {
  const byName = new Map<string, PackageMetadata>();
  for (const p of packages) byName.set(p.name, p);
  for (const p of packages) {
    const provides = controlField(asDeb(p), 'Provides');
    for (const v of provides ? parseProvides(provides) : []) if (!byName.has(v.name)) byName.set(v.name, p);
  }
  const dependencies = (p: PackageMetadata): PackageMetadata[] => {
    const fields = ['Pre-Depends', 'Depends'].map((f) => controlField(asDeb(p), f)).filter((f): f is string => f !== undefined);
    const out: PackageMetadata[] = [];
    for (const group of fields.flatMap((f) => parseRelationField(f))) {
      // The first alternative the image has is the one that satisfied it.
      const chosen = group.map((d) => byName.get(d.name)).find((x) => x !== undefined);
      if (chosen && chosen !== p) out.push(chosen);
    }
    return out;
  };
  const essential = (p: PackageMetadata) => controlField(asDeb(p), 'Essential') === 'yes';
  const order: PackageMetadata[] = [];
  const state = new Map<PackageMetadata, 'visiting' | 'done'>();
  const visit = (p: PackageMetadata, within: (x: PackageMetadata) => boolean) => {
    if (state.has(p) || !within(p)) return;
    state.set(p, 'visiting');
    for (const d of dependencies(p)) visit(d, within);
    state.set(p, 'done');
    order.push(p);
  };
  for (const p of packages) visit(p, essential);
  for (const p of packages) visit(p, () => true);
  return order;
}
