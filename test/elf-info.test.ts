// Oracle: binutils `readelf -h -d -W` on real shared objects and PIE
// executables of this host.
import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { unpackDeb } from '../adapters/deb/unpack.js';
import { elfInfo, EM_X86_64, fileBytes, LdFlag } from '../src/elf/elfInfo.js';
import { hostileDeb } from './helpers/hostilePackages.js';

const MACHINES: Record<string, number> = { 'Advanced Micro Devices X86-64': 62, 'Intel 80386': 3, AArch64: 183 };

interface Readelf {
  elfClass: number;
  type: string;
  machine: number | undefined;
  soname?: string;
  needed: string[];
}

function readelf(path: string): Readelf {
  const out = execFileSync('readelf', ['-h', '-d', '-W', path], { encoding: 'utf8' });
  const field = (name: string): string => (new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(out)?.[1] ?? '').trim();
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1] ?? '');
  const soname = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(out)?.[1];
  return {
    elfClass: field('Class') === 'ELF64' ? 64 : 32,
    type: field('Type').split(' ')[0] ?? '',
    machine: MACHINES[field('Machine')],
    needed,
    ...(soname === undefined ? {} : { soname }),
  };
}

function sample(dir: string, filter: (n: string) => boolean, count: number): string[] {
  const names = readdirSync(dir)
    .filter(filter)
    .map((n) => `${dir}/${n}`)
    .filter((p) => lstatSync(p).isFile())
    .sort();
  const step = Math.max(1, Math.floor(names.length / count));
  return names.filter((_, i) => i % step === 0).slice(0, count);
}

const libs = sample('/usr/lib/x86_64-linux-gnu', (n) => /^lib.*\.so/.test(n), 40);
const bins = sample('/usr/bin', () => true, 40).filter((p) => readFileSync(p).subarray(0, 4).toString('latin1') === '\x7fELF');

describe('elfInfo vs readelf', () => {
  it('has enough samples', () => {
    expect(libs.length).toBeGreaterThanOrEqual(30);
    expect(bins.length).toBeGreaterThanOrEqual(10);
  });

  it.each([...libs, ...bins])('%s', (path) => {
    const bytes = readFileSync(path);
    const oracle = readelf(path);
    const info = elfInfo(bytes);
    if (oracle.type !== 'DYN') {
      expect(info).toBeUndefined();
      return;
    }
    expect(info).toBeDefined();
    expect(info?.elfClass).toBe(oracle.elfClass);
    expect(info?.machine).toBe(oracle.machine);
    expect(info?.endian).toBe('little');
    expect(info?.soname).toBe(oracle.soname);
    expect(info?.needed).toEqual(oracle.needed);
    expect(info?.flags).toBe(LdFlag.X8664_LIB64 | LdFlag.ELF_LIBC6);
  });
});

describe('elfInfo on bad input', () => {
  const libz = readFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1');

  it('reads libz', () => {
    const info = elfInfo(libz);
    expect(info).toMatchObject({ soname: 'libz.so.1', machine: EM_X86_64, elfClass: 64, needed: ['libc.so.6'] });
  });

  it('rejects non-ELF and tiny inputs', () => {
    expect(elfInfo(Buffer.from('/* GNU ld script */ GROUP ( libc.so.6 )'))).toBeUndefined();
    expect(elfInfo(Buffer.alloc(0))).toBeUndefined();
    expect(elfInfo(libz.subarray(0, 20))).toBeUndefined();
  });

  it('never throws on truncations', () => {
    for (let len = 0; len < libz.length; len += 97) {
      const info = elfInfo(libz.subarray(0, len));
      if (info?.soname !== undefined) expect(info.soname).toBe('libz.so.1');
    }
  });

  it('never throws on corrupted headers', () => {
    let seed = 1;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const copy = Buffer.from(libz.subarray(0, 8192));
      for (let k = 0; k < 4; k++) copy[rand(i % 2 === 0 ? 64 : 8192)] = rand(256);
      expect(() => elfInfo(copy)).not.toThrow();
    }
  });
});

describe('a library read from disk by offset, as large ones are', () => {
  it.each(['libc.so.6', 'libz.so.1'])('%s: the same facts as from the whole buffer', (name) => {
    const file = `/usr/lib/x86_64-linux-gnu/${name}`;
    const bytes = readFileSync(file);
    const fd = openSync(file, 'r');
    try {
      const fromDisk = elfInfo(fileBytes(fd, bytes.length));
      expect(fromDisk?.soname).toBeDefined();
      expect(fromDisk).toEqual(elfInfo(bytes));
    } finally {
      closeSync(fd);
    }
  });
});

describe('a large library in a .deb is read through a spool file', () => {
  it('its ldconfig facts equal those of the buffer, and no spool is left', async () => {
    const lib = readFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1.2.13');
    // Padded past the in-memory bound: the dynamic section stays where it was.
    const padded = Buffer.concat([lib, Buffer.alloc(6 * 1024 * 1024)]);
    const deb = hostileDeb({
      name: 'libbig',
      installedSize: 8 * 1024,
      data: [{ name: './usr/', type: 'directory' }, { name: './usr/lib/', type: 'directory' }, { name: './usr/lib/libz.so.1.2.13', body: padded }],
    });
    const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-elf-spool-'));
    const spoolsBefore = readdirSync(os.tmpdir()).filter((d) => d.startsWith('layerpkg-elf-')).length;
    try {
      writeFileSync(path.join(work, 'libbig.deb'), deb);
      const result = unpackDeb(path.join(work, 'libbig.deb'), 'libbig');
      for await (const { body } of result.entries) if (body) for await (const _ of body) void _;
      const meta = (await result.metadata) as DebMetadata;
      expect(meta.libraries?.['usr/lib/libz.so.1.2.13']).toEqual(elfInfo(lib));
      expect(readdirSync(os.tmpdir()).filter((d) => d.startsWith('layerpkg-elf-')).length).toBe(spoolsBefore);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
