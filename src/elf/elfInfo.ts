// Reads what ldconfig needs from an ELF shared object: header fields, the
// dynamic section (DT_SONAME, DT_NEEDED), PT_INTERP and the x86 ISA level,
// and classifies the object the way glibc 2.36's ldconfig does (the `flags`
// stored in /etc/ld.so.cache). Never throws and never reads out of bounds.

import { readSync } from 'node:fs';

/** ldconfig's library type flags (glibc sysdeps/generic/ldconfig.h). */
export const LdFlag = {
  ELF: 0x0001,
  ELF_LIBC5: 0x0002,
  ELF_LIBC6: 0x0003,
  SPARC_LIB64: 0x0100,
  IA64_LIB64: 0x0200,
  X8664_LIB64: 0x0300,
  S390_LIB64: 0x0400,
  POWERPC_LIB64: 0x0500,
  X8664_LIBX32: 0x0800,
  ARM_LIBHF: 0x0900,
  AARCH64_LIB64: 0x0a00,
  ARM_LIBSF: 0x0b00,
} as const;

export const EM_386 = 3;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const ET_DYN = 3;

export interface ElfInfo {
  elfClass: 32 | 64;
  endian: 'little' | 'big';
  /** e_type (always ET_DYN: other types are not returned). */
  type: number;
  machine: number;
  osAbi: number;
  /** e_flags, needed to classify ARM objects. */
  eFlags: number;
  soname?: string;
  needed: string[];
  interpreter?: string;
  /** x86 ISA level (bit index of GNU_PROPERTY_X86_ISA_1_NEEDED), else 0. */
  isaLevel: number;
  /** ldconfig's classification, or undefined when ldconfig would skip the
   * file (no dynamic segment, no DT_STRTAB, machine/class mismatch). */
  flags?: number;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_GNU_PROPERTY = 0x6474e553;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_SONAME = 14n;
const NT_GNU_PROPERTY_TYPE_0 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
const EF_ARM_EABIMASK = 0xff000000;
const EF_ARM_EABI_VER5 = 0x05000000;
const EF_ARM_ABI_FLOAT_SOFT = 0x200;
const EF_ARM_ABI_FLOAT_HARD = 0x400;

/** Interpreters and DT_NEEDED names that make ldconfig say "libc6". */
const KNOWN_INTERPRETERS = new Set([
  '/lib/ld-linux.so.2',
  '/lib/ld-linux-x86-64.so.2',
  '/libx32/ld-linux-x32.so.2',
  '/lib64/ld-linux-x86-64.so.2',
  '/lib/ld-linux-aarch64.so.1',
  '/lib/ld-linux-aarch64_be.so.1',
  '/lib/ld-linux.so.3',
  '/lib/ld-linux-armhf.so.3',
]);
const KNOWN_LIBS = new Set(['libc.so.6', 'libm.so.6']);

class OutOfBounds extends Error {}

/**
 * The bytes of a file, read where needed: a whole buffer, or (for a large library) the file on
 * disk, so that reading a 1 GB shared object costs a few pages, not a gigabyte of memory.
 */
export interface ElfBytes {
  readonly length: number;
  /** `size` bytes at `offset` (fewer only past the end). */
  slice(offset: number, size: number): Buffer;
}

function bufferBytes(buf: Buffer): ElfBytes {
  return { length: buf.length, slice: (offset, size) => buf.subarray(offset, offset + size) };
}

/** An open file's bytes, read through one cached window (ELF reads cluster: headers, then the dynamic section). */
export function fileBytes(fd: number, length: number): ElfBytes {
  const WINDOW = 64 * 1024;
  let start = 0;
  let window = Buffer.alloc(0);
  return {
    length,
    slice(offset, size) {
      if (offset >= start && offset + size <= start + window.length) return window.subarray(offset - start, offset - start + size);
      const buf = Buffer.alloc(Math.max(size, WINDOW));
      const read = readSync(fd, buf, 0, buf.length, offset);
      start = offset;
      window = buf.subarray(0, read);
      return window.subarray(0, Math.min(size, read));
    },
  };
}

/** Strings longer than this (a soname, an interpreter path) are malformed input. */
const CSTRING_LIMIT = 64 * 1024;

/** Bounds-checked reader for one ELF class and byte order. */
class Reader {
  readonly wordSize: number;
  constructor(
    readonly bytes: ElfBytes,
    readonly little: boolean,
    readonly is64: boolean,
  ) {
    this.wordSize = is64 ? 8 : 4;
  }
  private at(off: number | bigint, size: number): Buffer {
    const o = Number(off);
    if (!Number.isSafeInteger(o) || o < 0 || o + size > this.bytes.length) throw new OutOfBounds();
    return this.bytes.slice(o, size);
  }
  u8(off: number | bigint): number {
    return this.at(off, 1)[0] ?? 0;
  }
  u16(off: number | bigint): number {
    const b = this.at(off, 2);
    return this.little ? b.readUInt16LE(0) : b.readUInt16BE(0);
  }
  u32(off: number | bigint): number {
    const b = this.at(off, 4);
    return this.little ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }
  /** An address/offset/size-sized field (Elf32_Addr or Elf64_Addr). */
  word(off: number | bigint): bigint {
    if (!this.is64) return BigInt(this.u32(off));
    const b = this.at(off, 8);
    return this.little ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
  }
  /** NUL-terminated string; a missing terminator is malformed input. */
  cstring(off: bigint): string {
    const o = Number(off);
    this.at(o, 0);
    const text = this.bytes.slice(o, Math.min(CSTRING_LIMIT, this.bytes.length - o));
    const end = text.indexOf(0);
    if (end < 0) throw new OutOfBounds();
    return text.toString('utf8', 0, end);
  }
}

interface Phdr {
  type: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  align: bigint;
}

function readPhdr(r: Reader, at: bigint): Phdr {
  if (r.is64) {
    return { type: r.u32(at), offset: r.word(at + 8n), vaddr: r.word(at + 16n), filesz: r.word(at + 32n), align: r.word(at + 48n) };
  }
  return { type: r.u32(at), offset: r.word(at + 4n), vaddr: r.word(at + 8n), filesz: r.word(at + 16n), align: r.word(at + 28n) };
}

function readPhdrs(r: Reader): Phdr[] {
  const phoff = r.word(r.is64 ? 32 : 28);
  const phnum = r.u16(r.is64 ? 56 : 44);
  // ldconfig strides by sizeof(Phdr), not e_phentsize.
  const size = BigInt(r.is64 ? 56 : 32);
  const out: Phdr[] = [];
  for (let i = 0n; i < BigInt(phnum); i++) out.push(readPhdr(r, phoff + i * size));
  return out;
}

interface DynEntry {
  tag: bigint;
  val: bigint;
}

/** Dynamic entries up to DT_NULL, bounded by the segment and the file. */
function readDynamic(r: Reader, dyn: Phdr): DynEntry[] {
  const size = BigInt(r.wordSize * 2);
  const out: DynEntry[] = [];
  for (let at = dyn.offset; at + size <= dyn.offset + dyn.filesz; at += size) {
    const tag = r.word(at);
    if (tag === 0n) return out;
    out.push({ tag, val: r.word(at + BigInt(r.wordSize)) });
  }
  return out;
}

/** File offset of DT_STRTAB's address via the PT_LOAD that maps it (ldconfig
 * falls back to treating the address as an offset). */
function strtabOffset(phdrs: Phdr[], addr: bigint): bigint {
  const load = phdrs.find((p) => p.type === PT_LOAD && addr >= p.vaddr && addr - p.vaddr < p.filesz);
  return load === undefined ? addr : addr - (load.vaddr - load.offset);
}

const alignUp = (v: bigint, a: bigint): bigint => (a <= 1n ? v : ((v + a - 1n) / a) * a);

/** ISA level from the first NT_GNU_PROPERTY_TYPE_0 note, as x86 ldconfig reads it. */
function isaLevelOf(r: Reader, seg: Phdr): number {
  const word = BigInt(r.wordSize);
  if (seg.align !== word) return 0;
  for (let rel = 0n; rel + 12n < seg.filesz; ) {
    const note = seg.offset + rel;
    const namesz = r.u32(note);
    const descsz = r.u32(note + 4n);
    const type = r.u32(note + 8n);
    if (namesz === 4 && type === NT_GNU_PROPERTY_TYPE_0 && r.u32(note + 12n) === (r.little ? 0x00554e47 : 0x474e5500)) {
      if (descsz < 8 || BigInt(descsz) % word !== 0n) return 0;
      return isaLevelInProperties(r, note + 16n, note + 16n + BigInt(descsz));
    }
    rel += alignUp(alignUp(12n + BigInt(namesz), word) + BigInt(descsz), word);
  }
  return 0;
}

function isaLevelInProperties(r: Reader, start: bigint, end: bigint): number {
  let lastType = 0;
  let ptr = start;
  do {
    const type = r.u32(ptr);
    const datasz = r.u32(ptr + 4n);
    if (type < lastType) return 0;
    ptr += 8n;
    if (ptr + BigInt(datasz) > end) return 0;
    lastType = type;
    if (type > GNU_PROPERTY_X86_ISA_1_NEEDED) return 0;
    if (type === GNU_PROPERTY_X86_ISA_1_NEEDED) {
      const needed = datasz === 4 ? r.u32(ptr) : 0;
      return needed === 0 ? 0 : 31 - Math.clz32(needed);
    }
    ptr += alignUp(BigInt(datasz), BigInt(r.wordSize));
  } while (end - ptr >= 8n);
  return 0;
}

/** The generic readelflib.c result: libc6 if the interpreter or a DT_NEEDED
 * is glibc's, else plain ELF. */
function genericFlag(interpreter: string | undefined, needed: string[]): number {
  if (interpreter !== undefined && KNOWN_INTERPRETERS.has(interpreter)) return LdFlag.ELF_LIBC6;
  return needed.some((n) => KNOWN_LIBS.has(n)) ? LdFlag.ELF_LIBC6 : LdFlag.ELF;
}

/** Per-architecture overrides from sysdeps/unix/sysv/linux/{x86,arm}/readelflib.c,
 * assuming the ldconfig of the object's own architecture. */
function classify(machine: number, is64: boolean, eFlags: number, generic: number): number | undefined {
  switch (machine) {
    case EM_X86_64:
      return (is64 ? LdFlag.X8664_LIB64 : LdFlag.X8664_LIBX32) | LdFlag.ELF_LIBC6;
    case EM_386:
      return is64 ? undefined : generic;
    case EM_AARCH64:
      return is64 ? LdFlag.AARCH64_LIB64 | LdFlag.ELF_LIBC6 : armFlag(eFlags, generic);
    case EM_ARM:
      return is64 ? generic : armFlag(eFlags, generic);
    default:
      return generic;
  }
}

function armFlag(eFlags: number, generic: number): number {
  if ((eFlags & EF_ARM_EABIMASK) >>> 0 !== EF_ARM_EABI_VER5) return generic;
  if (eFlags & EF_ARM_ABI_FLOAT_HARD) return LdFlag.ARM_LIBHF | LdFlag.ELF_LIBC6;
  if (eFlags & EF_ARM_ABI_FLOAT_SOFT) return LdFlag.ARM_LIBSF | LdFlag.ELF_LIBC6;
  return LdFlag.ELF_LIBC6;
}

function parse(bytes: ElfBytes): ElfInfo | undefined {
  const ident = bytes.slice(0, 16);
  if (bytes.length < 16 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const cls = ident[4];
  const data = ident[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const r = new Reader(bytes, data === 1, cls === 2);
  // ldconfig refuses files shorter than its own Ehdr.
  if (bytes.length < (r.is64 ? 64 : 52)) return undefined;
  const type = r.u16(16);
  if (type !== ET_DYN) return undefined;
  const machine = r.u16(18);
  const eFlags = r.u32(r.is64 ? 48 : 36);
  const phdrs = readPhdrs(r);

  const interpSeg = phdrs.find((p) => p.type === PT_INTERP);
  const interpreter = interpSeg === undefined ? undefined : r.cstring(interpSeg.offset);
  const isX86 = machine === EM_X86_64 || machine === EM_386;
  const prop = phdrs.find((p) => p.type === PT_GNU_PROPERTY);
  const isaLevel = isX86 && prop !== undefined ? isaLevelOf(r, prop) : 0;
  const dynSeg = phdrs.filter((p) => p.type === PT_DYNAMIC).at(-1);
  const dyn = dynSeg === undefined || dynSeg.filesz === 0n ? [] : readDynamic(r, dynSeg);
  const strtab = dyn.find((d) => d.tag === DT_STRTAB);
  const base: ElfInfo = {
    elfClass: r.is64 ? 64 : 32,
    endian: r.little ? 'little' : 'big',
    type,
    machine,
    osAbi: ident[7] ?? 0,
    eFlags,
    needed: [],
    isaLevel,
    ...(interpreter === undefined ? {} : { interpreter }),
  };
  if (strtab === undefined) return base;
  const strings = strtabOffset(phdrs, strtab.val);
  const needed = dyn.filter((d) => d.tag === DT_NEEDED).map((d) => r.cstring(strings + d.val));
  const sonameEntry = dyn.find((d) => d.tag === DT_SONAME);
  const soname = sonameEntry === undefined ? undefined : r.cstring(strings + sonameEntry.val);
  const flags = classify(machine, r.is64, eFlags, genericFlag(interpreter, needed));
  return {
    ...base,
    needed,
    ...(soname === undefined ? {} : { soname }),
    ...(flags === undefined ? {} : { flags }),
  };
}

/** Header and dynamic-section facts of an ELF shared object (ET_DYN, which
 * includes PIE executables); undefined for anything else or malformed input. */
export function elfInfo(bytes: Buffer | ElfBytes): ElfInfo | undefined {
  try {
    return parse(Buffer.isBuffer(bytes) ? bufferBytes(bytes) : bytes);
  } catch (e) {
    if (e instanceof OutOfBounds || e instanceof RangeError) return undefined;
    throw e;
  }
}
