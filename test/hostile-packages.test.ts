import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackApk } from '../adapters/apk/unpackApk.js';
import { decompressIndex, type IndexCompression } from '../adapters/decompressIndex.js';
import { unpackDeb } from '../adapters/deb/unpack.js';
import { unpackPacman } from '../adapters/pacman/unpackPkg.js';
import type { LayerEntry, UnpackLimits, UnpackResult } from '../adapters/types.js';
import { NAME_BYTES_LIMIT, PackageTree } from '../adapters/packageTree.js';
import { DEFAULT_LIMITS } from '../src/config/imageConfig.js';
import { makeApk, simpleApkSpec, type ApkSpec, type ApkSpecFile } from './helpers/apkRepo.js';
import { compress, hostileDeb, hostilePacman, rawTar, type Compression, type RawEntry } from './helpers/hostilePackages.js';
import { userErrorOf } from './helpers/userError.js';

/**
 * What every reader refuses, for all three formats, and what it keeps: one UserError naming the
 * package, the entry and why. The packages are made byte by byte (test/helpers/hostilePackages.ts).
 */
const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const LABEL = 'evil 1.0 (http://mirror/evil)';

function write(bytes: Buffer): string {
  const file = path.join(work, `pkg-${++n}`);
  writeFileSync(file, bytes);
  return file;
}

/** Consume an unpack as the layer writer does: every entry, every body, then the metadata. */
async function consume(result: UnpackResult): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for await (const { entry, body } of result.entries) {
    if (body) for await (const _ of body) void _;
    entries.push(entry);
  }
  await result.metadata;
  return entries;
}

type Format = 'deb' | 'apk' | 'pacman';

const TYPE_OF: Record<NonNullable<RawEntry['type']>, ApkSpecFile['type'] | undefined> = {
  file: 'file',
  directory: 'directory',
  symlink: 'symlink',
  hardlink: 'hardlink',
  'character-device': undefined,
};

/** The same hostile payload as each format's package. */
function unpackAs(format: Format, data: RawEntry[], limits: UnpackLimits = DEFAULT_LIMITS, compression?: Compression): UnpackResult {
  if (format === 'deb') return unpackDeb(write(hostileDeb({ data, compression })), LABEL, limits);
  if (format === 'pacman') return unpackPacman(write(hostilePacman(data, { compression })), LABEL, limits);
  const spec: ApkSpec = {
    ...simpleApkSpec('evil'),
    files: data.map((e) => ({
      path: String(e.name).replace(/^\.\//, ''),
      type: TYPE_OF[e.type ?? 'file']!,
      mode: e.mode ?? 0o644,
      uid: 0,
      gid: 0,
      mtime: 1700000000,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.body ? { content: e.body } : {}),
    })),
  };
  return unpackApk(write(makeApk(spec, null).bytes), LABEL, limits);
}

const file = (name: string, body = 'x\n'): RawEntry => ({ name, body: Buffer.from(body) });
const dir = (name: string): RawEntry => ({ name, type: 'directory' });
const symlink = (name: string, linkname: string): RawEntry => ({ name, type: 'symlink', linkname });
const hardlink = (name: string, linkname: string): RawEntry => ({ name, type: 'hardlink', linkname });

const REFUSED: [string, RawEntry[], RegExp][] = [
  ['an absolute path', [file('/etc/evil')], /refusing tar entry "\/etc\/evil": it would escape the image root/],
  ['a path with ".."', [dir('usr/'), file('usr/../../etc/evil')], /refusing tar entry "usr\/\.\.\/\.\.\/etc\/evil": it would escape the image root/],
  ['a file where the package put a symlink before', [dir('usr/'), symlink('usr/x', '/etc'), file('usr/x')], /refusing tar entry "usr\/x": the package ships this path twice, as a symlink and as a file/],
  ['a file beneath a regular file', [dir('usr/'), file('usr/f'), file('usr/f/g')], /refusing tar entry "usr\/f\/g": it lies beneath "usr\/f", which the package shipped as a file, not a directory/],
  ['a hard link to a name the package does not contain', [dir('usr/'), hardlink('usr/h', 'usr/nothing')], /refusing hard link "usr\/h" to "usr\/nothing": its target is not an earlier regular file of the package/],
  ['a hard link to a later file', [dir('usr/'), hardlink('usr/h', 'usr/later'), file('usr/later')], /refusing hard link "usr\/h" to "usr\/later": its target is not an earlier regular file/],
  ['a hard link to a directory', [dir('usr/'), dir('usr/d/'), hardlink('usr/h', 'usr/d')], /refusing hard link "usr\/h" to "usr\/d": its target is not an earlier regular file/],
  ['a hard link to a symlink', [dir('usr/'), symlink('usr/s', 'x'), hardlink('usr/h', 'usr/s')], /refusing hard link "usr\/h" to "usr\/s": its target is not an earlier regular file/],
  ['one path as a file and then a directory', [dir('usr/'), file('usr/p'), dir('usr/p/')], /refusing tar entry "usr\/p": the package ships this path twice, as a file and as a directory/],
  ['one path as a directory and then a symlink', [dir('usr/'), dir('usr/p/'), symlink('usr/p', '/etc')], /refusing tar entry "usr\/p": the package ships this path twice, as a directory and as a symlink/],
  ['a name with a newline', [dir('usr/'), file('usr/evil\nname')], /refusing entry "usr\/evil\\nname": the name holds a line break/],
];

describe.each(['deb', 'apk', 'pacman'] as Format[])('%s readers refuse', (format) => {
  it.each(REFUSED)('%s', async (_what, data, message) => {
    const e = await userErrorOf(consume(unpackAs(format, data)));
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(LABEL)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  it('keeps setuid and setgid files, and (deb, pacman) device nodes', async () => {
    const data: RawEntry[] = [dir('usr/'), dir('usr/bin/'), { ...file('usr/bin/su'), mode: 0o4755 }, { ...file('usr/bin/wall'), mode: 0o2755 }];
    if (format !== 'apk') data.push(dir('dev/'), { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 });
    const entries = await consume(unpackAs(format, data));
    const by = new Map(entries.map((e) => [e.path, e]));
    expect(by.get('usr/bin/su')?.mode).toBe(0o4755);
    expect(by.get('usr/bin/wall')?.mode).toBe(0o2755);
    if (format !== 'apk') expect(by.get('dev/null')).toMatchObject({ type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 });
  });

  it('refuses more entries than [limits] max_files, naming the limit', async () => {
    const data = [dir('usr/'), ...Array.from({ length: 12 }, (_, i) => file(`usr/f${i}`))];
    const e = await userErrorOf(consume(unpackAs(format, data, { ...DEFAULT_LIMITS, maxEntries: 10 })));
    expect(e.message).toMatch(/ships more than 10 entries, the limit \(\[limits\] max_files in image.toml, or --max-files\)/);
  });

  it('refuses a payload past [limits] max_unpacked_size, while it streams', async () => {
    const data = [dir('usr/'), { name: 'usr/big', body: Buffer.alloc(3 * 1024 * 1024, 1) }];
    const e = await userErrorOf(consume(unpackAs(format, data, { ...DEFAULT_LIMITS, maxUnpackedBytes: 1024 * 1024 })));
    expect(e.message).toMatch(/its payload unpacks to more than 1 MiB, the limit \(\[limits\] max_unpacked_size in image.toml, or --max-unpacked-size\)/);
  });
});

/**
 * An entry beneath a symlink the same package shipped earlier: dpkg cannot unpack it (the symlink
 * is renamed into place only at the end; test/symlink-paths.test.ts runs the real dpkg), apk is
 * not checked and refused; libalpm replaces the symlink with a directory and writes into it.
 */
const BENEATH_OWN_SYMLINK: [string, RawEntry[]][] = [
  ['an absolute symlink', [dir('usr/'), symlink('usr/x', '/etc'), file('usr/x/evil')]],
  ['a relative symlink climbing past the root', [dir('usr/'), symlink('usr/y', '../../../../tmp'), file('usr/y/evil')]],
];

describe.each(['deb', 'apk'] as Format[])('%s readers refuse an entry beneath the package\'s own symlink', (format) => {
  it.each(BENEATH_OWN_SYMLINK)('%s', async (_what, data) => {
    const e = await userErrorOf(consume(unpackAs(format, data)));
    expect(e.message).toMatch(/refusing tar entry "usr\/[xy]\/evil": it lies beneath "usr\/[xy]", a symlink the package itself shipped before it; its installer cannot unpack that either/);
  });
});

describe('pacman replaces its own symlink with a directory, as libalpm does', () => {
  it.each(BENEATH_OWN_SYMLINK)('%s', async (_what, data) => {
    const entries = await consume(unpackAs('pacman', data));
    const link = data[1]!.name as string;
    const last = new Map(entries.map((e) => [e.path, e]));
    expect(last.get(link)).toMatchObject({ type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    expect(last.get(`${link}/evil`)).toMatchObject({ type: 'file' });
    expect(entries.map((e) => e.path).filter((p) => p.startsWith('etc') || p.startsWith('tmp'))).toEqual([]);
  });
});

describe('the names a package may hold in all', () => {
  it('refuses names and link targets adding up past NAME_BYTES_LIMIT (memory is held per name)', () => {
    // tar-stream takes a PAX name of up to 4 MiB; many of them would otherwise pile up in memory.
    const tree = new PackageTree(LABEL, { maxEntries: 1000 }, 'refuse');
    const target = 'x'.repeat(4 * 1024 * 1024 - 1);
    const admitAll = () => {
      for (let i = 0; i < NAME_BYTES_LIMIT / target.length + 1; i++) {
        tree.admit({ path: `l${i}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkname: target }, `./l${i}`);
      }
    };
    expect(admitAll).toThrow(/evil 1\.0 \(http:\/\/mirror\/evil\): its entry names and link targets add up to more than 32 MiB \(the largest real packages have under 10 MB\): the package is malformed or hostile/);
  });

  it('takes the names of the largest real packages (sagemath-doc: 8.9 MB in 91,000 paths)', () => {
    const tree = new PackageTree(LABEL, { maxEntries: 200_000 }, 'refuse');
    tree.admit({ path: 'usr', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 }, './usr/');
    for (let i = 0; i < 91_000; i++) tree.admit({ path: `usr/${'d'.repeat(90)}${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 }, `./usr/${'d'.repeat(90)}${i}`);
  });
});

describe('names only some readers see as bytes', () => {
  const invalidUtf8 = Buffer.concat([Buffer.from('usr/bad-'), Buffer.from([0xff, 0xfe]), Buffer.from('-name')]);
  it.each(['deb', 'pacman'] as const)('%s: a name that is not valid UTF-8', async (format) => {
    const e = await userErrorOf(consume(unpackAs(format, [dir('usr/'), { name: invalidUtf8, body: Buffer.from('x') }])));
    expect(e.message).toMatch(/refusing entry "usr\/bad-\\ufffd\\ufffd-name": the name is not valid UTF-8|refusing entry "usr\/bad-��-name": the name is not valid UTF-8/);
  });

  it.each(['deb', 'pacman'] as const)('%s: a PAX path holding a NUL byte', async (format) => {
    const e = await userErrorOf(consume(unpackAs(format, [dir('usr/'), { name: 'usr/ok', pax: { path: 'usr/nul\0byte' }, body: Buffer.from('x') }])));
    expect(e.message).toMatch(/the name holds a NUL byte/);
  });
});

describe('format versions the distro tools refuse', () => {
  it('deb: debian-binary other than 2.x', async () => {
    const e = await userErrorOf(consume(unpackDeb(write(hostileDeb({ debianBinary: '3.0\n', data: [file('usr/x')] })), LABEL)));
    expect(e.message).toBe(`${LABEL}: its debian-binary says format "3.0"; dpkg reads only format 2.x packages`);
  });

  it('deb: a 2.x minor version is read, as dpkg-deb does', async () => {
    const entries = await consume(unpackDeb(write(hostileDeb({ debianBinary: '2.1\n', data: [dir('usr/'), file('usr/x')] })), LABEL));
    expect(entries.map((e) => e.path)).toContain('usr/x');
  });

  it('apk: a v3 (ADB) package', async () => {
    const e = await userErrorOf(consume(unpackApk(write(Buffer.concat([Buffer.from('ADBd'), Buffer.alloc(200, 7)])), LABEL)));
    expect(e.message).toMatch(/is an apk v3 \(ADB\) package; layerpkg reads apk v2 packages only/);
  });

  it('pacman: a package without .PKGINFO', async () => {
    const e = await userErrorOf(consume(unpackPacman(write(hostilePacman([dir('usr/'), file('usr/x')], { pkginfo: null })), LABEL)));
    expect(e.message).toMatch(/is not a pacman package: it has no \.PKGINFO/);
  });
});

describe('decompression bombs stop near the installed size the package declares', () => {
  // 48 MiB of one byte: a few KiB compressed, declared as 4 KiB installed.
  const bomb = (): RawEntry[] => [dir('usr/'), { name: 'usr/bomb', body: Buffer.alloc(48 * 1024 * 1024, 0x41) }];
  const declaredTooSmall = /its payload unpacks to more than [\d.]+ MiB, far beyond the 4 KiB its (Installed-Size \(4 KiB\)|\.PKGINFO size \(4096 bytes\)) declares: the package is malformed or hostile/;

  it.each(['xz', 'gz', 'zst'] as Compression[])('deb, data.tar.%s', async (compression) => {
    const e = await userErrorOf(consume(unpackAs('deb', bomb(), DEFAULT_LIMITS, compression)));
    expect(e.message).toMatch(declaredTooSmall);
  });

  it.each(['zst', 'xz', 'gz'] as Compression[])('pacman, .pkg.tar.%s', async (compression) => {
    const e = await userErrorOf(consume(unpackAs('pacman', bomb(), DEFAULT_LIMITS, compression)));
    expect(e.message).toMatch(declaredTooSmall);
  });

  it('apk (gzip)', async () => {
    const e = await userErrorOf(consume(unpackAs('apk', bomb())));
    expect(e.message).toMatch(declaredTooSmall);
  });

  it('deb: a control.tar that expands past 64 MiB', async () => {
    const controlTar = rawTar([{ name: './control', body: Buffer.from('Package: evil\nVersion: 1\nArchitecture: amd64\n') }, { name: './md5sums', body: Buffer.alloc(80 * 1024 * 1024, 0x20) }]);
    const e = await userErrorOf(consume(unpackDeb(write(hostileDeb({ controlTar, data: [file('usr/x')] })), LABEL)));
    expect(e.message).toMatch(/control\.tar\.gz: its payload unpacks to more than 64 MiB/);
  });

  it('apk: a head (signature or control) member that inflates past 256 MiB', async () => {
    const gzip = createGzip();
    const parts: Buffer[] = [];
    gzip.on('data', (c: Buffer) => parts.push(c));
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 260; i++) gzip.write(zeros);
    await new Promise((r) => gzip.end(r));
    const e = await userErrorOf(consume(unpackApk(write(Buffer.concat(parts)), LABEL)));
    expect(e.message).toMatch(/its gzip member at byte 0 inflates to more than 256 MiB, far more than an apk header or index holds: it is malformed or hostile/);
  });

  it('a package whose real size matches its declaration is read whole', async () => {
    const data = [dir('usr/'), { name: 'usr/big', body: Buffer.alloc(24 * 1024 * 1024, 0x41) }];
    const entries = await consume(unpackDeb(write(hostileDeb({ data, installedSize: 24 * 1024 })), LABEL));
    expect(entries.find((e) => e.path === 'usr/big')?.size).toBe(24 * 1024 * 1024);
  });
});

describe('repository indexes are decompressed with a ceiling', () => {
  const asCompression: Record<IndexCompression, Compression> = { xz: 'xz', gzip: 'gz', zstd: 'zst' };
  it.each(['xz', 'gzip', 'zstd'] as IndexCompression[])('%s: stops past the bound with one clear error, reads what fits', async (kind) => {
    const text = Buffer.from('Package: x\nVersion: 1\n\n'.repeat(100_000)); // ~2.3 MiB
    const packed = compress(text, asCompression[kind]);
    const e = await userErrorOf(decompressIndex(packed, kind, 'http://mirror/Packages', 1024 * 1024));
    expect(e.message).toBe('http://mirror/Packages decompresses to more than 1 MiB, far more than a repository index holds: it is malformed or hostile');
    expect((await decompressIndex(packed, kind, 'http://mirror/Packages', 4 * 1024 * 1024)).equals(text)).toBe(true);
  });
});
