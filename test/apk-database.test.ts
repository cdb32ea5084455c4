/**
 * The apk database writer against what apk-tools 2.12.9 itself wrote into the Alpine 3.16.9
 * minirootfs. Package metadata is rebuilt from real data only: .PKGINFO pairs from the signed
 * v3.16 APKINDEX record with the same C:, file lists from the rootfs tarball.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apkDatabase, apkInstalledDb, apkKeyEntries, apkRepositories, apkTriggers, apkWorld, repositoryKeys } from '../adapters/apk/apkDatabase.js';
import { readApkKeysSync, verifyAndParseApkIndex, type ApkIndexRecord } from '../adapters/apk/apkIndex.js';
import type { ApkFile, ApkMetadata } from '../adapters/apk/apkMetadata.js';
import { splitGzipMembers } from '../adapters/apk/gzipMembers.js';
import { installedRecord } from '../adapters/apk/installedRecord.js';
import { apkScriptsTar } from '../adapters/apk/scriptsTar.js';
import type { FinalContext, FinalEntry, RepositoryConfig } from '../adapters/types.js';
import { UserError } from '../src/errors.js';
import { CHANGED_AFTER_APK, hexOfQ1, pkginfoFrom, readMinirootfs, type InstalledRecord, type RootfsEntry } from './helpers/minirootfs.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';
import { readTarFiles } from './helpers/tarFiles.js';

/** Written only into the installed database, never into APKINDEX: taken from the installed record. */
const INSTALLED_ONLY = new Set(['r', 'q']);

const DB = ALPINE_FIXTURES;
let rootfs: Map<string, RootfsEntry>;
let records: InstalledRecord[];
let index: Map<string, ApkIndexRecord>; // by C:
let realScripts: Map<string, Buffer>;
let scriptsMtime: number;

function rootfsFile(p: string): Buffer {
  const content = rootfs.get(p)?.content;
  if (!content) throw new Error(`minirootfs has no ${p}`);
  return content;
}

function headerValue(record: InstalledRecord, letter: string): string | undefined {
  return record.header.find(([l]) => l === letter)?.[1];
}

/**
 * A real .apk read just far enough for the database: C: is the SHA-1 of the control gzip
 * member's compressed bytes, files and their APK-TOOLS.checksum.SHA1 come from the data tar.
 */
async function readApkFixture(file: string): Promise<ApkMetadata> {
  const bytes = await readFile(file);
  const [, control, data] = splitGzipMembers(bytes, file);
  const controlFiles = await readTarFiles(control!.data);
  const pkginfo = controlFiles
    .find((f) => f.name === '.PKGINFO')!
    .body.toString()
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.includes(' = '))
    .map((l): [string, string] => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)]);
  const value = (key: string) => pkginfo.find(([k]) => k === key)![1];
  const types: Record<string, ApkFile['type']> = { file: 'file', directory: 'directory', symlink: 'symlink', link: 'hardlink' };
  const files = (await readTarFiles(data!.data)).map((f): ApkFile => {
    const sha1 = f.pax['APK-TOOLS.checksum.SHA1'];
    return { path: f.name.replace(/\/$/, ''), type: types[f.type]!, mode: f.mode, uid: f.uid, gid: f.gid, ...(f.linkname ? { linkname: f.linkname } : {}), ...(sha1 ? { sha1 } : {}) };
  });
  return {
    name: value('pkgname'),
    version: value('pkgver'),
    arch: value('arch'),
    checksum: `Q1${createHash('sha1').update(bytes.subarray(control!.start, control!.end)).digest('base64')}`,
    fileSize: bytes.length,
    pkginfo,
    scripts: Object.fromEntries(controlFiles.filter((f) => f.name !== '.PKGINFO').map((f) => [f.name, f.body.toString('base64')])),
    files,
  };
}

beforeAll(async () => {
  const mini = await readMinirootfs();
  rootfs = new Map(mini.entries.map((e) => [e.path, e]));
  records = mini.records;
  const keys = readApkKeysSync(path.join(DB, 'keys'));
  const indexFile = path.join(DB, 'v3.16-main-x86_64/APKINDEX.tar.gz');
  const parsed = verifyAndParseApkIndex(await readFile(indexFile), keys, indexFile);
  index = new Map(parsed.records.map((r) => [r.fields.get('C')!, r]));
  const scripts = await readTarFiles(rootfsFile('lib/apk/db/scripts.tar'));
  realScripts = new Map(scripts.map((s) => [s.name, s.body]));
  scriptsMtime = scripts[0]!.mtime;
});

/** The record's package as the index describes it, or undefined when the index has another build. */
function indexRecord(record: InstalledRecord): ApkIndexRecord | undefined {
  return index.get(headerValue(record, 'C')!);
}

/** The package's data-tar entries it kept, in apk's order, from the rootfs (see CHANGED_AFTER_APK). */
function filesOf(record: InstalledRecord): ApkFile[] {
  const files: ApkFile[] = [];
  for (const dir of record.files) {
    const e = rootfs.get(dir.dir);
    if (CHANGED_AFTER_APK.includes(dir.dir)) files.push({ path: dir.dir, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    else files.push({ path: dir.dir, type: 'directory', mode: e!.mode, uid: e!.uid, gid: e!.gid });
    for (const f of dir.files) {
      const p = `${dir.dir}/${f.name}`;
      const fe = rootfs.get(p)!;
      const body = fe.type === 'symlink' ? Buffer.from(fe.linkname!) : fe.content!;
      const sha1 = CHANGED_AFTER_APK.includes(p) ? hexOfQ1(f.sha1Q!) : createHash('sha1').update(body).digest('hex');
      const file: ApkFile = { path: p, type: fe.type, mode: fe.mode, uid: fe.uid, gid: fe.gid, sha1 };
      if (fe.linkname !== undefined) file.linkname = fe.linkname;
      files.push(file);
    }
  }
  return files;
}

/** Scripts from the real scripts.tar, triggers from the real triggers file: apk's only copies. */
function metadataOf(record: InstalledRecord, header: Map<string, string>): ApkMetadata {
  const checksum = headerValue(record, 'C')!;
  const pkginfo = pkginfoFrom(header);
  const triggers = rootfsFile('lib/apk/db/triggers').toString().split('\n').find((l) => l.startsWith(`${checksum} `));
  if (triggers) pkginfo.push(['triggers', triggers.slice(checksum.length + 1)]);
  const name = header.get('P')!;
  const version = header.get('V')!;
  const prefix = `${name}-${version}.${checksum}.`;
  const scripts = Object.fromEntries(
    [...realScripts].filter(([n]) => n.startsWith(prefix)).map(([n, body]) => [`.${n.slice(prefix.length)}`, body.toString('base64')]),
  );
  return { name, version, arch: header.get('A')!, checksum, fileSize: Number(header.get('S')), pkginfo, scripts, files: filesOf(record) };
}

/** From the index where it has this exact build, plus the installed-only fields of the record. */
function metadataFromIndex(record: InstalledRecord): ApkMetadata {
  const fields = new Map(indexRecord(record)!.fields);
  for (const [letter, value] of record.header) if (INSTALLED_ONLY.has(letter)) fields.set(letter, value);
  return metadataOf(record, fields);
}

/** The 5 packages the index has other builds of: their header can only come from the record. */
function metadataFromRecord(record: InstalledRecord): ApkMetadata {
  return metadataOf(record, new Map(record.header));
}

function lines(text: string): string[] {
  return text.split('\n');
}

describe('installedRecord against the minirootfs', () => {
  it('has the expected packages in the index', () => {
    const matched = records.filter(indexRecord).map((r) => headerValue(r, 'P'));
    expect(matched).toEqual(['alpine-baselayout-data', 'busybox', 'alpine-baselayout', 'alpine-keys', 'ssl_client', 'zlib', 'apk-tools', 'scanelf', 'libc-utils']);
  });

  it('only the known post-apk changes separate the rootfs from the recorded packages', () => {
    const differing: string[] = [];
    for (const record of records) {
      for (const dir of record.files) {
        const e = rootfs.get(dir.dir);
        const acl = e ? `${e.uid}:${e.gid}:${e.mode.toString(8)}` : 'missing';
        if (acl !== (dir.dirAcl ?? '0:0:755')) differing.push(dir.dir);
        for (const f of dir.files) {
          const fe = rootfs.get(`${dir.dir}/${f.name}`)!;
          const body = fe.type === 'symlink' ? Buffer.from(fe.linkname!) : fe.content!;
          if (`Q1${createHash('sha1').update(body).digest('base64')}` !== f.sha1Q) differing.push(`${dir.dir}/${f.name}`);
        }
      }
    }
    expect(differing.sort()).toEqual([...CHANGED_AFTER_APK].sort());
  });

  it('rebuilds each indexed package record line for line', () => {
    for (const record of records.filter(indexRecord)) {
      expect({ pkg: headerValue(record, 'P'), lines: lines(installedRecord(metadataFromIndex(record))) }).toEqual({
        pkg: headerValue(record, 'P'),
        lines: lines(record.text),
      });
    }
  });

  it('turns a real .apk into the record apk wrote for the same package built for another arch', async () => {
    // The aarch64 build of alpine-baselayout 3.2.0-r23 against apk's record of the x86_64 build:
    // the file tree is the data tar's, in its order; only arch-bound values may differ.
    const meta = await readApkFixture(path.join(DB, 'v3.16-main-aarch64/alpine-baselayout-3.2.0-r23.apk'));
    const real = lines(records.find((r) => headerValue(r, 'P') === 'alpine-baselayout')!.text);
    const ours = lines(installedRecord(meta));
    const differing = ours.map((l, i) => [l, real[i]]).filter(([a, b]) => a !== b);
    expect(ours).toHaveLength(real.length);
    expect(differing).toEqual([
      [`C:${meta.checksum}`, 'C:Q19UI7UxyiUywG6aew9c3lCBPshsE='],
      ['A:aarch64', 'A:x86_64'],
      ['S:11012', 'S:11136'],
      ['I:339968', 'I:348160'],
      ['D:alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-aarch64.so.1', 'D:alpine-baselayout-data=3.2.0-r23 /bin/sh so:libc.musl-x86_64.so.1'],
      [expect.stringMatching(/^Z:/), expect.stringMatching(/^Z:/)], // sbin/mkmntdirs, an ELF binary
    ]);
    expect(ours[ours.indexOf('R:mkmntdirs') + 2]).toBe(differing[5]![0]);
    // Its scripts, in control-tar order .pre-install .pre-upgrade .post-upgrade .post-install,
    // come out in apk's action order with the same bodies as the x86_64 build's.
    const scripts = await readTarFiles(apkScriptsTar([meta], 0));
    const realBaselayout = [...realScripts].filter(([n]) => n.startsWith('alpine-baselayout-3.2.0-r23.'));
    expect(scripts.map((s) => s.name.replace(meta.checksum, 'C'))).toEqual(realBaselayout.map(([n]) => n.replace('Q19UI7UxyiUywG6aew9c3lCBPshsE=', 'C')));
    expect(scripts.map((s) => s.body)).toEqual(realBaselayout.map(([, body]) => body));
  });

  it('symlinks carry a:0:0:777 and the SHA-1 of their target', () => {
    const busybox = records.find((r) => headerValue(r, 'P') === 'busybox')!;
    const text = installedRecord(metadataFromIndex(busybox));
    expect(text).toContain('F:bin\nR:busybox\na:0:0:755\nZ:');
    const sh = lines(text).slice(lines(text).indexOf('R:sh'), lines(text).indexOf('R:sh') + 3);
    expect(sh).toEqual(['R:sh', 'a:0:0:777', `Z:Q1${createHash('sha1').update('/bin/busybox').digest('base64')}`]);
  });
});

describe('apkDatabase against the minirootfs', () => {
  let entries: Map<string, FinalEntry>;
  let packages: ApkMetadata[];
  let repositories: RepositoryConfig[];

  beforeAll(async () => {
    // Trust, from the fixture keys, the ones the minirootfs has in etc/apk/keys (alpine-keys' x86_64 set).
    const allKeys = readApkKeysSync(path.join(DB, 'keys'));
    const trusted = Object.fromEntries([...allKeys].filter(([name]) => rootfs.has(`etc/apk/keys/${name}`)));
    expect(Object.keys(trusted)).toHaveLength(5);
    repositories = ['main', 'community'].map((c) => ({
      name: c,
      type: 'apk',
      url: `https://dl-cdn.alpinelinux.org/alpine/v3.16/${c}`,
      options: { keys: 'keys', trusted },
      baseDir: '/',
    }));
    packages = records.map((r) => (indexRecord(r) ? metadataFromIndex(r) : metadataFromRecord(r)));
    const ctx: FinalContext = {
      arch: 'x86_64',
      requested: ['libc-utils', 'busybox', 'apk-tools', 'alpine-keys', 'alpine-baselayout'],
      explicit: ['libc-utils', 'busybox', 'apk-tools', 'alpine-keys', 'alpine-baselayout'],
      sourceDateEpoch: scriptsMtime,
      repositories,
      applied: { alternatives: [], statOverrides: [], diversions: [] },
    };
    entries = new Map(apkDatabase(packages, ctx).map((e) => [e.path, e]));
  });

  function content(p: string): Buffer {
    const e = entries.get(p);
    if (e?.type !== 'file') throw new Error(`no file ${p}`);
    return e.content;
  }

  it('writes installed, scripts.tar, triggers, world, repositories and arch byte for byte', () => {
    for (const p of ['lib/apk/db/installed', 'lib/apk/db/triggers', 'etc/apk/world', 'etc/apk/repositories', 'etc/apk/arch']) {
      expect({ p, text: lines(content(p).toString()) }).toEqual({ p, text: lines(rootfsFile(p).toString()) });
    }
    expect(content('lib/apk/db/scripts.tar').equals(rootfsFile('lib/apk/db/scripts.tar'))).toBe(true);
  });

  it('names scripts <name>-<version>.<C:>.<action>, 0755 root:root, ending with two zero blocks', async () => {
    const tarBytes = content('lib/apk/db/scripts.tar');
    const written = await readTarFiles(tarBytes);
    expect(written.map((s) => s.name)).toEqual([...realScripts.keys()]);
    expect(written[0]!.name).toBe('busybox-1.35.0-r17.Q1iZ+C2JJdBlm2KKtAOkSkM7zZegY=.post-install');
    for (const s of written) expect(s).toMatchObject({ mode: 0o755, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: scriptsMtime });
    expect(tarBytes.subarray(-1024).every((b) => b === 0)).toBe(true);
    expect(apkScriptsTar([], 0)).toEqual(Buffer.alloc(1024));
  });

  it('records busybox triggers as "<C:> <paths>"', () => {
    expect(content('lib/apk/db/triggers').toString()).toBe('Q1iZ+C2JJdBlm2KKtAOkSkM7zZegY= /bin /usr/bin /sbin /usr/sbin /lib/modules/*\n');
  });

  it('gives files and directories the types and modes of the minirootfs', () => {
    for (const [p, e] of entries) {
      const real = rootfs.get(p);
      expect({ p, type: e.type, mode: e.type === 'symlink' ? undefined : e.mode }).toEqual({ p, type: real?.type, mode: real?.mode });
    }
    expect(entries.get('lib/apk/db/lock')).toMatchObject({ mode: 0o600, content: Buffer.alloc(0) });
    // The repository keys are alpine-keys' files here: the final layer leaves them to it.
    expect([...entries.keys()].filter((p) => p.startsWith('etc/apk/keys/'))).toEqual([]);
  });
});

function meta(name: string, over: Partial<ApkMetadata> = {}): ApkMetadata {
  return {
    name,
    version: '1.0-r0',
    arch: 'x86_64',
    checksum: `Q1${createHash('sha1').update(name).digest('base64')}`,
    fileSize: 1000,
    pkginfo: [
      ['pkgname', name],
      ['pkgver', '1.0-r0'],
      ['pkgdesc', `the ${name} package`],
      ['url', 'https://example.org'],
      ['size', '4096'],
      ['arch', 'x86_64'],
      ['license', 'MIT'],
    ],
    scripts: {},
    files: [],
    ...over,
  };
}

const SHA = 'a'.repeat(40);
const dir = (p: string, mode = 0o755, uid = 0, gid = 0): ApkFile => ({ path: p, type: 'directory', mode, uid, gid });
const reg = (p: string, mode = 0o644, sha1: string | null = SHA): ApkFile => ({ path: p, type: 'file', mode, uid: 0, gid: 0, ...(sha1 === null ? {} : { sha1 }) });

function treeOf(m: ApkMetadata): string[] {
  return lines(installedRecord(m)).filter((l) => /^[FMRaZf]:/.test(l));
}

describe('installedRecord rules', () => {
  const q1 = `Z:Q1${Buffer.from(SHA, 'hex').toString('base64')}`;

  it('writes header fields in apk order whatever the .PKGINFO order, and normalizes atoms', () => {
    const m = meta('foo', {
      pkginfo: [
        ['depend', 'so:libc.musl-x86_64.so.1'],
        ['replaces_priority', '10'],
        ['provider_priority', '100'],
        ['install_if', 'foo-base=1.0-r0 bar'],
        ['depend', 'bar=>2'],
        ['replaces', 'old-foo'],
        ['provides', 'cmd:foo=1.0-r0'],
        ['commit', 'abc'],
        ['builddate', '1650000000'],
        ['maintainer', 'Someone <s@example.org>'],
        ['origin', 'foo'],
        ['license', 'MIT'],
        ['arch', 'x86_64'],
        ['size', '4096'],
        ['url', 'https://example.org'],
        ['pkgdesc', 'foo'],
        ['pkgver', '1.0-r0'],
        ['pkgname', 'foo'],
        ['triggers', '/usr/share/foo/*'],
        ['datahash', 'ff'],
      ],
      files: [dir('usr'), reg('usr/foo')],
    });
    expect(lines(installedRecord(m))).toEqual([
      `C:${m.checksum}`,
      'P:foo',
      'V:1.0-r0',
      'A:x86_64',
      'S:1000',
      'I:4096',
      'T:foo',
      'U:https://example.org',
      'L:MIT',
      'o:foo',
      'm:Someone <s@example.org>',
      't:1650000000',
      'c:abc',
      'k:100',
      'D:so:libc.musl-x86_64.so.1 bar>=2',
      'p:cmd:foo=1.0-r0',
      'i:foo-base=1.0-r0 bar',
      'r:old-foo',
      'q:10',
      'F:usr',
      'R:foo',
      q1,
      '',
    ]);
  });

  it('keeps T, U and L when empty and leaves out o m t c k D p i r q when absent or zero', () => {
    const m = meta('bare', { pkginfo: [['pkgname', 'bare'], ['pkgver', '1.0-r0'], ['arch', 'noarch'], ['size', '1'], ['builddate', '0']] });
    expect(lines(installedRecord(m))).toEqual([`C:${m.checksum}`, 'P:bare', 'V:1.0-r0', 'A:noarch', 'S:1000', 'I:1', 'T:', 'U:', 'L:', '']);
  });

  it('lists only directories with their own tar entry, in tar order, files appended to theirs', () => {
    const m = meta('t', { files: [dir('usr/share'), dir('etc'), reg('etc/a'), reg('usr/share/b'), reg('etc/c')] });
    expect(treeOf(m)).toEqual(['F:usr/share', 'R:b', q1, 'F:etc', 'R:a', q1, 'R:c', q1]);
  });

  it('writes M: and a: only for other owners or modes, the mode in octal', () => {
    const m = meta('t', { files: [dir('tmp', 0o1777), dir('var/mail', 0o755, 0, 12), { ...reg('var/mail/x', 0o640), gid: 42 }, reg('var/mail/y', 0o4755)] });
    expect(treeOf(m)).toEqual(['F:tmp', 'M:0:0:1777', 'F:var/mail', 'M:0:12:755', 'R:x', 'a:0:42:640', q1, 'R:y', 'a:0:0:4755', q1]);
  });

  it('drops a file whose directory has no entry and marks the package broken; a top-level file opens the root group', () => {
    const m = meta('t', { files: [reg('toplevel'), reg('nodir/file'), reg('.hidden'), dir('d'), reg('d/.keep_d')] });
    expect(treeOf(m)).toEqual(['f:f', 'F:', 'R:toplevel', q1, 'F:d']);
  });

  it('gives a hardlink its target checksum and marks a file without checksum broken', () => {
    const target = 'b'.repeat(40);
    const m = meta('t', {
      files: [dir('bin'), reg('bin/a', 0o755, target), { path: 'bin/b', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkname: 'bin/a' }, reg('bin/c', 0o644, null)],
    });
    const z = `Z:Q1${Buffer.from(target, 'hex').toString('base64')}`;
    expect(treeOf(m)).toEqual(['f:f', 'F:bin', 'R:a', 'a:0:0:755', z, 'R:b', 'a:0:0:755', z, 'R:c']);
  });

  it('records only the header of a package with installed size 0', () => {
    const m = meta('meta', { pkginfo: [['pkgname', 'meta'], ['pkgver', '1.0-r0'], ['size', '0'], ['replaces', 'x']], files: [dir('etc')] });
    expect(treeOf(m)).toEqual([]);
    expect(installedRecord(m)).not.toContain('r:');
  });
});

describe('apkDatabase rules', () => {
  it('moves a file shipped again by a later package to that package', () => {
    const a = meta('a', { files: [dir('etc'), reg('etc/shared'), reg('etc/own')] });
    const b = meta('b', { files: [dir('etc'), reg('etc/shared')] });
    const [recA, recB] = apkInstalledDb([a, b]).split('\n\n');
    expect(lines(recA!).filter((l) => /^[FR]:/.test(l))).toEqual(['F:etc', 'R:own']);
    expect(lines(recB!).filter((l) => /^[FR]:/.test(l))).toEqual(['F:etc', 'R:shared']);
  });

  it('separates records with a blank line and ends with one', () => {
    const text = apkInstalledDb([meta('a'), meta('b')]);
    expect(text.endsWith('\n\n')).toBe(true);
    expect(text.split('\n\n').filter((r) => r !== '')).toHaveLength(2);
  });

  it('uses the last triggers line and skips packages without triggers', () => {
    const a = meta('a', { pkginfo: [...meta('a').pkginfo, ['triggers', '/old'], ['triggers', '/usr/lib/a/*  /etc/a']] });
    expect(apkTriggers([meta('x'), a])).toBe(`${a.checksum} /usr/lib/a/* /etc/a\n`);
    expect(apkTriggers([meta('x')])).toBe('');
  });

  it('writes world sorted by name, one atom per name', () => {
    expect(apkWorld(['busybox', 'alpine-base', 'curl>=8', 'busybox'])).toBe('alpine-base\nbusybox\ncurl>=8\n');
    expect(apkWorld([])).toBe('\n');
  });

  it('comments out a repository of the build host', () => {
    const repo = (name: string, url: string): RepositoryConfig => ({ name, type: 'apk', url, options: {}, baseDir: '/' });
    expect(apkRepositories([repo('main', 'https://mirror.example/alpine/v3.16/main'), repo('local', '/srv/packages')])).toBe(
      'https://mirror.example/alpine/v3.16/main\n# local: /srv/packages (a local repository of the build host, not in the image)\n',
    );
  });

  it('refuses two different keys of one name', () => {
    const repo = (name: string, pem: string): RepositoryConfig => ({ name, type: 'apk', url: 'https://x', options: { keys: 'k', trusted: { 'k.rsa.pub': pem } }, baseDir: '/' });
    expect(repositoryKeys([repo('a', 'PEM'), repo('b', 'PEM')])).toEqual(new Map([['k.rsa.pub', 'PEM']]));
    expect(() => repositoryKeys([repo('a', 'PEM'), repo('b', 'OTHER')])).toThrow(UserError);
  });

  it('writes trusted keys into etc/apk/keys and refuses a name with a slash', () => {
    expect(apkKeyEntries(new Map([['k.rsa.pub', 'PEM']]))).toEqual([{ path: 'etc/apk/keys/k.rsa.pub', type: 'file', mode: 0o644, content: Buffer.from('PEM') }]);
    expect(() => apkKeyEntries(new Map([['../k', 'PEM']]))).toThrow(UserError);
  });
});
