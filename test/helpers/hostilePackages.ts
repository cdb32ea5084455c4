/**
 * Packages no packaging tool would write — names that are not UTF-8, files beneath symlinks, hard
 * links to nothing, decompression bombs — made byte by byte, so the readers' refusals can be
 * tested. Tar headers are written by hand (tar-stream cannot write invalid UTF-8 names).
 */
import { gzipSync } from 'node:zlib';
import { compress, type Compression } from './compress.js';

export { compress, type Compression };

export interface RawEntry {
  /** The header's name field, verbatim (a Buffer for bytes that are not UTF-8). */
  name: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device';
  linkname?: string;
  /** A regular file's content. */
  body?: Buffer;
  mode?: number;
  /** PAX records written in an extended header before the entry. */
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', 'character-device': '3', directory: '5' } as const;

function header(name: Buffer, fields: { typeflag: string; size: number; mode: number; linkname?: string; devmajor?: number; devminor?: number }): Buffer {
  const h = Buffer.alloc(512);
  const octal = (value: number, at: number, width: number) => h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'latin1');
  name.copy(h, 0, 0, Math.min(name.length, 100));
  octal(fields.mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(fields.size, 124, 12);
  octal(1700000000, 136, 12);
  h.write(fields.typeflag, 156, 'latin1');
  if (fields.linkname) h.write(fields.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  octal(fields.devmajor ?? 0, 329, 8);
  octal(fields.devminor ?? 0, 337, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (b: Buffer): Buffer => (b.length % 512 ? Buffer.concat([b, Buffer.alloc(512 - (b.length % 512))]) : b);

/** A POSIX tar of `entries`, in the order given, with the two end blocks. */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const records = Object.entries(e.pax).map(([k, v]) => {
        const text = ` ${k}=${v}\n`;
        let len = Buffer.byteLength(text) + 1;
        while (Buffer.byteLength(`${len}${text}`) !== len) len++;
        return `${len}${text}`;
      });
      const body = Buffer.from(records.join(''), 'utf8');
      parts.push(header(Buffer.from('PaxHeader'), { typeflag: 'x', size: body.length, mode: 0o644 }), pad(body));
    }
    const type = e.type ?? 'file';
    const body = type === 'file' ? (e.body ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
    parts.push(
      header(name, { typeflag: TYPEFLAG[type], size: body.length, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor }),
      pad(body),
    );
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** An `ar` archive as dpkg-deb writes it. */
export function arArchive(members: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n', 'latin1')];
  for (const m of members) {
    const h = `${m.name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(m.data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), m.data, m.data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0));
  }
  return Buffer.concat(parts);
}

export interface HostileDeb {
  name?: string;
  /** debian-binary's content (default "2.0\n"). */
  debianBinary?: string;
  /** Installed-Size in KiB (default 4). */
  installedSize?: number;
  data: RawEntry[];
  compression?: Compression;
  /** A control.tar of its own (a bomb), instead of the one made from the fields. */
  controlTar?: Buffer;
}

/** A .deb with the data tar `data`, made without dpkg-deb (which would refuse to). */
export function hostileDeb(spec: HostileDeb): Buffer {
  const name = spec.name ?? 'evil';
  const control = `Package: ${name}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: layerpkg tests <tests@layerpkg.invalid>\nInstalled-Size: ${spec.installedSize ?? 4}\nDescription: hostile test package\n`;
  const controlTar = spec.controlTar ?? rawTar([{ name: './', type: 'directory' }, { name: './control', body: Buffer.from(control) }]);
  const how = spec.compression ?? 'xz';
  const suffix = how === 'none' ? '' : `.${how}`;
  return arArchive([
    { name: 'debian-binary', data: Buffer.from(spec.debianBinary ?? '2.0\n') },
    { name: 'control.tar.gz', data: gzipSync(controlTar) },
    { name: `data.tar${suffix}`, data: compress(rawTar(spec.data), how) },
  ]);
}

/** A pacman package: .PKGINFO (unless `pkginfo` is null) and then `data`, in one tar. */
export function hostilePacman(data: RawEntry[], opts: { pkginfo?: string | null; compression?: Compression } = {}): Buffer {
  const pkginfo = opts.pkginfo === undefined ? 'pkgname = evil\npkgbase = evil\npkgver = 1-1\npkgdesc = hostile\nsize = 4096\narch = x86_64\n' : opts.pkginfo;
  const entries = pkginfo === null ? data : [{ name: '.PKGINFO', body: Buffer.from(pkginfo) }, ...data];
  return compress(rawTar(entries), opts.compression ?? 'zst');
}
