// Writes /etc/ld.so.cache the way glibc 2.36's ldconfig does (new format
// "glibc-ld.so.cache1.1" only, its default), and decides from an image's
// file tree which libraries ldconfig would put into it (elf/ldconfig.c
// search_dir). Byte-for-byte equality with `ldconfig -X -r ROOT` is what the
// oracle tests check.

import type { ElfInfo } from '../elf/elfInfo.js';
import { LdFlag } from '../elf/elfInfo.js';
import { compareUtf8 } from '../compareUtf8.js';

export interface CacheLibrary {
  /** Cache key: the soname (or the link name for a `libfoo.so` dev link). */
  name: string;
  /** Absolute path stored in the cache (directory as configured + file name). */
  path: string;
  flags: number;
  osVersion?: number;
  /** Legacy hwcap bits of the directory (tls, haswell, ...). */
  hwcap?: bigint;
  /** glibc-hwcaps subdirectory name (e.g. x86-64-v3); its hwcap is computed. */
  hwcapsSubdir?: string;
  /** ISA level, only stored for glibc-hwcaps entries (as ldconfig 2.36 does). */
  isaLevel?: number;
}

export interface LdsoCacheOptions {
  /** glibc-hwcaps subdirectory names found while scanning, used or not:
   * ldconfig interns them all in the string table. */
  hwcapsSubdirs?: string[];
  /** The generator extension ("ldconfig PKGVERSION RELEASE release version VERSION"). */
  generator?: string;
  bigEndian?: boolean;
}

/** What Debian bookworm's ldconfig writes as generator. */
export const BOOKWORM_GENERATOR = 'ldconfig (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36';

const HEADER_SIZE = 48;
const ENTRY_SIZE = 24;
const EXTENSION_MAGIC = 0xeaa42174; // (uint32_t) -358342284
const HWCAP_EXTENSION = 1n << 62n;
const U64 = (1n << 64n) - 1n;

/** glibc's _dl_cache_libcmp: digit runs compare numerically, other bytes as
 * signed chars (x86 `char`). */
export function dlCacheLibcmp(a: string, b: string): number {
  const p = Buffer.from(a, 'utf8');
  const q = Buffer.from(b, 'utf8');
  const at = (buf: Buffer, i: number): number => {
    const c = buf[i] ?? 0;
    return c >= 128 ? c - 256 : c;
  };
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (at(p, i) !== 0) {
    const c1 = at(p, i);
    const c2 = at(q, j);
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let v1 = 0;
      let v2 = 0;
      while (isDigit(at(p, i))) v1 = v1 * 10 + at(p, i++) - 0x30;
      while (isDigit(at(q, j))) v2 = v2 * 10 + at(q, j++) - 0x30;
      if (v1 !== v2) return v1 - v2;
    } else if (isDigit(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return c1 - c2;
    } else {
      i++;
      j++;
    }
  }
  return at(p, i) - at(q, j);
}

const popcount = (v: bigint): number => v.toString(2).split('').filter((c) => c === '1').length;

/** cache.c compare(): descending by name, then flags, glibc-hwcaps entries
 * first (by subdir name), then more hwcap bits, then larger hwcap. */
function compareEntries(e1: CacheLibrary, e2: CacheLibrary): number {
  const res = dlCacheLibcmp(e2.name, e1.name);
  if (res !== 0) return res;
  if (e1.flags !== e2.flags) return e1.flags < e2.flags ? 1 : -1;
  const h1 = e1.hwcapsSubdir;
  const h2 = e2.hwcapsSubdir;
  if (h1 !== undefined && h2 === undefined) return -1;
  if (h1 === undefined && h2 !== undefined) return 1;
  if (h1 !== undefined && h2 !== undefined) {
    const byName = compareUtf8(h1, h2);
    if (byName !== 0) return byName;
  }
  const w1 = h1 === undefined ? (e1.hwcap ?? 0n) : 0n;
  const w2 = h2 === undefined ? (e2.hwcap ?? 0n) : 0n;
  const bits = popcount(w2) - popcount(w1);
  if (bits !== 0) return bits > 0 ? 1 : -1;
  return w2 > w1 ? 1 : w2 < w1 ? -1 : 0;
}

/** ldconfig keeps a linked list and inserts each entry before the first one
 * that compares greater; replaying that keeps its exact tie order. */
function sortLikeLdconfig(libraries: CacheLibrary[]): CacheLibrary[] {
  const list: CacheLibrary[] = [];
  for (const lib of libraries) {
    const at = list.findIndex((e) => compareEntries(e, lib) > 0);
    list.splice(at < 0 ? list.length : at, 0, lib);
  }
  return list;
}

/** stringtable.c: strings sorted by reversed bytes, descending, longer first,
 * so that a string that is a suffix of its predecessor shares its bytes. */
function finalizeStrings(strings: Iterable<string>): { table: Buffer; offsets: Map<string, number> } {
  const items = [...new Set(strings)].map((s) => ({ s, b: Buffer.from(s, 'utf8') }));
  items.sort((l, r) => {
    const n = Math.min(l.b.length, r.b.length);
    for (let i = 1; i <= n; i++) {
      const d = (r.b[r.b.length - i] ?? 0) - (l.b[l.b.length - i] ?? 0);
      if (d !== 0) return d;
    }
    return r.b.length - l.b.length;
  });
  const offsets = new Map<string, number>();
  const chunks: Buffer[] = [];
  let size = 0;
  let prev: { b: Buffer; offset: number } | undefined;
  for (const { s, b } of items) {
    let offset: number;
    if (prev !== undefined && prev.b.length >= b.length && prev.b.subarray(prev.b.length - b.length).equals(b)) {
      offset = prev.offset + prev.b.length - b.length;
    } else {
      offset = size;
      chunks.push(b, Buffer.alloc(1));
      size += b.length + 1;
    }
    offsets.set(s, offset);
    prev = { b, offset };
  }
  return { table: Buffer.concat(chunks), offsets };
}

class Writer {
  constructor(
    readonly buf: Buffer,
    readonly big: boolean,
  ) {}
  u32(off: number, v: number): void {
    if (this.big) this.buf.writeUInt32BE(v >>> 0, off);
    else this.buf.writeUInt32LE(v >>> 0, off);
  }
  u64(off: number, v: bigint): void {
    if (this.big) this.buf.writeBigUInt64BE(v & U64, off);
    else this.buf.writeBigUInt64LE(v & U64, off);
  }
}

/** Index of each used glibc-hwcaps subdirectory: position in strcmp order. */
function hwcapsIndices(sorted: CacheLibrary[]): string[] {
  const used = new Set<string>();
  for (const e of sorted) if (e.hwcapsSubdir !== undefined) used.add(e.hwcapsSubdir);
  return [...used].sort(compareUtf8);
}

function entryHwcap(e: CacheLibrary, hwcapsOrder: string[]): bigint {
  if (e.hwcapsSubdir === undefined) return e.hwcap ?? 0n;
  const isa = e.isaLevel ?? 0;
  if (isa > 0x3ff) throw new Error(`${e.path}: ISA level is too high (${isa} > 1023)`);
  return HWCAP_EXTENSION | (BigInt(isa) << 32n) | BigInt(hwcapsOrder.indexOf(e.hwcapsSubdir));
}

/** The bytes of /etc/ld.so.cache for these entries, given in the order
 * ldconfig would add them (that order breaks ties). */
export function ldsoCache(libraries: CacheLibrary[], options: LdsoCacheOptions = {}): Buffer {
  const sorted = sortLikeLdconfig(libraries);
  const hwcapsOrder = hwcapsIndices(sorted);
  const generator = Buffer.from(options.generator ?? BOOKWORM_GENERATOR, 'utf8');
  const interned = [...(options.hwcapsSubdirs ?? []), ...hwcapsOrder, ...sorted.flatMap((e) => [e.path, e.name])];
  const { table, offsets } = finalizeStrings(interned);

  const strOffset = HEADER_SIZE + ENTRY_SIZE * sorted.length;
  const extOffset = Math.ceil((strOffset + table.length) / 4) * 4;
  const sections = hwcapsOrder.length > 0 ? 2 : 1;
  const dirSize = 8 + 16 * sections;
  const hwcapsOffset = extOffset + 8 + 16 * 2; // ldconfig reserves room for both sections
  const generatorOffset = hwcapsOrder.length > 0 ? hwcapsOffset + 4 * hwcapsOrder.length : hwcapsOffset - 16;
  const buf = Buffer.alloc(generatorOffset + generator.length);
  const w = new Writer(buf, options.bigEndian ?? false);

  buf.write('glibc-ld.so.cache1.1', 0, 'latin1');
  w.u32(20, sorted.length);
  w.u32(24, table.length);
  buf[28] = options.bigEndian ? 3 : 2;
  w.u32(32, extOffset);
  sorted.forEach((e, i) => {
    const at = HEADER_SIZE + ENTRY_SIZE * i;
    w.u32(at, e.flags);
    w.u32(at + 4, strOffset + (offsets.get(e.name) ?? 0));
    w.u32(at + 8, strOffset + (offsets.get(e.path) ?? 0));
    w.u32(at + 12, e.osVersion ?? 0);
    w.u64(at + 16, entryHwcap(e, hwcapsOrder));
  });
  table.copy(buf, strOffset);

  w.u32(extOffset, EXTENSION_MAGIC);
  w.u32(extOffset + 4, sections);
  writeSection(w, extOffset + 8, 0, generatorOffset, generator.length);
  if (hwcapsOrder.length > 0) {
    writeSection(w, extOffset + 24, 1, hwcapsOffset, 4 * hwcapsOrder.length);
    hwcapsOrder.forEach((name, i) => w.u32(hwcapsOffset + 4 * i, strOffset + (offsets.get(name) ?? 0)));
  }
  if (extOffset + dirSize > generatorOffset) throw new Error('ld.so.cache layout overlap');
  generator.copy(buf, generatorOffset);
  return buf;
}

function writeSection(w: Writer, at: number, tag: number, offset: number, size: number): void {
  w.u32(at, tag);
  w.u32(at + 4, 0);
  w.u32(at + 8, offset);
  w.u32(at + 12, size);
}

// ---------------------------------------------------------------------------
// Deciding the entries: a model of ldconfig's directory scan over an image.

export type ImageEntry =
  | { path: string; type: 'dir' }
  /** elf: elfInfo() of the file (undefined: not an ELF shared object);
   * text: contents, needed only for ld.so.conf and its includes. */
  | { path: string; type: 'file'; elf?: ElfInfo; text?: string }
  | { path: string; type: 'symlink'; target: string };

export interface ImageTree {
  entries: ImageEntry[];
}

export interface ScanOptions {
  /** Added after the configuration, in this order. Debian's ldconfig: */
  systemDirs?: string[];
  confFile?: string;
  /** Legacy hwcap subdirectory names and their bit (x86 ldconfig's defaults). */
  hwcapBits?: Record<string, number>;
}

export const DEBIAN_AMD64_SYSTEM_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'];

/** x86 ldconfig: hwcap names (all "important"), platforms from bit 48, tls = 63. */
export const X86_HWCAP_BITS: Record<string, number> = {
  sse2: 0,
  x86_64: 1,
  avx512_1: 2,
  i586: 48,
  i686: 49,
  haswell: 50,
  xeon_phi: 51,
  tls: 63,
};

type Node = ImageEntry | { path: string; type: 'implicit-dir' };

/** A read-only filesystem view of the image with symlink resolution rooted at "/". */
class ImageFs {
  private readonly nodes = new Map<string, Node>();
  private readonly children = new Map<string, Set<string>>();

  constructor(tree: ImageTree) {
    this.nodes.set('/', { path: '/', type: 'implicit-dir' });
    for (const e of tree.entries) this.add(normalize(e.path), e);
  }

  private add(path: string, node: Node): void {
    if (path !== '/' && !(this.nodes.get(path)?.type === 'dir' && node.type === 'implicit-dir')) this.nodes.set(path, node);
    if (path === '/') return;
    const parent = dirname(path);
    if (!this.nodes.has(parent)) this.add(parent, { path: parent, type: 'implicit-dir' });
    let set = this.children.get(parent);
    if (set === undefined) this.children.set(parent, (set = new Set()));
    set.add(basename(path));
  }

  lstat(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  /** Canonical path of PATH with every symlink followed; undefined if dangling. */
  resolve(path: string, followLast = true): string | undefined {
    const todo = path.split('/').filter((c) => c !== '');
    let cur = '/';
    for (let hops = 0; todo.length > 0; ) {
      const comp = todo.shift() ?? '';
      if (comp === '.') continue;
      if (comp === '..') {
        cur = dirname(cur);
        continue;
      }
      const next = cur === '/' ? `/${comp}` : `${cur}/${comp}`;
      const node = this.nodes.get(next);
      if (node === undefined) return undefined;
      if (node.type === 'symlink' && (followLast || todo.length > 0)) {
        if (++hops > 40) return undefined;
        todo.unshift(...node.target.split('/').filter((c) => c !== ''));
        if (node.target.startsWith('/')) cur = '/';
        continue;
      }
      if (todo.length > 0 && !isDir(node)) return undefined;
      cur = next;
    }
    return cur;
  }

  stat(path: string): Node | undefined {
    const real = this.resolve(path);
    return real === undefined ? undefined : this.nodes.get(real);
  }

  /** Directory listing; ldconfig uses readdir order, we use byte order. */
  readdir(canonical: string): string[] {
    return [...(this.children.get(canonical) ?? [])].sort(compareUtf8);
  }
}

const isDir = (n: Node): boolean => n.type === 'dir' || n.type === 'implicit-dir';

function normalize(path: string): string {
  const parts = path.split('/').filter((c) => c !== '' && c !== '.');
  return `/${parts.join('/')}`;
}
function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

interface DirEntry {
  path: string;
  /** Directory identity (ldconfig uses st_dev/st_ino): the canonical path. */
  id: string;
  flag: number;
  hwcaps?: string;
}

const FLAG_ANY = -1;
const LIB_TYPES: Record<string, number> = { libc4: 0, libc5: LdFlag.ELF_LIBC5, libc6: LdFlag.ELF_LIBC6, glibc2: LdFlag.ELF_LIBC6 };

/** The ordered, de-duplicated list of directories ldconfig scans. */
class DirList {
  readonly dirs: DirEntry[] = [];
  readonly hwcapsNames = new Set<string>();
  constructor(private readonly fs: ImageFs) {}

  /** add_single_dir: an already-known directory only takes the new flag. */
  addSingle(entry: DirEntry): boolean {
    const dup = this.dirs.find((d) => d.id === entry.id);
    if (dup !== undefined) {
      dup.flag = entry.flag;
      return false;
    }
    this.dirs.push(entry);
    return true;
  }

  /** add_dir_1: "path[=type]", trailing blanks and slashes removed. */
  add(line: string): void {
    const eq = line.indexOf('=');
    let path = eq < 0 ? line : line.slice(0, eq);
    const flag = eq < 0 ? FLAG_ANY : (LIB_TYPES[line.slice(eq + 1)] ?? FLAG_ANY);
    path = path.replace(/\s+$/, '').replace(/\/+$/, '');
    if (path === '') return;
    const id = this.fs.resolve(path);
    if (id === undefined) return;
    if (this.addSingle({ path, id, flag })) this.addGlibcHwcaps(path, id, flag);
  }

  private addGlibcHwcaps(path: string, id: string, flag: number): void {
    const base = id === '/' ? '/glibc-hwcaps' : `${id}/glibc-hwcaps`;
    const real = this.fs.resolve(base);
    if (real === undefined || !isDir(this.fs.lstat(real) ?? { path: '', type: 'symlink', target: '' })) return;
    for (const name of this.fs.readdir(real)) {
      const child = `${real}/${name}`;
      if (name.startsWith('.') || name.includes(':') || this.fs.lstat(child)?.type === 'file') continue;
      const target = this.fs.resolve(child);
      const node = target === undefined ? undefined : this.fs.lstat(target);
      if (target === undefined || node === undefined || !isDir(node)) continue;
      this.hwcapsNames.add(name);
      this.addSingle({ path: `${path}/glibc-hwcaps/${name}`, id: target, flag, hwcaps: name });
    }
  }
}

/** _dl_is_dso: lib*.so*, ld-*.so*, ld.so.*, ld64.so.* */
export function isDsoName(name: string): boolean {
  return ((name.startsWith('lib') || name.startsWith('ld-')) && name.includes('.so')) || name.startsWith('ld.so.') || name.startsWith('ld64.so.');
}

function isPrelinkTemp(name: string): boolean {
  return name.endsWith('.#prelink#') || (name.length >= 17 && name.slice(name.length - 17, name.length - 6) === '.#prelink#.');
}

/** path_hwcap: sum of the bits of trailing hwcap/platform path components. */
function pathHwcap(path: string, bits: Record<string, number>): bigint {
  let hwcap = 0n;
  let rest = path;
  for (let i = rest.lastIndexOf('/'); i >= 0; i = rest.lastIndexOf('/')) {
    const bit = bits[rest.slice(i + 1)];
    if (bit === undefined) break;
    hwcap = (hwcap + (1n << BigInt(bit))) & U64;
    rest = rest.slice(0, i);
  }
  return hwcap;
}

interface DirLib {
  name: string;
  soname: string;
  flag: number;
  isLink: boolean;
  isaLevel: number;
}

interface Candidate {
  name: string;
  isLink: boolean;
  elf: ElfInfo & { flags: number };
}

/** Classify one directory entry as ldconfig would; adds legacy hwcap
 * subdirectories to the scan list as a side effect. */
function candidate(fs: ImageFs, list: DirList, entry: DirEntry, dirReal: string, name: string, bits: Record<string, number>): Candidate | undefined {
  const real = `${dirReal === '/' ? '' : dirReal}/${name}`;
  const node = fs.lstat(real);
  if (node === undefined) return undefined;
  const canDescend = entry.hwcaps === undefined && bits[name] !== undefined;
  if (!isDsoName(name) && (node.type === 'file' || !canDescend)) return undefined;
  if (isPrelinkTemp(name)) return undefined;
  const isLink = node.type === 'symlink';
  const target = isLink ? fs.resolve(real) : real;
  const targetNode = target === undefined ? undefined : fs.lstat(target);
  if (target === undefined || targetNode === undefined) return undefined; // stale symlink
  if (canDescend && isDir(targetNode)) {
    list.addSingle({ path: `${entry.path}/${name}`, id: target, flag: entry.flag });
    return undefined;
  }
  if (targetNode.type !== 'file' || targetNode.elf?.flags === undefined) return undefined;
  return { name, isLink, elf: { ...targetNode.elf, flags: targetNode.elf.flags } };
}

/** The soname ldconfig files a candidate under, and whether it stays a link. */
function sonameOf(c: Candidate): { soname: string; isLink: boolean } {
  const soname = c.elf.soname ?? c.name;
  if (!c.isLink) return { soname, isLink: false };
  const keepsLink = c.name === soname || (c.name.length >= 3 && c.name.endsWith('.so') && soname.startsWith(c.name));
  return keepsLink ? { soname: c.name, isLink: true } : { soname, isLink: false };
}

/** Same soname twice in a directory: prefer a file to a link, else the
 * libcmp-greater name; the first flag is kept unless ELF vs libc5/6. */
function merge(existing: DirLib, next: DirLib): void {
  if (!((!next.isLink && existing.isLink) || (next.isLink === existing.isLink && dlCacheLibcmp(existing.name, next.name) < 0))) return;
  const libc = (f: number): boolean => f === LdFlag.ELF_LIBC5 || f === LdFlag.ELF_LIBC6;
  if (existing.flag !== next.flag && ((existing.flag === LdFlag.ELF && libc(next.flag)) || (libc(existing.flag) && next.flag === LdFlag.ELF))) {
    existing.flag = next.flag;
  }
  existing.name = next.name;
  existing.isLink = next.isLink;
  existing.isaLevel = next.isaLevel;
}

function searchDir(fs: ImageFs, list: DirList, entry: DirEntry, bits: Record<string, number>): CacheLibrary[] {
  const dirReal = fs.resolve(entry.path);
  const dirNode = dirReal === undefined ? undefined : fs.lstat(dirReal);
  if (dirReal === undefined || dirNode === undefined || !isDir(dirNode)) return [];
  const hwcap = entry.hwcaps === undefined ? pathHwcap(entry.path, bits) : 0n;
  const dlibs: DirLib[] = [];
  for (const name of fs.readdir(dirReal)) {
    const c = candidate(fs, list, entry, dirReal, name, bits);
    if (c === undefined) continue;
    const { soname, isLink } = sonameOf(c);
    let flag = c.elf.flags;
    if (flag === LdFlag.ELF && (entry.flag === LdFlag.ELF_LIBC5 || entry.flag === LdFlag.ELF_LIBC6)) flag = entry.flag;
    const lib: DirLib = { name, soname, flag, isLink, isaLevel: c.elf.isaLevel };
    const existing = dlibs.find((d) => d.soname === soname);
    if (existing === undefined) dlibs.unshift(lib); // ldconfig prepends
    else merge(existing, lib);
  }
  return dlibs.map((d) => ({
    name: d.soname,
    path: `${entry.path}/${entry.hwcaps === undefined ? d.soname : d.name}`,
    flags: d.flag,
    hwcap,
    ...(entry.hwcaps === undefined ? {} : { hwcapsSubdir: entry.hwcaps, isaLevel: d.isaLevel }),
  }));
}

/** Shell-style glob of one absolute pattern (*, ?, [...]), sorted like glob(3) in the C locale. */
function glob(fs: ImageFs, pattern: string): string[] {
  let found = ['/'];
  for (const comp of pattern.split('/').filter((c) => c !== '')) {
    const re = /[*?[]/.test(comp) ? globRegExp(comp) : undefined;
    const next: string[] = [];
    for (const base of found) {
      const prefix = base === '/' ? '' : base;
      if (re === undefined) {
        if (fs.resolve(`${prefix}/${comp}`) !== undefined || fs.lstat(`${prefix}/${comp}`) !== undefined) next.push(`${prefix}/${comp}`);
        continue;
      }
      const real = fs.resolve(base);
      if (real === undefined) continue;
      for (const name of fs.readdir(real)) if (re.test(name)) next.push(`${prefix}/${name}`);
    }
    found = next;
  }
  return found.sort(compareUtf8);
}

function globRegExp(comp: string): RegExp {
  let src = '';
  for (let i = 0; i < comp.length; i++) {
    const ch = comp[i] ?? '';
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else if (ch === '[' && comp.indexOf(']', i + 2) > 0) {
      const end = comp.indexOf(']', i + 2);
      const body = comp.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      src += `[${body}]`;
      i = end;
    } else src += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  // A leading '.' is only matched explicitly.
  return new RegExp(comp.startsWith('.') ? `^${src}$` : `^(?!\\.)${src}$`);
}

/** parse_conf: one directory per line, `include` globs, `#` comments. */
function parseConf(fs: ImageFs, list: DirList, file: string, depth = 0): void {
  const real = fs.resolve(file);
  const node = real === undefined ? undefined : fs.lstat(real);
  if (node?.type !== 'file' || node.text === undefined || depth > 20) return;
  for (const raw of node.text.split('\n')) {
    const line = (raw.split('#')[0] ?? '').replace(/^\s+/, '');
    if (line === '') continue;
    if (/^include[ \t]/.test(line)) {
      for (const word of line.slice(8).split(/[ \t]/)) {
        if (word === '') continue;
        const pattern = word.startsWith('/') ? word : `${dirname(file)}/${word}`;
        for (const match of glob(fs, pattern)) parseConf(fs, list, match, depth + 1);
      }
    } else if (!/^hwcap[ \t]/i.test(line)) {
      list.add(line);
    }
  }
}

export interface CacheInput {
  /** In ldconfig's add_to_cache order. */
  libraries: CacheLibrary[];
  hwcapsSubdirs: string[];
}

/** Everything ldconfig (run with -X, as in `ldconfig -X -r ROOT`) would put
 * in the cache for this image. */
export function scanImage(tree: ImageTree, options: ScanOptions = {}): CacheInput {
  const fs = new ImageFs(tree);
  const list = new DirList(fs);
  const bits = options.hwcapBits ?? X86_HWCAP_BITS;
  parseConf(fs, list, options.confFile ?? '/etc/ld.so.conf');
  for (const dir of options.systemDirs ?? DEBIAN_AMD64_SYSTEM_DIRS) list.add(dir);
  const libraries: CacheLibrary[] = [];
  // The list grows while scanning (legacy hwcap subdirectories).
  for (let i = 0; i < list.dirs.length; i++) {
    const entry = list.dirs[i];
    if (entry !== undefined) libraries.push(...searchDir(fs, list, entry, bits));
  }
  return { libraries, hwcapsSubdirs: [...list.hwcapsNames] };
}

/** The cache entries for an image, ready for ldsoCache(). */
export function cacheLibraries(tree: ImageTree, options: ScanOptions = {}): CacheLibrary[] {
  return scanImage(tree, options).libraries;
}

/** Convenience: the ld.so.cache bytes for an image tree. */
export function ldsoCacheForImage(tree: ImageTree, options: ScanOptions & LdsoCacheOptions = {}): Buffer {
  const { libraries, hwcapsSubdirs } = scanImage(tree, options);
  return ldsoCache(libraries, { ...options, hwcapsSubdirs: [...hwcapsSubdirs, ...(options.hwcapsSubdirs ?? [])] });
}
