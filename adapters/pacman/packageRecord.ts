import { UserError } from '../../src/errors.js';
import type { PackageRecord } from '../types.js';
import { pacmanField, type PacmanDbEntry } from './syncDb.js';
import { parsePacmanDependency } from './version.js';

/**
 * A sync database entry as the resolver needs it: the file is `<repo url>/<%FILENAME%>`, pinned
 * by %SHA256SUM% and %CSIZE% from the (signed) database. Groups become `group:<name>` tags, the
 * pacman seed's selector.
 */
export function pacmanPackageRecord(entry: PacmanDbEntry, repoName: string, repoUrl: string, source: string): PackageRecord {
  const f = entry.fields;
  const filename = pacmanField(f, 'FILENAME');
  const sha256 = pacmanField(f, 'SHA256SUM');
  const size = Number(pacmanField(f, 'CSIZE'));
  const arch = pacmanField(f, 'ARCH');
  if (!filename || !sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(size) || !arch || filename.includes('/')) {
    throw new UserError(`${source}: entry ${entry.directory} lacks a valid %FILENAME%, %SHA256SUM%, %CSIZE% or %ARCH%; the database is malformed, rebuild it with repo-add`);
  }
  const where = `${source}: ${entry.directory}`;
  const deps = (key: string) => (f.get(key) ?? []).map((d) => parsePacmanDependency(d, `${where} %${key}%`));
  return {
    name: entry.name,
    version: entry.version,
    arch,
    repository: repoName,
    url: `${repoUrl}/${encodeURIComponent(filename)}`,
    sha256,
    size,
    depends: deps('DEPENDS').map((d) => [d]),
    provides: deps('PROVIDES').map((p) => ({ name: p.name, ...(p.op === '=' && p.version !== undefined ? { version: p.version } : {}) })),
    conflicts: deps('CONFLICTS'),
    tags: (f.get('GROUPS') ?? []).map((g) => `group:${g}`),
    ...(f.get('OPTDEPENDS')?.length ? { optional: deps('OPTDEPENDS').map((d, i) => ({ name: d.name, text: f.get('OPTDEPENDS')![i]! })) } : {}),
  };
}
