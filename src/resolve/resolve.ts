import type { Adapter, Dependency, DependencyGroup, PackageRecord, ProviderCandidate } from '../../adapters/types.js';
import { UserError } from '../errors.js';
import { closeNames } from './closeNames.js';

export interface ResolvedPackage {
  record: PackageRecord;
  /** Who pulled it in: "(requested)" for seeds and includes, "(install_if)", else the depending package names. */
  requiredBy: string[];
}

export interface ResolveRequest {
  arch: string;
  requested: string[];
  /** Why each requested name is there ("seed required", "packages.include"), for messages. */
  requestSource: (name: string) => string;
}

/**
 * Choose one candidate per name (the newest version across repositories, as apt does with equal
 * pins) and close the requested set over hard dependencies. Alternatives prefer what is already
 * selected, then the first installable one; among several providers the adapter's order decides.
 * Then packages whose install-if conditions the selection meets are added where they install
 * cleanly (their dependencies resolve, nothing conflicts) and skipped where not, as apk does.
 */
export function resolve(adapter: Adapter, candidates: PackageRecord[], req: ResolveRequest): ResolvedPackage[] {
  const index = new CandidateIndex(adapter, candidates, req.arch);
  let selected = new Map<string, ResolvedPackage>();
  let parent = new Map<string, string>();
  const queue: PackageRecord[] = [];
  let closed = 0;

  const select = (pkg: PackageRecord, by: string): void => {
    const existing = selected.get(pkg.name);
    if (existing) {
      if (!existing.requiredBy.includes(by)) existing.requiredBy.push(by);
      return;
    }
    selected.set(pkg.name, { record: pkg, requiredBy: [by] });
    if (!by.startsWith('(')) parent.set(pkg.name, by);
    queue.push(pkg);
  };
  const isSelected = (p: PackageRecord) => selected.get(p.name)?.record === p;

  /** Add every dependency of what was selected since the last call. */
  const close = (): void => {
    for (; closed < queue.length; closed++) {
      const pkg = queue[closed]!;
      for (const group of pkg.depends) {
        const already = group.find((dep) => index.satisfiersOf(dep).some(isSelected));
        if (already) {
          select(index.satisfiersOf(already).find(isSelected)!, pkg.name);
          continue;
        }
        select(index.chooseFor(group, () => unsatisfiable(adapter, index, group, pkg, parent)), pkg.name);
      }
    }
  };

  for (const name of req.requested) select(index.requestedPackage(name, req), '(requested)');
  close();
  checkConflicts(adapter, index, selected);

  const conditional = [...index.byName.values()].filter((p) => p.installIf?.length || p.installIfNot?.length);
  const skipped = new Set<PackageRecord>();
  const met = (p: PackageRecord) =>
    (p.installIf ?? []).every((dep) => index.satisfiersOf(dep).some(isSelected)) &&
    (p.installIfNot ?? []).every((dep) => !index.satisfiersOf(dep).some(isSelected));
  for (;;) {
    const triggered = conditional.filter((p) => !selected.has(p.name) && !skipped.has(p) && met(p));
    if (triggered.length === 0) break;
    for (const p of triggered) {
      const before = { selected: copySelection(selected), parent: new Map(parent), length: queue.length };
      try {
        select(p, '(install_if)');
        close();
        checkConflicts(adapter, index, selected);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        // Not installable beside this selection: leave it out, as apk does with an install_if.
        ({ selected, parent } = before);
        queue.length = closed = before.length;
        skipped.add(p);
      }
    }
  }

  const result = [...selected.values()].sort((a, b) => (a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0));
  for (const r of result) r.requiredBy.sort();
  return result;
}

function copySelection(selected: Map<string, ResolvedPackage>): Map<string, ResolvedPackage> {
  return new Map([...selected].map(([name, r]) => [name, { record: r.record, requiredBy: [...r.requiredBy] }]));
}

class CandidateIndex {
  readonly byName = new Map<string, PackageRecord>();
  private readonly providers = new Map<string, { pkg: PackageRecord; version?: string }[]>();

  constructor(private readonly adapter: Adapter, candidates: PackageRecord[], private readonly arch: string) {
    for (const pkg of candidates) {
      const current = this.byName.get(pkg.name);
      // Newest version wins (or the first repository, where the format says so); on a tie the
      // earlier repository (config order) keeps it.
      const replace = !current || (adapter.candidatePolicy !== 'first-repository' && adapter.compareVersions(pkg.version, current.version) > 0);
      if (replace) this.byName.set(pkg.name, pkg);
    }
    for (const pkg of this.byName.values()) {
      for (const prov of pkg.provides) {
        let list = this.providers.get(prov.name);
        if (!list) this.providers.set(prov.name, (list = []));
        list.push({ pkg, version: prov.version });
      }
    }
  }

  /** Everything that satisfies one dependency: the package of that name, then its providers. */
  candidatesFor(dep: Dependency): ProviderCandidate[] {
    const out: ProviderCandidate[] = [];
    const real = this.byName.get(dep.name);
    if (real && this.adapter.satisfies(dep, { ...real, isProvide: false }, this.arch)) out.push({ pkg: real, version: real.version, isProvide: false });
    for (const p of this.providers.get(dep.name) ?? []) {
      if (p.pkg === real || out.some((c) => c.pkg === p.pkg)) continue;
      if (this.adapter.satisfies(dep, { name: dep.name, version: p.version, arch: p.pkg.arch, multiArch: p.pkg.multiArch, isProvide: true }, this.arch)) {
        out.push({ pkg: p.pkg, version: p.version, isProvide: true });
      }
    }
    return out;
  }

  satisfiersOf(dep: Dependency): PackageRecord[] {
    return this.candidatesFor(dep).map((c) => c.pkg);
  }

  /** The best candidate for a dependency group, in the adapter's order; `fail` when none is. */
  chooseFor(group: DependencyGroup, fail: () => UserError): PackageRecord {
    for (const dep of group) {
      const candidates = this.candidatesFor(dep);
      if (candidates.length === 0) continue;
      const ordered = this.adapter.orderProviders ? this.adapter.orderProviders(dep.name, candidates) : candidates.sort(byBaseSystemThenName);
      if (ordered.length > 0) return ordered[0]!.pkg;
      throw ambiguous(dep.name, candidates, 'a dependency');
    }
    throw fail();
  }

  /**
   * The package a requested name means: the package of that name, else its provider the
   * adapter's order puts first, else its only provider. Several providers the format does not
   * rank are the user's choice.
   */
  requestedPackage(name: string, req: ResolveRequest): PackageRecord {
    const real = this.byName.get(name);
    if (real) return real;
    const candidates = (this.providers.get(name) ?? []).map((p) => ({ pkg: p.pkg, version: p.version, isProvide: true }));
    if (candidates.length === 0) {
      const hint = closeNames(name, this.byName.keys());
      throw new UserError(
        `unknown package "${name}" (from ${req.requestSource(name)}) for ${req.arch}: no repository has it` +
          (hint.length ? `; did you mean ${hint.map((h) => `"${h}"`).join(', ')}?` : "; check the name and the repositories' components"),
      );
    }
    const ordered = this.adapter.orderProviders ? this.adapter.orderProviders(name, candidates) : candidates.length === 1 ? candidates : [];
    if (ordered.length > 0) return ordered[0]!.pkg;
    throw ambiguous(name, candidates, req.requestSource(name));
  }
}

function ambiguous(name: string, candidates: ProviderCandidate[], from: string): UserError {
  const names = [...new Set(candidates.map((c) => c.pkg.name))].sort();
  return new UserError(`"${name}" (from ${from}) is a virtual package provided by ${names.join(', ')}; name the one you want in packages.include`);
}

/** Without an adapter's order: the package itself, then base-system providers (those a distribution installer would pick), then by name. */
function byBaseSystemThenName(a: ProviderCandidate, b: ProviderCandidate): number {
  return Number(a.isProvide) - Number(b.isProvide) || rank(a.pkg) - rank(b.pkg) || (a.pkg.name < b.pkg.name ? -1 : a.pkg.name > b.pkg.name ? 1 : 0);
}

function rank(p: PackageRecord): number {
  if (p.tags.includes('essential')) return 0;
  if (p.tags.includes('priority:required')) return 1;
  if (p.tags.includes('priority:important')) return 2;
  return 3;
}

function unsatisfiable(adapter: Adapter, index: CandidateIndex, group: DependencyGroup, pkg: PackageRecord, parent: Map<string, string>): UserError {
  const chain = [pkg.name];
  for (let p = parent.get(pkg.name); p; p = parent.get(p)) chain.unshift(p);
  const available = group
    .map((d) => index.byName.get(d.name))
    .filter((p): p is PackageRecord => !!p)
    .map((p) => `${p.name} ${p.version} in ${p.repository}`);
  return new UserError(
    `unsatisfiable dependency: ${chain.join(' → ')} → ${adapter.formatDependency(group)}: ` +
      (available.length ? `only ${available.join(', ')} is available` : 'no repository has a package that provides it') +
      '; add the repository that has it, or remove the package that needs it',
  );
}

function checkConflicts(adapter: Adapter, index: CandidateIndex, selected: Map<string, ResolvedPackage>): void {
  for (const { record } of selected.values()) {
    for (const dep of record.conflicts) {
      for (const other of index.satisfiersOf(dep)) {
        if (other === record || selected.get(other.name)?.record !== other) continue;
        throw new UserError(
          `conflicting packages: ${record.name} ${record.version} conflicts with ${other.name} ${other.version} (${adapter.formatDependency([dep])}); remove one of them from the image`,
        );
      }
    }
  }
}
