import { pkginfoValues, type ApkMetadata } from './apkMetadata.js';
import { parseApkDependencies } from './dependency.js';

/**
 * The order apk installs a package set in, which is the order of everything it records
 * (installed, scripts.tar, triggers): depth-first from the world names in sorted order, each
 * package after its dependencies in their `depend` order; a package whose install_if has just
 * become true follows at once. Packages nothing reaches come last, by name.
 */
export function installOrder(packages: ApkMetadata[], world: string[]): ApkMetadata[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const provider = new Map<string, ApkMetadata>();
  for (const p of packages) {
    for (const provide of atoms(p, 'provides')) if (!provider.has(provide.name)) provider.set(provide.name, p);
  }
  const find = (name: string) => byName.get(name) ?? provider.get(name);
  const conditional = packages.filter((p) => atoms(p, 'install_if').length > 0);
  const done = new Set<ApkMetadata>();
  const visiting = new Set<ApkMetadata>();
  const order: ApkMetadata[] = [];

  const visit = (pkg: ApkMetadata): void => {
    if (done.has(pkg) || visiting.has(pkg)) return; // a dependency cycle installs in visit order
    visiting.add(pkg);
    for (const dep of atoms(pkg, 'depend')) {
      const target = dep.conflict ? undefined : find(dep.name);
      if (target) visit(target);
    }
    visiting.delete(pkg);
    done.add(pkg);
    order.push(pkg);
    for (const next of conditional) {
      if (!done.has(next) && atoms(next, 'install_if').every((c) => { const t = find(c.name); return t !== undefined && done.has(t); })) visit(next);
    }
  };

  for (const name of [...world].sort()) {
    const pkg = find(name);
    if (pkg) visit(pkg);
  }
  for (const pkg of [...packages].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(pkg);
  return order;
}

function atoms(meta: ApkMetadata, key: string) {
  return pkginfoValues(meta, key).flatMap((v) => parseApkDependencies(v, `${meta.name} .PKGINFO ${key}`, { lenient: true }));
}
