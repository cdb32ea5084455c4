import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { PacmanMetadata } from '../adapters/pacman/pacmanMetadata.js';
import { parsePkginfo, unpackPacman } from '../adapters/pacman/unpackPkg.js';
import type { LayerEntry } from '../adapters/types.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';
import { userErrorOf } from './helpers/userError.js';

const PACMAN = path.join(SHARED_FIXTURES, 'pacman');
const AOS = path.join(PACMAN, 'thirdparty-repo-archimedeos');
const AOS_PACKAGES = [
  'aos-forge-1.0-1-any.pkg.tar.zst',
  'aos-update-1.0-3-any.pkg.tar.zst',
  'arch-shell-1.0-2-any.pkg.tar.zst',
  'archimedeos-keyring-20250612-3-any.pkg.tar.zst',
];
const KEYRING_PKG = path.join(AOS, 'archimedeos-keyring-20250612-3-any.pkg.tar.zst');
const REBUILDERD = path.join(PACMAN, 'official-pkg-oversize/rebuilderd-0.18.1-1-x86_64.pkg.tar.zst');
const POLYBAR = path.join(PACMAN, 'paru-testrepo/polybar-1.0.0-1-x86_64.pkg.tar.zst');
const PACMAN_XZ = path.join(PACMAN, 'official-pkg-metadata-only/pacman-5.1.3-1-x86_64.pkg.tar.xz');

const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-pacman-unpack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Unpacked {
  entries: { entry: LayerEntry; md5?: string; chunks?: number; maxChunk?: number }[];
  meta: PacmanMetadata;
}

/** Unpack everything, hashing each body as it streams (the way a layer writer consumes it). */
async function unpackAll(file: string, label: string, opts: { skipBodies?: boolean } = {}): Promise<Unpacked> {
  const result = unpackPacman(file, label);
  const entries: Unpacked['entries'] = [];
  for await (const { entry, body } of result.entries) {
    if (!body) {
      entries.push({ entry });
      continue;
    }
    if (opts.skipBodies) {
      // Leave the body unread: the unpacker must drain it itself.
      entries.push({ entry });
      continue;
    }
    const md5 = createHash('md5');
    let chunks = 0;
    let maxChunk = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      md5.update(chunk);
      chunks++;
      maxChunk = Math.max(maxChunk, chunk.length);
    }
    entries.push({ entry, md5: md5.digest('hex'), chunks, maxChunk });
  }
  return { entries, meta: (await result.metadata) as PacmanMetadata };
}

/** mtree "vis" escapes (\040 for a space...) back to bytes. */
function unvis(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface Listed {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  link?: string;
}

/** What bsdtar (libarchive, as pacman reads packages) sees in the archive, dot-files included, in order. */
function bsdtarList(file: string): Listed[] {
  const mtree = execFileSync('bsdtar', ['-cf', '-', '--format=mtree', '--options=!all,type,mode,uid,gid,size,time,link', `@${file}`], {
    encoding: 'utf8',
  });
  const tv = execFileSync('bsdtar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
  const listed: Listed[] = [];
  for (const line of mtree.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, ...kv] = line.split(' ');
    const f = Object.fromEntries(kv.map((p) => p.split('=') as [string, string]));
    const item: Listed = {
      path: unvis(name!).replace(/^\.\//, ''),
      type: f.type!,
      mode: parseInt(f.mode!, 8),
      uid: Number(f.uid),
      gid: Number(f.gid),
      mtime: Math.floor(Number(f.time)),
      size: Number(f.size ?? 0),
    };
    if (f.link !== undefined) item.link = unvis(f.link);
    listed.push(item);
  }
  // bsdtar -tv agrees on the names, order, owners and sizes.
  expect(tv).toHaveLength(listed.length);
  tv.forEach((line, i) => {
    const cols = line.split(/\s+/);
    expect(Number(cols[2])).toBe(listed[i]!.uid);
    expect(Number(cols[3])).toBe(listed[i]!.gid);
    expect(line).toContain(` ${listed[i]!.path}`);
  });
  return listed;
}

const TYPES: Record<string, LayerEntry['type']> = { file: 'file', dir: 'directory', link: 'symlink' };

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function extracted(file: string, member: string): Buffer {
  return execFileSync('bsdtar', ['-xOf', file, member], { maxBuffer: 64 * 1024 * 1024 });
}

/** Every data entry equals what bsdtar lists, minus the dot-files; the db file list matches. */
function expectSameAsBsdtar(file: string, u: Unpacked): void {
  const listed = bsdtarList(file).filter((l) => !l.path.startsWith('.'));
  expect(u.entries.map((e) => e.entry.path)).toEqual(listed.map((l) => l.path.replace(/\/$/, '')));
  u.entries.forEach(({ entry }, i) => {
    const l = listed[i]!;
    expect(entry.type).toBe(TYPES[l.type]);
    expect(entry.mode).toBe(l.mode);
    expect(entry.uid).toBe(l.uid);
    expect(entry.gid).toBe(l.gid);
    expect(entry.mtime).toBe(l.mtime);
    expect(entry.size).toBe(entry.type === 'file' ? l.size : 0);
    if (entry.type === 'symlink') expect(entry.linkname).toBe(l.link);
  });
  expect(u.meta.files).toEqual(
    u.entries.map(({ entry }) => ({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
    })),
  );
  for (const e of u.entries) {
    if (e.entry.type === 'file') expect(e.md5, e.entry.path).toBe(md5(extracted(file, e.entry.path)));
  }
}

describe('unpackPacman on real packages', () => {
  it.each(AOS_PACKAGES)('%s: entries as bsdtar lists them, metadata from its dot-files', async (name) => {
    const file = path.join(AOS, name);
    const u = await unpackAll(file, name);
    expectSameAsBsdtar(file, u);
    expect(u.entries.some((e) => e.entry.path.startsWith('.'))).toBe(false);

    const pkginfo = extracted(file, '.PKGINFO').toString('utf8');
    expect(u.meta.pkginfo).toEqual(parsePkginfo(pkginfo));
    const get = (k: string) => u.meta.pkginfo.find(([key]) => key === k)?.[1];
    expect(u.meta.name).toBe(get('pkgname'));
    expect(u.meta.version).toBe(get('pkgver'));
    expect(u.meta.arch).toBe('any');
    expect(`${u.meta.name}-${u.meta.version}-${u.meta.arch}.pkg.tar.zst`).toBe(name);

    // .MTREE exactly as shipped: gzip-compressed, as pacman copies it to local/<pkg>/mtree.
    const mtree = Buffer.from(u.meta.mtree!, 'base64');
    expect(mtree.equals(extracted(file, '.MTREE'))).toBe(true);
    expect(mtree.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(true);
    expect(gunzipSync(mtree).toString('utf8')).toMatch(/^#mtree/);
    expect(u.meta.backup).toEqual([]);
  });

  it('captures the keyring package\'s .INSTALL', async () => {
    const u = await unpackAll(KEYRING_PKG, 'archimedeos-keyring');
    const install = Buffer.from(u.meta.install!, 'base64');
    expect(install.equals(extracted(KEYRING_PKG, '.INSTALL'))).toBe(true);
    expect(install.toString('utf8')).toContain('post_install()');
    expect(u.meta.name).toBe('archimedeos-keyring');
    expect(u.meta.version).toBe('20250612-3');
    expect(u.entries.map((e) => e.entry.path)).toContain('usr/share/pacman/keyrings/archimedeos.gpg');
    // The other packages have no install script.
    const forge = await unpackAll(path.join(AOS, AOS_PACKAGES[0]!), 'aos-forge');
    expect(forge.meta.install).toBeUndefined();
  });

  it('rebuilderd: 0640 root:212 config files keep mode and gid; backup md5s as bsdtar extracts them', async () => {
    const u = await unpackAll(REBUILDERD, 'rebuilderd 0.18.1-1');
    expectSameAsBsdtar(REBUILDERD, u);
    expect(u.meta).toMatchObject({ name: 'rebuilderd', version: '0.18.1-1', arch: 'x86_64' });
    for (const p of ['etc/rebuilderd.conf', 'etc/rebuilderd-worker.conf']) {
      const e = u.entries.find((x) => x.entry.path === p)!.entry;
      expect(e).toMatchObject({ type: 'file', mode: 0o640, uid: 0, gid: 212 });
      expect(u.meta.files.find((f) => f.path === p)).toMatchObject({ mode: 0o640, gid: 212 });
    }
    expect(u.meta.backup).toEqual(
      ['etc/rebuilderd.conf', 'etc/rebuilderd-sync.conf', 'etc/rebuilderd-worker.conf'].map((p) => ({
        path: p,
        md5: md5(extracted(REBUILDERD, p)),
      })),
    );
    expect(Buffer.from(u.meta.mtree!, 'base64').equals(extracted(REBUILDERD, '.MTREE'))).toBe(true);
    // The 6.7 MB binary streams through in pieces, never as one buffer.
    const big = u.entries.find((e) => e.entry.path === 'usr/bin/rebuilderd')!;
    expect(big.entry.size).toBe(6709376);
    expect(big.chunks).toBeGreaterThan(10);
    expect(big.maxChunk).toBeLessThan(1024 * 1024);
  });

  it('drains bodies the consumer leaves unread, and still hashes the backup files', async () => {
    const u = await unpackAll(REBUILDERD, 'rebuilderd', { skipBodies: true });
    expect(u.entries).toHaveLength(bsdtarList(REBUILDERD).filter((l) => !l.path.startsWith('.')).length);
    expect(u.meta.backup[0]).toEqual({ path: 'etc/rebuilderd.conf', md5: md5(extracted(REBUILDERD, 'etc/rebuilderd.conf')) });
  });

  it('fails loudly, never truncating silently, when a consumer abandons a body midway', async () => {
    const r = unpackPacman(REBUILDERD, 'rebuilderd');
    const seen: string[] = [];
    const e = await userErrorOf(
      (async () => {
        for await (const { entry, body } of r.entries) {
          seen.push(entry.path);
          if (!body) continue;
          if (entry.path === 'usr/bin/rebuilderd') {
            for await (const _ of body) break;
          } else for await (const _ of body) void _;
        }
      })(),
    );
    expect(e.message).toBe('rebuilderd: the content of usr/bin/rebuilderd was abandoned before its end, so the rest of the package cannot be read');
    expect(seen.at(-1)).toBe('usr/bin/rebuilderd');
    await expect(r.metadata).rejects.toBe(e);
  });

  it('polybar: a package without payload', async () => {
    const u = await unpackAll(POLYBAR, 'polybar');
    expect(u.entries).toEqual([]);
    expect(u.meta).toMatchObject({ name: 'polybar', version: '1.0.0-1', arch: 'x86_64', files: [], backup: [] });
    expect(u.meta.pkginfo).toContainEqual(['url', '']);
    expect(u.meta.pkginfo.filter(([k]) => k === 'depend')).toHaveLength(11);
  });

  it('the .xz package with metadata only (.PKGINFO first, no .MTREE)', async () => {
    const u = await unpackAll(PACMAN_XZ, 'pacman 5.1.3-1');
    expect(u.entries).toEqual([]);
    expect(u.meta).toMatchObject({ name: 'pacman', version: '5.1.3-1', arch: 'x86_64', files: [] });
    expect(u.meta.mtree).toBeUndefined();
    expect(u.meta.install).toBeUndefined();
    expect(u.meta.backup).toEqual([{ path: 'etc/pacman.conf', md5: '' }, { path: 'etc/makepkg.conf', md5: '' }]);
    expect(u.meta.pkginfo.filter(([k]) => k === 'group').map(([, v]) => v)).toEqual(['base', 'base-devel']);
  });
});

type Item = { name: string; content?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; mode?: number; gid?: number };

async function tarOf(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
  });
  for (const i of items) {
    const header = { name: i.name, mode: i.mode ?? 0o644, gid: i.gid ?? 0, mtime: new Date(1_700_000_000_000) };
    if (i.content !== undefined) pack.entry(header, i.content);
    else pack.entry({ ...header, type: i.type ?? 'directory', linkname: i.linkname });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const PKGINFO = 'pkgname = t\npkgver = 1:2.0-3\narch = x86_64\nbackup = etc/t.conf\nbackup = etc/link.conf\nbackup = etc/absent.conf\n';

/** A crafted package written under a name that says nothing of its compression. */
async function pkg(items: Item[], compress: 'zstd' | 'xz' | 'gzip' | 'none' = 'zstd'): Promise<string> {
  const raw = await tarOf(items);
  const file = path.join(work, `t-${Math.random().toString(36).slice(2)}.pkg`);
  const packed =
    compress === 'gzip'
      ? gzipSync(raw)
      : compress === 'none'
        ? raw
        : execFileSync(compress === 'zstd' ? 'zstd' : 'xz', ['-c', '-q'], { input: raw, maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(file, packed);
  return file;
}

const GOOD: Item[] = [
  { name: '.PKGINFO', content: PKGINFO },
  { name: '.INSTALL', content: 'post_install() { :; }\n' },
  { name: 'etc/', type: 'directory' },
  { name: 'etc/t.conf', content: 'conf\n', mode: 0o640, gid: 212 },
  { name: 'etc/link.conf', type: 'link', linkname: 'etc/t.conf' },
  { name: 'usr/bin/t', type: 'symlink', linkname: '../lib/t/t' },
  { name: '.FUTURE', content: 'reserved' },
];

describe('unpackPacman on crafted packages', () => {
  it.each(['zstd', 'xz', 'gzip', 'none'] as const)('reads %s by its magic bytes, whatever the file name', async (compress) => {
    const u = await unpackAll(await pkg(GOOD, compress), 't');
    expect(u.entries.map((e) => e.entry.path)).toEqual(['etc', 'etc/t.conf', 'etc/link.conf', 'usr/bin/t']);
    expect(u.entries[1]!.entry).toMatchObject({ mode: 0o640, gid: 212, size: 5 });
    expect(u.entries[2]!.entry).toMatchObject({ type: 'hardlink', linkname: 'etc/t.conf' });
    expect(u.entries[3]!.entry).toMatchObject({ type: 'symlink', linkname: '../lib/t/t' });
    expect(u.meta).toMatchObject({ name: 't', version: '1:2.0-3', arch: 'x86_64' });
    expect(Buffer.from(u.meta.install!, 'base64').toString()).toBe('post_install() { :; }\n');
    // A hard link's content is its target's; a listed file the package does not ship has no hash.
    expect(u.meta.backup).toEqual([
      { path: 'etc/t.conf', md5: md5(Buffer.from('conf\n')) },
      { path: 'etc/link.conf', md5: md5(Buffer.from('conf\n')) },
      { path: 'etc/absent.conf', md5: '' },
    ]);
  });

  it('handles a .PKGINFO that comes after the data', async () => {
    const late = [...GOOD.slice(2), GOOD[0]!];
    const u = await unpackAll(await pkg(late), 't');
    expect(u.entries.map((e) => e.entry.path)).toEqual(['etc', 'etc/t.conf', 'etc/link.conf', 'usr/bin/t']);
    expect(u.meta.name).toBe('t');
    expect(u.meta.backup[0]).toEqual({ path: 'etc/t.conf', md5: md5(Buffer.from('conf\n')) });
  });

  it('hashes a backup path that hard-links to a file which is not itself a backup file', async () => {
    const items: Item[] = [
      { name: '.PKGINFO', content: 'pkgname = t\npkgver = 1-1\narch = any\nbackup = etc/b.conf\n' },
      { name: 'etc/a.conf', content: 'shared\n' },
      { name: 'etc/b.conf', type: 'link', linkname: 'etc/a.conf' },
    ];
    const u = await unpackAll(await pkg(items), 't');
    expect(u.meta.backup).toEqual([{ path: 'etc/b.conf', md5: md5(Buffer.from('shared\n')) }]);
  });

  it.each([
    ['a "../x" entry', [{ name: '.PKGINFO', content: PKGINFO }, { name: '../x', content: 'x' }], /escape the image root/],
    ['an absolute entry', [{ name: '.PKGINFO', content: PKGINFO }, { name: '/etc/x', content: 'x' }], /escape the image root/],
    [
      'a hard link out of the root',
      [{ name: '.PKGINFO', content: PKGINFO }, { name: 'x', type: 'link', linkname: '../../etc/shadow' }],
      /escape the image root/,
    ],
    [
      'a hard link to a file the package did not ship',
      [{ name: '.PKGINFO', content: PKGINFO }, { name: 'x', type: 'link', linkname: 'etc/shadow' }],
      /not an earlier regular file of the package/,
    ],
    ['no .PKGINFO', [{ name: 'usr/x', content: 'x' }], /has no \.PKGINFO/],
    ['a .PKGINFO without pkgver', [{ name: '.PKGINFO', content: 'pkgname = t\narch = any\n' }], /no pkgver/],
  ] as [string, Item[], RegExp][])('refuses %s with one UserError naming the package', async (_what, items, message) => {
    const e = await userErrorOf(unpackAll(await pkg(items), 'bad-pkg 1-1 (http://mirror/bad.pkg.tar.zst)'));
    expect(e.message).toMatch(message);
    expect(e.message).toContain('bad-pkg 1-1 (http://mirror/bad.pkg.tar.zst)');
  });

  it('refuses a truncated zst', async () => {
    const bytes = readFileSync(REBUILDERD);
    const cut = path.join(work, 'cut.pkg.tar.zst');
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    const e = await userErrorOf(unpackAll(cut, 'rebuilderd (cut)'));
    expect(e.message).toMatch(/^rebuilderd \(cut\) is corrupt or truncated .*download it again/);
    // Cut in its last bytes too (inside the final block).
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    expect((await userErrorOf(unpackAll(cut, 'rebuilderd (cut)'))).message).toMatch(/corrupt or truncated/);
  });

  it('refuses a truncated xz', async () => {
    const bytes = readFileSync(PACMAN_XZ);
    const cut = path.join(work, 'cut.pkg.tar.xz');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect((await userErrorOf(unpackAll(cut, 'pacman (cut)'))).message).toMatch(/^pacman \(cut\) is corrupt or truncated/);
  });

  it('refuses a file that is not an archive, an empty file, and a bzip2 package', async () => {
    const junk = path.join(work, 'junk.pkg.tar.zst');
    writeFileSync(junk, '<html>404 Not Found</html>\n');
    expect((await userErrorOf(unpackAll(junk, 'junk 1-1'))).message).toMatch(/^junk 1-1 is not a pacman package: it is neither/);
    writeFileSync(junk, '');
    expect((await userErrorOf(unpackAll(junk, 'junk 1-1'))).message).toMatch(/^junk 1-1 is not a pacman package: the file is empty/);
    writeFileSync(junk, Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(100)]));
    expect((await userErrorOf(unpackAll(junk, 'junk 1-1'))).message).toMatch(/^junk 1-1 is a bzip2-compressed package/);
    expect((await userErrorOf(unpackAll(path.join(work, 'absent'), 'absent 1-1'))).message).toMatch(/^absent 1-1: cannot read/);
  });

  it('refuses a gzip stream that holds no tar', async () => {
    const file = path.join(work, 'notar.pkg.tar.gz');
    writeFileSync(file, gzipSync(Buffer.from('just text, not a tar archive\n'.repeat(40))));
    expect((await userErrorOf(unpackAll(file, 'notar 1-1'))).message).toMatch(/^notar 1-1 is corrupt or truncated/);
  });
});

describe('parsePkginfo', () => {
  it('reads pairs in order as libalpm does, skipping comments and malformed lines', () => {
    expect(parsePkginfo('# c\npkgname = a\n\nbad line\nk=v\ndepend = b>=1\r\ndepend = c\npkgdesc = x = y\nurl = \n')).toEqual([
      ['pkgname', 'a'],
      ['depend', 'b>=1'],
      ['depend', 'c'],
      ['pkgdesc', 'x = y'],
      ['url', ''],
    ]);
  });
});
