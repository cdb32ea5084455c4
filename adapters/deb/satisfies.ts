import type { Dependency } from '../types.js';
import { versionSatisfies } from './relations.js';

export interface Candidate {
  name: string;
  version?: string;
  arch: string;
  multiArch?: string;
  isProvide: boolean;
}

/**
 * dpkg's rules for one relation against a package or a Provides entry. A versioned relation is
 * met by a Provides only when it carries a version. Images are single-architecture per manifest,
 * so every candidate is native or `all`; `pkg:any` still needs a real `pkg` that declares
 * `Multi-Arch: allowed`, as dpkg and apt require.
 */
export function debSatisfies(dep: Dependency, c: Candidate, targetArch: string): boolean {
  if (c.arch !== targetArch && c.arch !== 'all') return false;
  if (dep.archQualifier && !['any', 'native', targetArch].includes(dep.archQualifier)) return false;
  if (dep.archQualifier === 'any' && !c.isProvide && c.multiArch !== 'allowed') return false;
  if (!dep.op || !dep.version) return true;
  if (c.version === undefined) return false;
  return versionSatisfies(c.version, dep.op, dep.version);
}
