import type { ProviderCandidate } from '../types.js';
import { compareApkVersions } from './version.js';

/**
 * apk-tools 2.12's choice among providers (solver.c compare_providers, for a fresh install with
 * no pinning): the highest version the name is had at, then the highest provider_priority, then
 * the name for a stable answer. A provider of the name without a version and without
 * provider_priority is never picked on its own (select_package) — unless it is the only one, which
 * apk's comment promises and a fresh root needs (Alpine ≤ 3.16's `/bin/sh`, busybox alone).
 */
export function orderApkProviders(_name: string, candidates: ProviderCandidate[]): ProviderCandidate[] {
  const eligible = candidates.length === 1 ? candidates : candidates.filter((c) => !c.isProvide || c.version !== undefined || (c.pkg.providerPriority ?? 0) > 0);
  return [...eligible].sort((a, b) => versionOrder(b, a) || (b.pkg.providerPriority ?? 0) - (a.pkg.providerPriority ?? 0) || (a.pkg.name < b.pkg.name ? -1 : a.pkg.name > b.pkg.name ? 1 : 0));
}

/** Unversioned ranks below any version, as apk's blob compare puts an empty version first. */
function versionOrder(a: ProviderCandidate, b: ProviderCandidate): number {
  if (a.version === undefined || b.version === undefined) return Number(a.version !== undefined) - Number(b.version !== undefined);
  return compareApkVersions(a.version, b.version);
}
