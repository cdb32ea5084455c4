import type { Adapter, Dependency, DependencyGroup, PackageRecord } from '../../adapters/types.js';
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
 * selected, then the first installable one; virtual names prefer a selected provider.
 */
export function resolve(adapter: Adapter, candidates: PackageRecord[], req: ResolveRequest): ResolvedPackage[] {
  const index = new CandidateIndex(adapter, candidates, req.arch);
  const selected = new Map<string, ResolvedPackage>();
  const parent = new Map<string, string>();
  const queue: PackageRecord[] = [];

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

  for (const name of req.requested) {
    const pkg = index.byName.get(name) ?? index.preferredProvider(name, req.requestSource(name));
    if (!pkg) {
      const hint = closeNames(name, index.byName.keys());
      throw new UserError(
        `unknown package "${name}" (from ${req.requestSource(name)}) for ${req.arch}: no repository has it` +
          (hint.length ? `; did you mean ${hint.map((h) => `"${h}"`).join(', ')}?` : '; check the name and the repositories\' components'),
      );
    }
    select(pkg, '(requested)');
  }

  const isSelected = (p: PackageRecord) => selected.get(p.name)?.record === p;
  const conditional = [...index.byName.values()].filter((p) => p.installIf?.length);
  for (let i = 0; ; i++) {
    if (i === queue.length) {
      // The dependency closure is complete: add what install_if asks for, then close again.
      const triggered = conditional.filter((p) => !selected.has(p.name) && p.installIf!.every((dep) => index.satisfiersOf(dep).some(isSelected)));
      if (triggered.length === 0) break;
      for (const p of triggered) select(p, '(install_if)');
    }
    const pkg = queue[i]!;
    for (const group of pkg.depends) {
      const already = group.find((dep) => index.satisfiersOf(dep).some(isSelected));
      if (already) {
        select(index.satisfiersOf(already).find(isSelected)!, pkg.name);
        continue;
      }
      const choice = index.chooseFor(group);
      if (!choice) throw unsatisfiable(adapter, index, group, pkg, parent);
      select(choice, pkg.name);
    }
  }

  checkConflicts(adapter, index, selected);
  const result = [...selected.values()].sort((a, b) => (a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0));
  for (const r of result) r.requiredBy.sort();
  return result;
}

class CandidateIndex {
  readonly byName = new Map<string, PackageRecord>();
  private readonly providers = new Map<string, { pkg: PackageRecord; version?: string }[]>();

  constructor(private readonly adapter: Adapter, candidates: PackageRecord[], private readonly arch: string) {
    for (const pkg of candidates) {
      const current = this.byName.get(pkg.name);
      // Newest version wins; on a tie the earlier repository (config order) keeps it.
      if (!current || adapter.compareVersions(pkg.version, current.version) > 0) this.byName.set(pkg.name, pkg);
    }
    for (const pkg of this.byName.values()) {
      for (const prov of pkg.provides) {
        let list = this.providers.get(prov.name);
        if (!list) this.providers.set(prov.name, (list = []));
        list.push({ pkg, version: prov.version });
      }
    }
  }

  /** Candidates that satisfy one dependency, the real package first, then providers by name. */
  satisfiersOf(dep: Dependency): PackageRecord[] {
    const out: PackageRecord[] = [];
    const real = this.byName.get(dep.name);
    if (real && this.adapter.satisfies(dep, { ...real, isProvide: false }, this.arch)) out.push(real);
    const provs = (this.providers.get(dep.name) ?? [])
      .filter((p) => this.adapter.satisfies(dep, { name: dep.name, version: p.version, arch: p.pkg.arch, multiArch: p.pkg.multiArch, isProvide: true }, this.arch))
      .map((p) => p.pkg)
      .sort((a, b) => rank(a) - rank(b) || (b.providerPriority ?? 0) - (a.providerPriority ?? 0) || (a.name < b.name ? -1 : 1));
    for (const p of provs) if (!out.includes(p)) out.push(p);
    return out;
  }

  chooseFor(group: DependencyGroup): PackageRecord | undefined {
    for (const dep of group) {
      const first = this.satisfiersOf(dep)[0];
      if (first) return first;
    }
    return undefined;
  }

  /**
   * The package a requested virtual name means: its only provider, or the one provider with the
   * highest provider priority (apk's rule). Several equal candidates are the user's choice.
   */
  preferredProvider(name: string, requestSource: string): PackageRecord | undefined {
    const list = [...new Set((this.providers.get(name) ?? []).map((p) => p.pkg))];
    if (list.length <= 1) return list[0];
    const top = Math.max(...list.map((p) => p.providerPriority ?? -1));
    const best = list.filter((p) => (p.providerPriority ?? -1) === top);
    if (top >= 0 && best.length === 1) return best[0];
    throw new UserError(
      `"${name}" (from ${requestSource}) is a virtual package provided by ${list.map((p) => p.name).sort().join(', ')}; name the one you want in packages.include`,
    );
  }
}

/**
 * Providers tagged as part of the base system are the ones a distribution installer would pick;
 * among the rest, the higher provider priority (apk), then the name, for a stable choice.
 */
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
