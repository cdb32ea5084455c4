import type { Dependency } from '../types.js';
import { apkVersionSatisfies, type ApkDependency } from './dependency.js';

/**
 * apk's rules for one atom against a package or a provide. A versioned atom is met by a provide
 * only when the provide carries a version; an atom whose version apk cannot parse is met by
 * nothing (apk-tools marks such packages uninstallable).
 */
export function apkSatisfies(dep: Dependency, c: { name: string; version?: string; arch: string; isProvide: boolean }, targetArch: string): boolean {
  if (c.arch !== targetArch && c.arch !== 'noarch') return false;
  if ((dep as ApkDependency).broken) return false;
  if (!dep.op || dep.version === undefined) return true;
  if (c.version === undefined) return false;
  return apkVersionSatisfies(c.version, dep.op, dep.version);
}
