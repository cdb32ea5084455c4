import { UserError } from '../../src/errors.js';
import type { PackageRecord } from '../types.js';
import type { ApkIndexRecord } from './apkIndex.js';
import { parseApkDependencies, parseApkProvides, type ApkDependency } from './dependency.js';

/**
 * An APKINDEX record as the resolver needs it. The file is `<repo>/<arch>/<P>-<V>.apk`, as apk
 * fetches it, and is pinned by `C:` (the SHA-1 of its control stream) and `S:`: the index gives
 * no sha256 of the file. Dependencies are read leniently, as apk-tools does: an atom with a
 * version apk cannot parse stays, marked broken, and makes the package uninstallable.
 */
export function apkPackageRecord(record: ApkIndexRecord, repoName: string, repoUrl: string, arch: string, source: string): PackageRecord {
  const f = record.fields;
  const name = f.get('P');
  const version = f.get('V');
  const checksum = f.get('C');
  const size = Number(f.get('S'));
  if (!name || !version || !checksum || !Number.isSafeInteger(size)) {
    throw new UserError(`${source}: package record "${name ?? '?'}" lacks P:, V:, C: or S:; the index is malformed, check the repository`);
  }
  const where = `${source}: ${name} ${version}`;
  const deps = parseApkDependencies(f.get('D') ?? '', `${where} D:`, { lenient: true });
  const priority = f.get('k');
  return {
    name,
    version,
    arch: f.get('A') ?? arch,
    repository: repoName,
    url: `${repoUrl}/${arch}/${name}-${version}.apk`,
    checksum,
    size,
    // apk has no alternatives within one dependency: each atom is its own group.
    depends: deps.filter((d) => !d.conflict).map((d): ApkDependency[] => [d]),
    provides: parseApkProvides(f.get('p') ?? '', `${where} p:`, { lenient: true }),
    conflicts: deps.filter((d) => d.conflict),
    tags: [],
    ...(priority !== undefined && /^\d+$/.test(priority) ? { providerPriority: Number(priority) } : {}),
    ...installIfOf(f.get('i'), `${where} i:`),
  };
}

/** `i:` atoms: what must be selected, and (`!name`) what must not be. */
function installIfOf(field: string | undefined, where: string): Pick<PackageRecord, 'installIf' | 'installIfNot'> {
  if (!field) return {};
  const atoms = parseApkDependencies(field, where, { lenient: true });
  const not = atoms.filter((a) => a.conflict);
  return { installIf: atoms.filter((a) => !a.conflict), ...(not.length ? { installIfNot: not } : {}) };
}
