import type { Adapter, AppliedState, FinalEntry, PackageMetadata } from '../../adapters/types.js';
import { accountFiles } from './accounts.js';
import { applyAlternatives } from './alternatives.js';
import { buildCaCertificates } from './caCertificates.js';
import { isFilesystemEffect, type AlternativeEffect, type CaBundleEffect, type Effect, type GroupEffect, type UserEffect } from './effects.js';
import { applyFilesystem } from './filesystem.js';

export interface Translation {
  entries: FinalEntry[];
  applied: AppliedState;
  /** Per package, what its scripts would have done that layerpkg did not reproduce. */
  untranslated: { package: string; items: string[] }[];
}

/**
 * Ask the adapter what each package's scripts would have done, then apply all effects together:
 * accounts, alternatives and the CA bundle depend on the whole package set, not on one package.
 */
export function translateEffects(adapter: Adapter, packages: PackageMetadata[], sourceDateEpoch: number): Translation {
  const effects: Effect[] = [];
  const untranslated: Translation['untranslated'] = [];
  for (const pkg of packages) {
    const found = adapter.scriptEffects(pkg);
    effects.push(...found.effects);
    if (found.untranslated.length) untranslated.push({ package: pkg.name, items: found.untranslated });
  }
  const installed = new Set(packages.flatMap((p) => adapter.installedPaths(p)));
  const exists = (absPath: string) => installed.has(adapter.canonicalPath(absPath));
  const entries: FinalEntry[] = [];

  const users = effects.filter((e): e is UserEffect => e.kind === 'user');
  const groups = effects.filter((e): e is GroupEffect => e.kind === 'group');
  // First, so that the dedicated translations below win where both write a path.
  const filesystem = effects.filter(isFilesystemEffect);
  if (filesystem.length) {
    const applied = applyFilesystem(filesystem, { users, groups, installed, canonical: (p) => adapter.canonicalPath(p) });
    entries.push(...applied.entries);
    if (applied.unresolved.length) untranslated.push({ package: '(owners)', items: applied.unresolved });
  }
  if (users.length || groups.length) entries.push(...accountFiles(users, groups, sourceDateEpoch));

  const alternatives = applyAlternatives(
    effects.filter((e): e is AlternativeEffect => e.kind === 'alternative'),
    exists,
    (p) => adapter.canonicalPath(p),
  );
  entries.push(...alternatives.entries);

  const bundles = effects.filter((e): e is CaBundleEffect => e.kind === 'ca-bundle');
  if (bundles.length) {
    const certs = bundles.flatMap((b) => b.certificates).map((c) => ({ relPath: c.relPath, content: Buffer.from(c.base64, 'base64') }));
    const ca = buildCaCertificates(certs);
    entries.push({ path: 'etc/ca-certificates.conf', type: 'file', mode: 0o644, content: ca.confFile });
    // Like the real script, no bundle at all when no certificate was added.
    if (ca.bundle.length) entries.push({ path: 'etc/ssl/certs/ca-certificates.crt', type: 'file', mode: 0o644, content: ca.bundle });
    for (const l of ca.links) entries.push({ path: l.path, type: 'symlink', linkname: l.target });
  }
  return { entries, applied: { alternatives: alternatives.selected }, untranslated };
}
