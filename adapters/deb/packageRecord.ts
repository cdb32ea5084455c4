import { UserError } from '../../src/errors.js';
import type { PackageRecord } from '../types.js';
import type { Paragraph } from './deb822.js';
import { parseProvides, parseRelationField } from './relations.js';

/** A Packages-file paragraph as the resolver needs it; the download URL is the mirror + Filename. */
export function packageRecord(p: Paragraph, repoName: string, mirrorUrl: string, source: string): PackageRecord {
  const name = p.get('Package');
  const version = p.get('Version');
  const arch = p.get('Architecture');
  const filename = p.get('Filename');
  const sha256 = p.get('SHA256');
  const size = Number(p.get('Size'));
  if (!name || !version || !arch || !filename || !sha256 || !Number.isSafeInteger(size)) {
    throw new UserError(`${source}: package record "${name ?? '?'}" lacks Package, Version, Architecture, Filename, SHA256 or Size`);
  }
  // A bad relation is the index's fault: say which index, package and field hold it.
  const parsed = <T>(field: string, parse: (v: string) => T[]): T[] => {
    const v = p.get(field);
    if (!v) return [];
    try {
      return parse(v);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(`${source}: package "${name}" ${version}: ${field}: ${e.message}; the repository's index is broken, report it to its maintainer`);
    }
  };
  const relation = (field: string) => parsed(field, parseRelationField);
  const tags: string[] = [];
  if (p.get('Essential') === 'yes') tags.push('essential');
  const priority = p.get('Priority');
  if (priority) tags.push(`priority:${priority}`);
  return {
    name,
    version,
    arch,
    repository: repoName,
    url: `${mirrorUrl}/${filename}`,
    sha256,
    size,
    // Pre-Depends must be configured first; for an unpack-only install both are plain hard edges.
    depends: [...relation('Pre-Depends'), ...relation('Depends')],
    provides: parsed('Provides', parseProvides),
    // apt refuses to install a package beside one it Breaks, just as with Conflicts.
    conflicts: [...relation('Conflicts'), ...relation('Breaks')].flat(),
    tags,
    multiArch: p.get('Multi-Arch'),
  };
}
