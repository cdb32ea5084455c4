import { pkginfoValues, type ApkMetadata } from './apkMetadata.js';
import { parseApkDependencies, type ApkDependency } from './dependency.js';

/**
 * The order apk installs a package set in, which is the order of everything it records
 * (installed, scripts.tar, triggers): depth-first from the world names in sorted order, each
 * package after its dependencies in their `depend` order. After each package, the install_if
 * packages that name it follow at once if all their conditions are met by packages installed or
 * being installed (solver.c cset_check_install_by_iif counts a package from when its turn begins).
 * Packages nothing reaches come last, by name.
 */
export function installOrder(packages: ApkMetadata[], world: string[]): ApkMetadata[] {
  // Parsed once: the install_if conditions are looked at after every package.
  const parsed = new Map<string, ApkDependency[]>();
  const atoms = (meta: ApkMetadata, key: string): ApkDependency[] => {
    const id = `${meta.name}\0${key}`;
    let list = parsed.get(id);
    if (!list) parsed.set(id, (list = parseAtoms(meta, key)));
    return list;
  };
  const byName = new Map(packages.map((p) => [p.name, p]));
  const provider = new Map<string, ApkMetadata>();
  for (const p of packages) {
    for (const provide of atoms(p, 'provides')) if (!provider.has(provide.name)) provider.set(provide.name, p);
  }
  const find = (name: string) => byName.get(name) ?? provider.get(name);
  const namesOf = (p: ApkMetadata) => new Set([p.name, ...atoms(p, 'provides').map((a) => a.name)]);
  const conditional = packages.filter((p) => atoms(p, 'install_if').length > 0);
  const started = new Set<ApkMetadata>();
  const order: ApkMetadata[] = [];

  const visit = (pkg: ApkMetadata): void => {
    if (started.has(pkg)) return; // installed, or a dependency cycle: it installs in visit order
    started.add(pkg);
    for (const dep of atoms(pkg, 'depend')) {
      const target = dep.conflict ? undefined : find(dep.name);
      if (target) visit(target);
    }
    order.push(pkg);
    const names = namesOf(pkg);
    for (const next of conditional) {
      const conditions = atoms(next, 'install_if');
      if (started.has(next) || !conditions.some((c) => names.has(c.name))) continue;
      const met = conditions.every((c) => {
        const t = find(c.name);
        return c.conflict ? t === undefined || !started.has(t) : t !== undefined && started.has(t);
      });
      if (met) visit(next);
    }
  };

  for (const name of [...world].sort()) {
    const pkg = find(name);
    if (pkg) visit(pkg);
  }
  for (const pkg of [...packages].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(pkg);
  return order;
}

function parseAtoms(meta: ApkMetadata, key: string): ApkDependency[] {
  return pkginfoValues(meta, key).flatMap((v) => parseApkDependencies(v, `${meta.name} .PKGINFO ${key}`, { lenient: true }));
}
