/**
 * Debian bookworm and later are merged-/usr: /bin, /sbin and /lib* are links into /usr. A layer
 * that wrote /bin as a directory would hide the link under overlayfs, so every path is written
 * where it physically lands — exactly where dpkg on a merged system puts it.
 */
const MERGED_TOP = /^(bin|sbin|lib|lib32|lib64|libx32|libo32)(\/|$)/;

export function canonicalPath(relPath: string): string {
  return MERGED_TOP.test(relPath) ? `usr/${relPath}` : relPath;
}

/**
 * The top-level links the final layer holds: always bin, sbin, lib, plus any /libNN a package
 * ships (paths as the packages name them, before canonicalization).
 */
export function mergedUsrLinks(shippedPaths: Iterable<string>): { path: string; linkname: string }[] {
  const tops = new Set(['bin', 'sbin', 'lib']);
  for (const p of shippedPaths) {
    const m = /^\/?(lib32|lib64|libx32|libo32)(\/|$)/.exec(p);
    if (m) tops.add(m[1]!);
  }
  return [...tops].sort().map((t) => ({ path: t, linkname: `usr/${t}` }));
}
