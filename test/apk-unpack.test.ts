import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkHead } from '../adapters/apk/apkHead.js';
import { readApkKeysSync, verifyAndParseApkIndex, type ApkIndex } from '../adapters/apk/apkIndex.js';
import type { ApkMetadata } from '../adapters/apk/apkMetadata.js';
import { busyboxApplets } from '../adapters/apk/busyboxApplets.js';
import { readGzipMember } from '../adapters/apk/gzipMembers.js';
import { unpackApk } from '../adapters/apk/unpackApk.js';
import { verifyApkFile } from '../adapters/apk/verifyApk.js';
import type { LayerEntry } from '../adapters/types.js';
import { UserError } from '../src/errors.js';
import { readRootfsEntries } from './helpers/minirootfs.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';
import { userErrorOf as userError } from './helpers/userError.js';

const KEYS_DIR = path.join(ALPINE_FIXTURES, 'keys');
const INDEX_316 = path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz');
const STRACE = path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/strace-5.17-r0.apk');
const CURL_R1 = path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/curl-7.83.1-r1.apk');
const BASELAYOUT = path.join(ALPINE_FIXTURES, 'v3.16-main-aarch64/alpine-baselayout-3.2.0-r23.apk');
const KEY_316 = 'alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub';
const KEY_317 = 'alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub';
const STRACE_LABEL = 'strace 5.17-r0 (strace-5.17-r0.apk)';

const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-apk-unpack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let keys: Map<string, string>;
let index: ApkIndex;
beforeAll(async () => {
  keys = readApkKeysSync(KEYS_DIR);
  index = verifyAndParseApkIndex(readFileSync(INDEX_316), keys, INDEX_316);
});

/** An index record as verifyApkFile's `expect`. */
function pinned(name: string): { checksum: string; size: number } {
  const records = index.records.filter((r) => r.fields.get('P') === name);
  expect(records).toHaveLength(1);
  return { checksum: records[0]!.fields.get('C')!, size: Number(records[0]!.fields.get('S')) };
}


interface Unpacked {
  entries: { entry: LayerEntry; content?: Buffer }[];
  meta: ApkMetadata;
}

async function unpackAll(file: string, label: string): Promise<Unpacked> {
  const result = unpackApk(file, label);
  const entries: Unpacked['entries'] = [];
  for await (const { entry, body } of result.entries) {
    if (!body) {
      entries.push({ entry });
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    entries.push({ entry, content: Buffer.concat(chunks) });
  }
  return { entries, meta: (await result.metadata) as ApkMetadata };
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeCopy(name: string, bytes: Buffer): string {
  const file = path.join(work, name);
  writeFileSync(file, bytes);
  return file;
}

/** Member boundaries of a real package: [signature, control, data] start offsets. */
function memberStarts(bytes: Buffer): [number, number, number] {
  const control = readGzipMember(bytes, 0, 'test').end;
  return [0, control, readGzipMember(bytes, control, 'test').end];
}

// ---- A test-local package builder: ustar blocks, gzip members, node:crypto signatures ----

function paxBody(records: Record<string, string>): Buffer {
  let text = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    let length = rest.length + 1;
    while (String(length).length + rest.length !== length) length = String(length).length + rest.length;
    text += `${length}${rest}`;
  }
  return Buffer.from(text);
}

interface UstarOptions {
  type?: '0' | '1' | '2' | '5' | 'x';
  body?: Buffer;
  linkname?: string;
  mode?: number;
  pax?: Record<string, string>;
}

/** One tar entry (preceded by its PAX header when `pax` is given), body padded to 512. */
function ustar(name: string, o: UstarOptions = {}): Buffer {
  const body = o.body ?? Buffer.alloc(0);
  const type = o.type ?? '0';
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(`${(o.mode ?? (type === '5' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('14371573140\0', 136);
  header.write(type, 156);
  if (o.linkname) header.write(o.linkname, 157, 100, 'utf8');
  header.write('ustar\0' + '00', 257);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const entry = Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
  if (!o.pax) return entry;
  return Buffer.concat([ustar(`PaxHeaders/${name}`.slice(0, 99), { type: 'x', body: paxBody(o.pax) }), entry]);
}

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const TEST_KEY = 'test@example.org-12345678.rsa.pub';
const testKeys = new Map([[TEST_KEY, publicKey]]);

interface CraftOptions {
  /** The data tar's entries, without end-of-archive blocks (the builder adds them). */
  data: Buffer[];
  pkginfo?: [string, string][];
  scripts?: Record<string, string>;
  /** Replaces the computed datahash; null leaves it out. */
  datahash?: string | null;
  /** null: no signature member at all. */
  signature?: 'RSA' | 'RSA256' | null;
  /** Write the data tar as two gzip members (apk-tools 2 accepts that). */
  splitData?: boolean;
}

function craftApk(o: CraftOptions): Buffer {
  const dataTar = Buffer.concat([...o.data, Buffer.alloc(1024)]);
  const half = Math.floor(dataTar.length / 1024) * 512;
  const data = o.splitData
    ? Buffer.concat([gzipSync(dataTar.subarray(0, half)), gzipSync(dataTar.subarray(half))])
    : gzipSync(dataTar);
  const datahash = o.datahash === undefined ? sha256(data) : o.datahash;
  const fields: [string, string][] = [
    ['pkgname', 'hello'],
    ['pkgver', '1.0-r0'],
    ['arch', 'x86_64'],
    ...(o.pkginfo ?? []),
    ...(datahash === null ? [] : [['datahash', datahash] as [string, string]]),
  ];
  const pkginfo = ['# Generated by a test', ...fields.map(([k, v]) => `${k} = ${v}`), ''].join('\n');
  const control = gzipSync(
    Buffer.concat([
      ustar('.PKGINFO', { body: Buffer.from(pkginfo) }),
      ...Object.entries(o.scripts ?? {}).map(([name, text]) => ustar(name, { body: Buffer.from(text), mode: 0o755 })),
    ]),
  );
  const parts = [control, data];
  const variant = o.signature === undefined ? 'RSA' : o.signature;
  if (variant) {
    const signature = sign(variant === 'RSA' ? 'sha1' : 'sha256', control, privateKey);
    parts.unshift(gzipSync(ustar(`.SIGN.${variant}.${TEST_KEY}`, { body: signature })));
  }
  return Buffer.concat(parts);
}

function controlChecksum(apk: Buffer): string {
  const [, control, data] = memberStarts(apk);
  return `Q1${createHash('sha1').update(apk.subarray(control, data)).digest('base64')}`;
}

/** bin/busybox and the applet links of the Alpine 3.16 minirootfs. */
async function rootfsBusybox(): Promise<{ binary: Buffer; links: string[] }> {
  const entries = await readRootfsEntries();
  const binary = entries.find((e) => e.path === 'bin/busybox')?.content;
  if (!binary) throw new Error('no bin/busybox in the minirootfs');
  const links = entries.filter((e) => e.type === 'symlink' && e.linkname === '/bin/busybox').map((e) => e.path);
  return { binary, links: links.sort() };
}

// ---- Real Alpine packages ----

describe('real Alpine packages', () => {
  it('strace: checksum, size and signature match its APKINDEX record', async () => {
    const expectRecord = pinned('strace');
    expect(expectRecord).toEqual({ checksum: 'Q18y9jy9MgtvQFXTntDQ3if2axAkk=', size: 521102 });
    expect(await verifyApkFile(STRACE, expectRecord, keys, STRACE_LABEL)).toEqual({
      checksum: 'Q18y9jy9MgtvQFXTntDQ3if2axAkk=',
      signedBy: KEY_316,
    });
  });

  it('strace: the head splits at the gzip member boundaries', async () => {
    const head = await readApkHead(STRACE, STRACE_LABEL);
    expect(head.controlOffset).toBe(666);
    expect(head.dataOffset).toBe(1261);
    expect(head.control).toHaveLength(1261 - 666);
    expect(head.controlFiles.map((f) => f.name)).toEqual(['.PKGINFO']);
    expect(head.signatures.map((s) => [s.digest, s.keyName])).toEqual([['sha1', KEY_316]]);
    // The datahash covers the compressed bytes from the data member to the end of the file.
    const datahash = head.pkginfo.find(([k]) => k === 'datahash')![1];
    expect(sha256(readFileSync(STRACE).subarray(head.dataOffset))).toBe(datahash);
  });

  it('strace: unpacks its files with their apk checksums', async () => {
    const { entries, meta } = await unpackAll(STRACE, STRACE_LABEL);
    expect(entries.map((e) => [e.entry.path, e.entry.type])).toEqual([
      ['usr', 'directory'],
      ['usr/bin', 'directory'],
      ['usr/bin/strace', 'file'],
      ['usr/bin/strace-log-merge', 'file'],
    ]);
    const strace = entries[2]!;
    expect(strace.entry).toMatchObject({ mode: 0o755, uid: 0, gid: 0, size: 1690048 });
    expect(strace.content).toHaveLength(1690048);
    expect(meta.files[2]).toEqual({
      path: 'usr/bin/strace',
      type: 'file',
      mode: 0o755,
      uid: 0,
      gid: 0,
      sha1: '6d5db7fb4b57136b8bccf917f4667ef22bd67f3c',
    });
    // The PAX checksum is the SHA-1 of the file's content.
    for (const [i, e] of entries.entries()) {
      if (e.content) expect(meta.files[i]!.sha1).toBe(sha1(e.content));
    }
    expect(meta.files.map((f) => f.path)).toEqual(entries.map((e) => e.entry.path));
    expect(meta.files[0]!.sha1).toBeUndefined();

    expect(meta).toMatchObject({
      name: 'strace',
      version: '5.17-r0',
      arch: 'x86_64',
      checksum: 'Q18y9jy9MgtvQFXTntDQ3if2axAkk=',
      fileSize: 521102,
      scripts: {},
    });
    expect(meta.pkginfo[0]).toEqual(['pkgname', 'strace']);
    expect(meta.pkginfo.filter(([k]) => k === 'provides').map(([, v]) => v)).toEqual([
      'cmd:strace-log-merge=5.17-r0',
      'cmd:strace=5.17-r0',
    ]);
    expect(meta.pkginfo.find(([k]) => k === 'datahash')).toEqual([
      'datahash',
      'b8389f19f4d84d176cd283942ef976c6d3e76fa996fd1aee6dc330dc304d9989',
    ]);
    expect(meta.busyboxApplets).toBeUndefined();
    expect(JSON.parse(JSON.stringify(meta))).toEqual(meta);
  });

  it('curl 7.83.1-r1: a genuine signed package, but not the build the index pins', async () => {
    const label = 'curl 7.83.1-r4 (curl-7.83.1-r4.apk)';
    const own = await verifyApkFile(CURL_R1, { checksum: 'Q1dHNOerPc1tLPEYaP5dYIgzfGdto=', size: 136754 }, keys, label);
    expect(own.signedBy).toBe(KEY_316);
    const record = pinned('curl');
    expect(record).toEqual({ checksum: 'Q1NOVxoabDNZfrpRAwt11ckCqxtSg=', size: 136739 });
    const e = await userError(verifyApkFile(CURL_R1, record, keys, label));
    expect(e.message).toMatch(/^curl 7\.83\.1-r4 \(curl-7\.83\.1-r4\.apk\) has control checksum Q1dHNOerPc1tLPEYaP5dYIgzfGdto= /);
    expect(e.message).toContain('(it is curl 7.83.1-r1)');
    expect(e.message).toContain('the index pins Q1NOVxoabDNZfrpRAwt11ckCqxtSg=');
    expect(e.message).toContain('`layerpkg lock`');
  });

  it('alpine-baselayout (aarch64): scripts, directory modes and symlinks', async () => {
    const label = 'alpine-baselayout 3.2.0-r23';
    expect(await verifyApkFile(BASELAYOUT, { checksum: 'Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=', size: 11012 }, keys, label)).toEqual({
      checksum: 'Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=',
      signedBy: KEY_317,
    });
    const { entries, meta } = await unpackAll(BASELAYOUT, label);
    expect(meta).toMatchObject({ name: 'alpine-baselayout', version: '3.2.0-r23', arch: 'aarch64' });
    expect(Object.keys(meta.scripts)).toEqual(['.pre-install', '.pre-upgrade', '.post-upgrade', '.post-install']);
    expect(Buffer.from(meta.scripts['.pre-install']!, 'base64').toString()).toBe(
      '#!/bin/sh\n\naddgroup -S -g 42 shadow 2>/dev/null\n\nexit 0\n',
    );
    const byPath = new Map(entries.map((e) => [e.entry.path, e.entry]));
    expect(byPath.get('tmp')).toMatchObject({ type: 'directory', mode: 0o1777, size: 0 });
    expect(byPath.get('root')).toMatchObject({ type: 'directory', mode: 0o700 });
    expect(byPath.get('var/empty')).toMatchObject({ type: 'directory', mode: 0o555 });
    expect(byPath.get('etc/crontabs/root')).toMatchObject({ type: 'file', mode: 0o600, size: 283, mtime: 1662926906 });
    expect(byPath.get('var/run')).toMatchObject({ type: 'symlink', linkname: '/run' });
    expect(meta.files.find((f) => f.path === 'var/run')).toEqual({
      path: 'var/run',
      type: 'symlink',
      mode: 0o777,
      uid: 0,
      gid: 0,
      linkname: '/run',
      sha1: 'd7f48d673ffc70ad9d48a2be709a55ad922e1784',
    });
    expect(entries.filter((e) => e.entry.type === 'directory').length).toBeGreaterThan(60);
    expect(entries.some((e) => e.entry.path.startsWith('.'))).toBe(false);
  });
});

// ---- Damaged real packages ----

describe('damaged packages', () => {
  const strace = readFileSync(STRACE);
  const [, controlStart, dataStart] = memberStarts(strace);
  const flipped = (offset: number, name: string): string => {
    const copy = Buffer.from(strace);
    copy[offset]! ^= 0x01;
    return writeCopy(name, copy);
  };

  it('refuses a control stream changed without breaking its gzip framing: bad signature', async () => {
    // Byte 4 of a gzip header is MTIME: the stream still inflates, but its bytes are no longer signed.
    const file = flipped(controlStart + 4, 'control-mtime.apk');
    const e = await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL));
    expect(e.message).toBe(
      `${STRACE_LABEL} does not verify with "${KEY_316}" (RSA/SHA-1): the package was modified or corrupted in transit; ` +
        'download it again, and check the mirror',
    );
  });

  it('refuses a flipped byte inside the compressed control stream', async () => {
    const file = flipped(controlStart + 200, 'control-body.apk');
    const e = await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL));
    expect(e.message.startsWith(STRACE_LABEL)).toBe(true);
    expect(await userError(unpackAll(file, STRACE_LABEL))).toBeInstanceOf(UserError);
  });

  it('refuses data whose bytes no longer match the datahash', async () => {
    const file = flipped(dataStart + 4, 'data-mtime.apk');
    // The head is intact (signature, C:, size), but the download check hashes the data too...
    const refused = await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL));
    expect(refused.message).toMatch(/its data stream has sha256 [0-9a-f]{64}, but its signed \.PKGINFO says datahash b8389f19/);
    // ...and so does unpack, which never trusts that a file was verified before.
    const e = await userError(unpackAll(file, STRACE_LABEL));
    expect(e.message).toMatch(/^strace 5\.17-r0 \(strace-5\.17-r0\.apk\): the sha256 of its data stream \([0-9a-f]{64}\) does not match the datahash/);
    expect(e.message).toContain('b8389f19f4d84d176cd283942ef976c6d3e76fa996fd1aee6dc330dc304d9989');
  });

  it('refuses a flipped byte inside the compressed data, with one error naming the package', async () => {
    for (const offset of [dataStart + 5000, dataStart + 300000, strace.length - 6]) {
      const file = flipped(offset, `data-${offset}.apk`);
      const result = unpackApk(file, STRACE_LABEL);
      const e = await userError(
        (async () => {
          for await (const { body } of result.entries) if (body) for await (const _ of body) void _;
        })(),
      );
      expect(e.message.startsWith(STRACE_LABEL)).toBe(true);
      await expect(result.metadata).rejects.toBe(e);
    }
  });

  it('refuses truncated packages', async () => {
    for (const cut of [0, 5, 300, controlStart + 100, dataStart, dataStart + 1000, 400000, strace.length - 4]) {
      const file = writeCopy(`cut-${cut}.apk`, strace.subarray(0, cut));
      const verifyError = await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL));
      expect(verifyError.message.startsWith(STRACE_LABEL)).toBe(true);
      const unpackError = await userError(unpackAll(file, STRACE_LABEL));
      expect(unpackError.message.startsWith(STRACE_LABEL)).toBe(true);
    }
    const file = writeCopy('cut-data.apk', strace.subarray(0, 400000));
    expect((await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL))).message).toContain(
      'is 400000 bytes but the index pins 521102',
    );
  });

  it('refuses a package whose signature stream was removed', async () => {
    const file = writeCopy('unsigned-strace.apk', strace.subarray(controlStart));
    const e = await userError(verifyApkFile(file, pinned('strace'), keys, STRACE_LABEL));
    expect(e.message).toMatch(/^strace 5\.17-r0 \(strace-5\.17-r0\.apk\) is not signed \(it has no \.SIGN\.RSA\.\* or \.SIGN\.RSA256\.\* signature stream\)/);
    // Unpacking leaves trust to verifyApkFile: the stripped file still reads as the same package.
    const { meta } = await unpackAll(file, STRACE_LABEL);
    expect(meta.checksum).toBe('Q18y9jy9MgtvQFXTntDQ3if2axAkk=');
  });

  it('refuses a package signed by a key that is not trusted, naming the key', async () => {
    const without = new Map(keys);
    without.delete(KEY_316);
    const e = await userError(verifyApkFile(STRACE, pinned('strace'), without, STRACE_LABEL));
    expect(e.message).toBe(
      `${STRACE_LABEL} is signed by "${KEY_316}", which is not among the trusted keys: ` +
        "add that public key file to the repository's keys directory (Alpine ships them in the alpine-keys package)",
    );
  });

  it('refuses a file that is not a package at all', async () => {
    const html = writeCopy('not-found.apk', Buffer.from('<html>404 not found</html>'));
    expect((await userError(verifyApkFile(html, pinned('strace'), keys, 'x'))).message).toMatch(/^x is not a valid gzip file/);
    expect((await userError(unpackAll(html, 'x'))).message).toMatch(/^x is not a valid gzip file/);
    const missing = path.join(work, 'missing.apk');
    expect((await userError(unpackAll(missing, 'x'))).message).toMatch(/^x: cannot read the package file/);
  });
});

// ---- Crafted packages ----

describe('crafted packages', () => {
  const DATA = [
    ustar('usr/', { type: '5' }),
    ustar('usr/bin/', { type: '5' }),
    ustar('usr/bin/hello', { body: Buffer.from('#!/bin/sh\necho hello\n'), mode: 0o755, pax: { 'APK-TOOLS.checksum.SHA1': sha1(Buffer.from('#!/bin/sh\necho hello\n')) } }),
    ustar('usr/bin/hi', { type: '1', linkname: 'usr/bin/hello' }),
    ustar('usr/bin/hey', { type: '2', linkname: 'hello', mode: 0o777, pax: { 'APK-TOOLS.checksum.SHA1': sha1(Buffer.from('hello')) } }),
  ];

  async function crafted(name: string, o: CraftOptions): Promise<{ file: string; expect: { checksum: string; size: number } }> {
    const bytes = craftApk(o);
    return { file: writeCopy(name, bytes), expect: { checksum: controlChecksum(bytes), size: bytes.length } };
  }

  for (const signature of ['RSA', 'RSA256'] as const) {
    it(`verifies and unpacks a .SIGN.${signature} package with data in two gzip members`, async () => {
      const pkg = await crafted(`ok-${signature}.apk`, {
        data: DATA,
        signature,
        splitData: true,
        scripts: { '.post-install': '#!/bin/sh\ntrue\n', '.trigger': '#!/bin/sh\n' },
        pkginfo: [['depend', 'so:libc.musl-x86_64.so.1'], ['triggers', '/usr/share/hello/*']],
      });
      expect(await verifyApkFile(pkg.file, pkg.expect, testKeys, 'hello')).toEqual({ checksum: pkg.expect.checksum, signedBy: TEST_KEY });
      const { entries, meta } = await unpackAll(pkg.file, 'hello');
      expect(entries.map((e) => [e.entry.path, e.entry.type, e.entry.linkname])).toEqual([
        ['usr', 'directory', undefined],
        ['usr/bin', 'directory', undefined],
        ['usr/bin/hello', 'file', undefined],
        ['usr/bin/hi', 'hardlink', 'usr/bin/hello'],
        ['usr/bin/hey', 'symlink', 'hello'],
      ]);
      expect(entries[2]!.content!.toString()).toBe('#!/bin/sh\necho hello\n');
      expect(meta.scripts).toEqual({
        '.post-install': Buffer.from('#!/bin/sh\ntrue\n').toString('base64'),
        '.trigger': Buffer.from('#!/bin/sh\n').toString('base64'),
      });
      expect(meta.pkginfo.slice(0, 5)).toEqual([
        ['pkgname', 'hello'],
        ['pkgver', '1.0-r0'],
        ['arch', 'x86_64'],
        ['depend', 'so:libc.musl-x86_64.so.1'],
        ['triggers', '/usr/share/hello/*'],
      ]);
      expect(meta.files.map((f) => f.sha1)).toEqual([undefined, undefined, sha1(Buffer.from('#!/bin/sh\necho hello\n')), undefined, sha1(Buffer.from('hello'))]);
      expect(meta.checksum).toBe(pkg.expect.checksum);
      expect(meta.fileSize).toBe(pkg.expect.size);
    });
  }

  it('refuses a package without a signature stream', async () => {
    const pkg = await crafted('unsigned.apk', { data: DATA, signature: null, splitData: true });
    const e = await userError(verifyApkFile(pkg.file, pkg.expect, testKeys, 'hello 1.0-r0'));
    expect(e.message).toMatch(/^hello 1\.0-r0 is not signed/);
  });

  it('refuses a signature by another key of the same name', async () => {
    const pkg = await crafted('other-key.apk', { data: DATA });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const e = await userError(verifyApkFile(pkg.file, pkg.expect, new Map([[TEST_KEY, other.publicKey]]), 'hello'));
    expect(e.message).toMatch(/^hello does not verify with "test@example\.org-12345678\.rsa\.pub"/);
  });

  it('refuses a signed datahash that does not match the data', async () => {
    const pkg = await crafted('bad-datahash.apk', { data: DATA, datahash: 'ab'.repeat(32) });
    expect((await userError(verifyApkFile(pkg.file, pkg.expect, testKeys, 'hello'))).message).toContain(`says datahash ${'ab'.repeat(32)}`);
    const e = await userError(unpackAll(pkg.file, 'hello'));
    expect(e.message).toContain(`does not match the datahash its signed .PKGINFO pins (${'ab'.repeat(32)})`);
  });

  it('refuses a package without datahash', async () => {
    const pkg = await crafted('no-datahash.apk', { data: DATA, datahash: null });
    expect((await userError(verifyApkFile(pkg.file, pkg.expect, testKeys, 'hello'))).message).toMatch(/^hello has no datahash in its \.PKGINFO/);
    expect((await userError(unpackAll(pkg.file, 'hello'))).message).toMatch(/^hello has no datahash in its \.PKGINFO/);
  });

  it('refuses entries that would escape the root', async () => {
    const cases: [string, Buffer][] = [
      ['dotdot', ustar('../x', { body: Buffer.from('x') })],
      ['nested-dotdot', ustar('usr/../../x', { body: Buffer.from('x') })],
      ['absolute', ustar('/etc/x', { body: Buffer.from('x') })],
      ['hardlink-escape', ustar('usr/bin/h', { type: '1', linkname: '../etc/shadow' })],
    ];
    for (const [name, entry] of cases) {
      const pkg = await crafted(`${name}.apk`, { data: [...DATA, entry] });
      const e = await userError(unpackAll(pkg.file, 'evil 1.0'));
      expect(e.message).toMatch(/^evil 1\.0: refusing tar entry ".*": it would escape the image root$/);
    }
  });

  it('refuses a hard link to a file the package did not ship before it', async () => {
    const pkg = await crafted('hardlink-missing.apk', { data: [ustar('usr/', { type: '5' }), ustar('usr/h', { type: '1', linkname: 'usr/nothing' })] });
    expect((await userError(unpackAll(pkg.file, 'hello'))).message).toBe(
      'hello: refusing hard link "usr/h" to "usr/nothing": its target is not an earlier regular file of the package',
    );
  });

  it('skips what apk-tools never installs: dot names at the top and .keep_ files', async () => {
    const pkg = await crafted('skips.apk', {
      data: [...DATA, ustar('.PKGINFO', { body: Buffer.from('pkgname = evil\n') }), ustar('usr/bin/.keep_usr_bin', { body: Buffer.alloc(0) })],
    });
    const { entries, meta } = await unpackAll(pkg.file, 'hello');
    expect(entries.map((e) => e.entry.path)).toEqual(['usr', 'usr/bin', 'usr/bin/hello', 'usr/bin/hi', 'usr/bin/hey']);
    expect(meta.files).toHaveLength(5);
    expect(meta.name).toBe('hello');
  });

  it('refuses a control stream that holds a data file', async () => {
    const control = gzipSync(Buffer.concat([ustar('.PKGINFO', { body: Buffer.from('pkgname = x\n') }), ustar('usr/bin/x', { body: Buffer.from('x') })]));
    const sig = gzipSync(ustar(`.SIGN.RSA.${TEST_KEY}`, { body: sign('sha1', control, privateKey) }));
    const file = writeCopy('stray-control.apk', Buffer.concat([sig, control, gzipSync(Buffer.alloc(1024))]));
    expect((await userError(unpackAll(file, 'x'))).message).toMatch(/^x has "usr\/bin\/x" in its control stream/);
  });

  it('fills busyboxApplets from a bin/busybox it streams', async () => {
    const { binary, links } = await rootfsBusybox();
    const pkg = await crafted('busybox.apk', {
      data: [ustar('bin/', { type: '5' }), ustar('bin/busybox', { body: binary, mode: 0o755, pax: { 'APK-TOOLS.checksum.SHA1': sha1(binary) } })],
    });
    const { entries, meta } = await unpackAll(pkg.file, 'busybox');
    expect(entries[1]!.content!.equals(binary)).toBe(true);
    expect(meta.busyboxApplets).toEqual(links);
  });
});

// ---- busybox applet tables ----

describe('busyboxApplets', () => {
  it('reads the 303 applet links of Alpine 3.16 busybox, as its minirootfs has them', async () => {
    const { binary, links } = await rootfsBusybox();
    expect(links).toHaveLength(303);
    const applets = busyboxApplets(binary);
    expect(applets).toEqual(links);
    expect(applets).toContain('bin/sh');
    expect(applets).toContain('bin/ash');
    expect(applets).toContain('sbin/ifconfig');
    expect(applets).toContain('usr/bin/wget');
    expect(applets).toContain('usr/sbin/crond');
    expect(new Set(applets!.map((a) => a.slice(0, a.lastIndexOf('/'))))).toEqual(new Set(['bin', 'sbin', 'usr/bin', 'usr/sbin']));
  });

  it('returns undefined without tables, or with an ambiguous location table', async () => {
    expect(busyboxApplets(Buffer.from('not a busybox'))).toBeUndefined();
    const names = Buffer.from('[\0[[\0ash\0ls\0\0', 'latin1');
    // No location table next to the names.
    expect(busyboxApplets(Buffer.concat([Buffer.alloc(100, 0xff), names, Buffer.alloc(100, 0xff)]))).toBeUndefined();
    // Exactly one: 4 applets → 2 bytes, nibbles low first: [ → 1 (bin), [[ → 3 (usr/bin), ash → 1, ls → 1.
    const one = Buffer.concat([Buffer.alloc(50, 0xff), Buffer.from([0x31, 0x11]), Buffer.alloc(50, 0xff), names, Buffer.alloc(50, 0xff)]);
    expect(busyboxApplets(one)).toEqual(['bin/[', 'bin/ash', 'bin/ls', 'usr/bin/[[']);
    // Two candidate tables: which one is real cannot be told.
    const two = Buffer.concat([Buffer.alloc(50, 0xff), Buffer.from([0x31, 0x11]), Buffer.alloc(50, 0xff), names, Buffer.alloc(50, 0xff), Buffer.from([0x22, 0x22]), Buffer.alloc(50, 0xff)]);
    expect(busyboxApplets(two)).toBeUndefined();
    // Unsorted names are not the applet table.
    const unsorted = Buffer.concat([Buffer.from([0x31, 0x11]), Buffer.alloc(50, 0xff), Buffer.from('[\0[[\0ls\0ash\0\0', 'latin1'), Buffer.alloc(50, 0xff)]);
    expect(busyboxApplets(unsorted)).toBeUndefined();
  });
});
