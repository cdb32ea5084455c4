/**
 * Files unpack kept a copy of (Debian's `captured`, pacman's `effectFiles`: relative path →
 * base64), looked up across the image's packages. The first package to ship a path wins, as
 * its layer order has it.
 */

/** Every kept file under `dir`, as text, by path in sorted order. */
export function capturedFilesUnder(stores: (Record<string, string> | undefined)[], dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const store of stores) {
    for (const [rel, b64] of Object.entries(store ?? {})) if (rel.startsWith(dir) && !out.has(rel)) out.set(rel, Buffer.from(b64, 'base64').toString('utf8'));
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}
