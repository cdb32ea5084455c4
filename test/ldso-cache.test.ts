// Oracle: the real `ldconfig -X -r ROOT` (glibc 2.36, Debian bookworm) on
// temporary roots built from this host's libraries; our cache must be
// byte-identical.
import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elfInfo } from '../src/elf/elfInfo.js';
import type { ImageEntry } from '../src/translate/ldsoCache.js';
import { cacheLibraries, dlCacheLibcmp, ldsoCache, scanImage } from '../src/translate/ldsoCache.js';

const HOST = '/usr/lib/x86_64-linux-gnu';
const MA = 'usr/lib/x86_64-linux-gnu';
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** The generator string this host's ldconfig writes. */
function hostGenerator(): string {
  const first = execFileSync('ldconfig', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const m = /^ldconfig (\(.*\)) (\S+)$/.exec(first);
  return `ldconfig ${m?.[1] ?? ''} stable release version ${m?.[2] ?? ''}`;
}

/** A spread of small real libraries with all their host symlinks. */
function hostLibraries(count: number): { files: string[]; links: [string, string][] } {
  const names = readdirSync(HOST).sort();
  const regular = names.filter((n) => /^lib.*\.so/.test(n) && lstatSync(join(HOST, n)).isFile() && lstatSync(join(HOST, n)).size < 1_500_000 && elfInfo(readFileSync(join(HOST, n)))?.flags !== undefined);
  const step = Math.max(1, Math.floor(regular.length / count));
  const files = regular.filter((_, i) => i % step === 0).slice(0, count);
  for (const must of ['libz.so.1.2.13', 'libc.so.6', 'libm.so.6', 'libstdc++.so.6.0.30', 'libc.so']) if (names.includes(must) && !files.includes(must)) files.push(must);
  const chosen = new Set(files);
  const links: [string, string][] = [];
  for (const n of names) {
    if (!lstatSync(join(HOST, n)).isSymbolicLink()) continue;
    const target = readlinkSync(join(HOST, n));
    if (chosen.has(target) || (chosen.has(readlinkSync(join(HOST, n)).split('/').at(-1) ?? '') && !target.includes('/'))) links.push([n, target]);
  }
  return { files, links };
}

/** Rewrites the GNU_PROPERTY_X86_ISA_1_NEEDED value (LE) in a copy of an object. */
function withIsaNeeded(bytes: Buffer, value: number): Buffer {
  const copyBytes = Buffer.from(bytes);
  const at = copyBytes.indexOf(Buffer.from('028000c004000000', 'hex'));
  if (at < 0) throw new Error('no ISA_1_NEEDED property');
  copyBytes.writeUInt32LE(value, at + 8);
  return copyBytes;
}

function put(root: string, path: string, content: Buffer | string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
function link(root: string, path: string, target: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}
function copy(root: string, from: string, to: string): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(from, join(root, to));
}

/** A merged-/usr Debian-like root: /lib -> usr/lib, multiarch libs, ld.so.conf. */
function baseRoot(libCount = 30): string {
  const root = mkdtempSync(join(tmpdir(), 'ldso-cache-'));
  roots.push(root);
  mkdirSync(join(root, MA), { recursive: true });
  link(root, 'lib', 'usr/lib');
  const { files, links } = hostLibraries(libCount);
  for (const f of files) copy(root, join(HOST, f), `${MA}/${f}`);
  for (const [n, t] of links) link(root, `${MA}/${n}`, t);
  put(root, 'etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n\n');
  put(root, 'etc/ld.so.conf.d/libc.conf', '# libc default configuration\n/usr/local/lib\n');
  put(root, 'etc/ld.so.conf.d/x86_64-linux-gnu.conf', '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n');
  return root;
}

/** The image tree as layerpkg would know it: paths, link targets, ELF facts. */
function treeOf(root: string): ImageEntry[] {
  const out: ImageEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel))) {
      const path = `${rel}/${name}`;
      if (path === '/etc/ld.so.cache' || path === '/var') continue;
      const st = lstatSync(join(root, path));
      if (st.isSymbolicLink()) out.push({ path, type: 'symlink', target: readlinkSync(join(root, path)) });
      else if (st.isDirectory()) {
        out.push({ path, type: 'dir' });
        walk(path);
      } else {
        const bytes = readFileSync(join(root, path));
        const elf = elfInfo(bytes);
        out.push({ path, type: 'file', ...(elf === undefined ? {} : { elf }), ...(path.startsWith('/etc/') ? { text: bytes.toString('utf8') } : {}) });
      }
    }
  };
  walk('');
  return out;
}

function ldconfig(root: string): Buffer {
  execFileSync('ldconfig', ['-X', '-r', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(join(root, 'etc/ld.so.cache'));
}

function ours(root: string): Buffer {
  const { libraries, hwcapsSubdirs } = scanImage({ entries: treeOf(root) });
  return ldsoCache(libraries, { hwcapsSubdirs, generator: hostGenerator() });
}

function expectSameCache(root: string, minLibs = 1): void {
  const expected = ldconfig(root);
  expect(expected.readUInt32LE(20)).toBeGreaterThanOrEqual(minLibs);
  const actual = ours(root);
  if (!actual.equals(expected)) {
    const print = (file: string): string => execFileSync('ldconfig', ['-p', '-C', file], { encoding: 'utf8' });
    writeFileSync(join(root, 'ours.cache'), actual);
    expect(print(join(root, 'ours.cache'))).toBe(print(join(root, 'etc/ld.so.cache')));
    expect(actual.toString('hex')).toBe(expected.toString('hex'));
  }
}

describe('ld.so.cache vs ldconfig -X -r', () => {
  it('base merged-/usr tree', () => {
    const root = baseRoot();
    expectSameCache(root);
    const libs = cacheLibraries({ entries: treeOf(root) });
    expect(libs.find((l) => l.name === 'libz.so.1')?.path).toBe('/lib/x86_64-linux-gnu/libz.so.1');
  });

  it('many libraries', () => expectSameCache(baseRoot(150), 150));

  it('no configuration at all (system dirs only)', () => {
    const root = baseRoot();
    rmSync(join(root, 'etc/ld.so.conf'));
    rmSync(join(root, 'etc/ld.so.conf.d'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    expectSameCache(root);
  });

  it('extra dir from ld.so.conf.d, file name differing from soname, odd symlinks', () => {
    const root = baseRoot();
    put(root, 'etc/ld.so.conf.d/x.conf', '/opt/extra/lib/  # trailing slash and comment\nhwcap 0 nosegneg\n');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/extra/lib/libzcustom.so.9');
    link(root, 'opt/extra/lib/libzalias.so.3', 'libzcustom.so.9'); // neither soname nor dev link
    link(root, 'opt/extra/lib/libzcustom.so', 'libzcustom.so.9'); // dev link whose name is no soname prefix
    link(root, 'opt/extra/lib/libdangling.so.1', 'libnothere.so.1');
    copy(root, join(HOST, 'libm.so.6'), 'opt/extra/lib/libmfile.so');
    expectSameCache(root);
  });

  it('duplicate sonames in two dirs (precedence) and the same dir twice via a symlink', () => {
    const root = baseRoot();
    put(root, 'etc/ld.so.conf', '/opt/first\ninclude /etc/ld.so.conf.d/*.conf\n/opt/alias\n/opt/last\n');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/first/libz.so.1.2.13');
    link(root, 'opt/first/libz.so.1', 'libz.so.1.2.13');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/last/libz.so.1');
    copy(root, join(HOST, 'libm.so.6'), 'opt/last/libm.so.6');
    link(root, 'opt/alias', 'first');
    expectSameCache(root);
  });

  it('non-library files named lib*.so, directories and prelink leftovers', () => {
    const root = baseRoot();
    put(root, `${MA}/libscript.so`, '/* GNU ld script */\nGROUP ( libz.so.1 )\n');
    put(root, `${MA}/libtext.so.1`, 'hello world, this is definitely not an ELF file at all\n');
    put(root, `${MA}/libempty.so.2`, '');
    put(root, `${MA}/libtrunc.so.3`, readFileSync(join(HOST, 'libz.so.1.2.13')).subarray(0, 200));
    copy(root, '/usr/bin/ls', `${MA}/libnotalib.so.4`); // PIE executable: ET_DYN, has no DT_SONAME
    mkdirSync(join(root, MA, 'libdir.so.5'));
    copy(root, join(HOST, 'libz.so.1.2.13'), `${MA}/libq.so.7.#prelink#.ABCDEF`);
    copy(root, join(HOST, 'libz.so.1.2.13'), `${MA}/notlib.so.1`);
    expectSameCache(root);
  });

  it('two files with one soname in one directory', () => {
    const root = baseRoot();
    put(root, 'etc/ld.so.conf.d/x.conf', '/opt/dup\n');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/dup/libz.so.1.2.13');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/dup/libz.so.1.2.9');
    copy(root, join(HOST, 'libz.so.1.2.13'), 'opt/dup/libz.so.1.10.0');
    expectSameCache(root);
  });

  it('glibc-hwcaps and legacy hwcap subdirectories', () => {
    const root = baseRoot();
    copy(root, join(HOST, 'libz.so.1.2.13'), `${MA}/glibc-hwcaps/x86-64-v3/libz.so.1.2.13`);
    copy(root, join(HOST, 'libm.so.6'), `${MA}/glibc-hwcaps/x86-64-v2/libm.so.6`);
    mkdirSync(join(root, MA, 'glibc-hwcaps/x86-64-v4'), { recursive: true }); // unused: name still interned
    put(root, `${MA}/glibc-hwcaps/x86-64-v3/libc.so.6`, withIsaNeeded(readFileSync(join(HOST, 'libc.so.6')), 0b100));
    copy(root, join(HOST, 'libz.so.1.2.13'), `${MA}/tls/libz.so.1`);
    copy(root, join(HOST, 'libz.so.1.2.13'), `${MA}/haswell/x86_64/libz.so.1`);
    expectSameCache(root);
    const printed = execFileSync('ldconfig', ['-p', '-C', join(root, 'etc/ld.so.cache')], { encoding: 'utf8' });
    expect(printed).toContain('hwcap: "x86-64-v3"');
    expect(printed).toContain('hwcap: 0x8000000000000000');
    const libc = scanImage({ entries: treeOf(root) }).libraries.find((l) => l.hwcapsSubdir === 'x86-64-v3' && l.name === 'libc.so.6');
    expect(libc?.isaLevel).toBe(2);
  });

  it('empty root', () => {
    const root = mkdtempSync(join(tmpdir(), 'ldso-cache-'));
    roots.push(root);
    mkdirSync(join(root, 'etc'));
    expectSameCache(root, 0);
  });
});

describe('dlCacheLibcmp', () => {
  it('compares digit runs numerically', () => {
    expect(dlCacheLibcmp('libz.so.10', 'libz.so.9')).toBeGreaterThan(0);
    expect(dlCacheLibcmp('libz.so.1', 'libz.so.1')).toBe(0);
    expect(dlCacheLibcmp('liba.so', 'libb.so')).toBeLessThan(0);
    expect(dlCacheLibcmp('lib1', 'liba')).toBeGreaterThan(0);
  });
});
