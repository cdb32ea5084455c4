import type { Dependency } from '../types.js';
import { isPacmanDepOp, pacmanVersionSatisfies } from './version.js';

/**
 * libalpm's rules for one dependency against a package or a provision: a versioned dependency
 * is met by a provision only when it carries a version (alpm_depcmp); `any` packages install on
 * every architecture.
 */
export function pacmanSatisfies(dep: Dependency, c: { version?: string; arch: string }, targetArch: string): boolean {
  if (c.arch !== targetArch && c.arch !== 'any') return false;
  if (!dep.op || dep.version === undefined) return true;
  if (c.version === undefined || !isPacmanDepOp(dep.op)) return false;
  return pacmanVersionSatisfies(c.version, dep.op, dep.version);
}
