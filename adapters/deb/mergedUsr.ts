/**
 * Debian bookworm and later are merged-/usr: /bin, /sbin and /lib* are links into /usr. A layer
 * that wrote /bin as a directory would hide the link under overlayfs, so every path is written
 * where it physically lands — exactly where dpkg on a merged system puts it.
 */
const MERGED_TOP = /^(bin|sbin|lib|lib32|lib64|libx32|libo32)(\/|$)/;

export function canonicalPath(relPath: string): string {
  return MERGED_TOP.test(relPath) ? `usr/${relPath}` : relPath;
}

/** The per-architecture library directories debootstrap (and mmdebstrap's merged-usr hook) link. */
const ARCH_LIB_DIRS: Record<string, string[]> = {
  amd64: ['lib32', 'lib64', 'libx32'],
  i386: ['lib64', 'libx32'],
  mipsel: ['lib32', 'lib64'],
  mips64el: ['lib32', 'lib64', 'libo32'],
  ppc64el: ['lib64'],
  s390x: ['lib32'],
};

/**
 * The top-level links of a merged-/usr root, as debootstrap makes them for the architecture: bin,
 * sbin, lib and the architecture's libNN directories, each pointing at its /usr twin. A libNN
 * that some package ships gets its link on any architecture.
 */
export function mergedUsrLinks(arch: string, shippedPaths: Iterable<string>): { path: string; linkname: string }[] {
  const tops = new Set(['bin', 'sbin', 'lib', ...(ARCH_LIB_DIRS[arch] ?? [])]);
  for (const p of shippedPaths) {
    const m = /^\/?(lib32|lib64|libx32|libo32)(\/|$)/.exec(p);
    if (m) tops.add(m[1]!);
  }
  return [...tops].sort().map((t) => ({ path: t, linkname: `usr/${t}` }));
}
