/**
 * `ldconfig` in a maintainer script (libc-bin's postinst, and its trigger every library package
 * activates): /etc/ld.so.cache, written by src/translate from every package's shared objects.
 * Here: how Debian's ldconfig is configured for the architecture, and what ldconfigInputs gives
 * src/translate of one package.
 */
import type { LdCacheEffect } from '../../src/translate/effects.js';
import { DEBIAN_AMD64_SYSTEM_DIRS, X86_HWCAP_BITS, type ImageEntry } from '../../src/translate/ldsoCache.js';
import type { PackageMetadata, ScriptContext } from '../types.js';
import { asDeb } from './debMetadata.js';
import { mergedUsrLinks } from './mergedUsr.js';

/**
 * The system directories Debian's ldconfig scans after ld.so.conf, and the legacy hwcap names it
 * knows, by architecture. Only amd64 is checked against the real ldconfig (test/ldso-cache).
 */
const LDCONFIG_BUILDS: Record<string, { systemDirs: string[]; hwcapBits: Record<string, number> }> = {
  amd64: { systemDirs: DEBIAN_AMD64_SYSTEM_DIRS, hwcapBits: X86_HWCAP_BITS },
};

export function ldconfig(args: string[], ctx: ScriptContext): { effects: LdCacheEffect[] } | { unrecognized: string } {
  // -p only prints the cache.
  if (args.length === 1 && (args[0] === '-p' || args[0] === '--print-cache')) return { effects: [] };
  // libc-bin runs `ldconfig -r "$DPKG_ROOT/"`, and again with --verbose should that fail.
  const plain = args.filter((a, i) => !(a === '-X' || a === '--verbose' || a === '-v' || (a === '-r' && args[i + 1] === '/') || (args[i - 1] === '-r' && a === '/')));
  if (plain.length) return { unrecognized: `ldconfig ${args.join(' ')}: only ldconfig on the image's own root is translated` };
  const libc = ctx.packages.find((p) => p.name === 'libc-bin');
  if (libc === undefined) return { unrecognized: 'ldconfig: libc-bin, whose ldconfig this is, is not in the image' };
  const build = LDCONFIG_BUILDS[libc.arch];
  if (build === undefined) return { unrecognized: `ldconfig: its directories on ${libc.arch} are not modelled` };
  const upstream = libc.version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
  const shipped = ctx.packages.flatMap((p) => asDeb(p).paths);
  return {
    effects: [
      {
        kind: 'ld-cache',
        // What `ldconfig --version` prints, as the cache's generator extension records it.
        generator: `ldconfig (Debian GLIBC ${libc.version}) stable release version ${upstream}`,
        ...build,
        rootLinks: mergedUsrLinks(libc.arch, shipped).map((l) => ({ path: `/${l.path}`, target: l.linkname })),
      },
    ],
  };
}

export function debLdconfigInputs(pkg: PackageMetadata): ImageEntry[] {
  const meta = asDeb(pkg);
  const text = (rel: string) => Buffer.from(meta.captured[rel]!, 'base64').toString('utf8');
  return [
    ...Object.entries(meta.libraries ?? {}).map(([rel, elf]): ImageEntry => ({ path: `/${rel}`, type: 'file', elf })),
    ...Object.entries(meta.libraryLinks ?? {}).map(([rel, target]): ImageEntry => ({ path: `/${rel}`, type: 'symlink', target })),
    ...Object.keys(meta.captured)
      .filter((rel) => rel === 'etc/ld.so.conf' || rel.startsWith('etc/ld.so.conf.d/'))
      .map((rel): ImageEntry => ({ path: `/${rel}`, type: 'file', text: text(rel) })),
  ];
}
