import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readApkKeysSync, verifyAndParseApkIndex, type ApkIndex, type ApkIndexRecord } from '../adapters/apk/apkIndex.js';
import { readGzipMember } from '../adapters/apk/gzipMembers.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';
import { userError } from './helpers/userError.js';

const FIXTURES = ALPINE_FIXTURES;
const KEYS_DIR = path.join(FIXTURES, 'keys');
const X86_64 = path.join(FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz');
const AARCH64 = path.join(FIXTURES, 'v3.17-main-aarch64/APKINDEX.tar.gz');
const KEY_316 = 'alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub';
const KEY_317 = 'alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub';

let keys: Map<string, string>;
beforeAll(async () => {
  keys = readApkKeysSync(KEYS_DIR);
});


function record(index: ApkIndex, name: string): Record<string, string> {
  const found = index.records.filter((r: ApkIndexRecord) => r.fields.get('P') === name);
  expect(found).toHaveLength(1);
  return Object.fromEntries(found[0]!.fields);
}

/** A ustar header + padded body. */
function tarEntry(name: string, body: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

const INDEX_TEXT = [
  'C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  'P:hello',
  'V:1.0-r0',
  'A:x86_64',
  'S:1234',
  'I:4096',
  'T:a test package',
  'D:so:libc.musl-x86_64.so.1',
  '',
  'P:world',
  'V:2.0-r1',
  'A:x86_64',
  'p:cmd:world=2.0-r1',
  '',
  '',
].join('\n');

function buildIndex(privateKey: string, keyName: string, variant: 'RSA' | 'RSA256', text = INDEX_TEXT): Buffer {
  const tar = Buffer.concat([
    tarEntry('DESCRIPTION', Buffer.from('test-repo')),
    tarEntry('APKINDEX', Buffer.from(text)),
    Buffer.alloc(1024),
  ]);
  const indexStream = gzipSync(tar);
  const signature = sign(variant === 'RSA' ? 'sha1' : 'sha256', indexStream, privateKey);
  const signStream = gzipSync(tarEntry(`.SIGN.${variant}.${keyName}`, signature)); // no end-of-archive blocks
  return Buffer.concat([signStream, indexStream]);
}

describe('real Alpine indexes', () => {
  it('reads the 17 alpine keys', () => {
    expect(keys.size).toBe(17);
    expect(keys.get(KEY_316)).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('verifies and parses v3.16 main x86_64', () => {
    const index = verifyAndParseApkIndex(readFileSync(X86_64), keys, X86_64);
    expect(index.signedBy).toBe(KEY_316);
    expect(index.description).toBe('v3.16.3-13-g4d933a1fa3');
    expect(index.records).toHaveLength(4929);
    expect(record(index, 'musl')).toEqual({
      C: 'Q1s+0ABSdjudKn+n+ccJIUrG93mAk=',
      P: 'musl',
      V: '1.2.3-r2',
      A: 'x86_64',
      S: '383459',
      I: '622592',
      T: 'the musl c library (libc) implementation',
      U: 'https://musl.libc.org/',
      L: 'MIT',
      o: 'musl',
      m: 'Timo Teräs <timo.teras@iki.fi>',
      t: '1668251993',
      c: '9bb1c89d8ef20e9a69fea9ac7035a01deb27d680',
      p: 'so:libc.musl-x86_64.so.1=1',
    });
    expect(record(index, 'busybox')).toEqual({
      C: 'Q1iZ+C2JJdBlm2KKtAOkSkM7zZegY=',
      P: 'busybox',
      V: '1.35.0-r17',
      A: 'x86_64',
      S: '507831',
      I: '962560',
      T: 'Size optimized toolbox of many common UNIX utilities',
      U: 'https://busybox.net/',
      L: 'GPL-2.0-only',
      o: 'busybox',
      m: 'Sören Tempel <soeren+alpine@soeren-tempel.net>',
      t: '1659366884',
      c: '2bf6ec48e526113f87216683cd341a78af5f0b3f',
      D: 'so:libc.musl-x86_64.so.1',
      p: '/bin/sh cmd:busybox=1.35.0-r17 cmd:sh=1.35.0-r17',
    });
    expect(record(index, 'curl')).toEqual({
      C: 'Q1NOVxoabDNZfrpRAwt11ckCqxtSg=',
      P: 'curl',
      V: '7.83.1-r4',
      A: 'x86_64',
      S: '136739',
      I: '262144',
      T: 'URL retrival utility and library',
      U: 'https://curl.se/',
      L: 'curl',
      o: 'curl',
      m: 'Natanael Copa <ncopa@alpinelinux.org>',
      t: '1666780459',
      c: '480a2dc4f712308d90f8b4e101941b73d9a0d61e',
      D: 'ca-certificates so:libc.musl-x86_64.so.1 so:libcurl.so.4 so:libz.so.1',
      p: 'cmd:curl=7.83.1-r4',
    });
    // The index/package pair PROVENANCE.md documents.
    expect(record(index, 'strace')).toMatchObject({ C: 'Q18y9jy9MgtvQFXTntDQ3if2axAkk=', S: '521102' });
  });

  it('verifies and parses v3.17 main aarch64', () => {
    const index = verifyAndParseApkIndex(readFileSync(AARCH64), keys, AARCH64);
    expect(index.signedBy).toBe(KEY_317);
    expect(index.description).toBe('v3.17.3-216-g54a39ace82a');
    expect(index.records).toHaveLength(5004);
    expect(index.records.every((r) => r.fields.get('A') === 'aarch64')).toBe(true);
    expect(record(index, 'musl')).toEqual({
      C: 'Q1dCsKJvMnxtpg1CoCw+thiaWORo8=',
      P: 'musl',
      V: '1.2.3-r5',
      A: 'aarch64',
      S: '397125',
      I: '675840',
      T: 'the musl c library (libc) implementation',
      U: 'https://musl.libc.org/',
      L: 'MIT',
      o: 'musl',
      m: 'Timo Teräs <timo.teras@iki.fi>',
      t: '1684510151',
      c: 'b12380f8608f8cdd44347db413e8937ac4a5565b',
      p: 'so:libc.musl-aarch64.so.1=1',
    });
  });

  it('refuses a tampered index (a byte flipped in the second stream)', () => {
    const bytes = Buffer.from(readFileSync(X86_64));
    const boundary = readGzipMember(bytes, 0, X86_64).end;
    bytes[boundary + 1000]! ^= 0x01;
    const e = userError(() => verifyAndParseApkIndex(bytes, keys, X86_64));
    expect(e.message).toContain(X86_64);
    expect(e.message).toContain(`does not verify with "${KEY_316}"`);
  });

  it('refuses an index whose key is not trusted, naming the key', () => {
    const without = new Map(keys);
    without.delete(KEY_317);
    const e = userError(() => verifyAndParseApkIndex(readFileSync(AARCH64), without, AARCH64));
    expect(e.message).toContain(AARCH64);
    expect(e.message).toContain(KEY_317);
    expect(e.message).toContain("keys directory");
  });

  it('refuses a truncated index', () => {
    const bytes = readFileSync(X86_64);
    for (const cut of [5, 300, bytes.length - 4, bytes.length - 1000]) {
      const e = userError(() => verifyAndParseApkIndex(bytes.subarray(0, cut), keys, X86_64));
      expect(e.message).toContain(X86_64);
    }
  });

  it('refuses a file that is not gzip, or has no signature stream', () => {
    expect(userError(() => verifyAndParseApkIndex(Buffer.from('<html>not found</html>'), keys, 'u')).message).toMatch(/^u is not a valid gzip file/);
    const bytes = readFileSync(X86_64);
    const unsigned = bytes.subarray(readGzipMember(bytes, 0, 'x').end);
    expect(userError(() => verifyAndParseApkIndex(unsigned, keys, 'u')).message).toMatch(/^u has no signature stream/);
  });
});

describe('indexes signed by a test key', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const NAME = 'test@example.org-12345678.rsa.pub';
  const trusted = new Map([[NAME, publicKey]]);

  for (const variant of ['RSA', 'RSA256'] as const) {
    it(`verifies a .SIGN.${variant} signature`, () => {
      const index = verifyAndParseApkIndex(buildIndex(privateKey, NAME, variant), trusted, 'test');
      expect(index.signedBy).toBe(NAME);
      expect(index.description).toBe('test-repo');
      expect(index.records.map((r) => Object.fromEntries(r.fields))).toEqual([
        {
          C: 'Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          P: 'hello',
          V: '1.0-r0',
          A: 'x86_64',
          S: '1234',
          I: '4096',
          T: 'a test package',
          D: 'so:libc.musl-x86_64.so.1',
        },
        { P: 'world', V: '2.0-r1', A: 'x86_64', p: 'cmd:world=2.0-r1' },
      ]);
    });
  }

  it('refuses a signature by another key of the same name', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const e = userError(() => verifyAndParseApkIndex(buildIndex(other.privateKey, NAME, 'RSA256'), trusted, 'test'));
    expect(e.message).toMatch(/^test does not verify with/);
  });

  it('refuses a malformed record line, naming the line', () => {
    const e = userError(() => verifyAndParseApkIndex(buildIndex(privateKey, NAME, 'RSA', 'P:a\nV:1\nnot a field\n'), trusted, 'test'));
    expect(e.message).toMatch(/^test: APKINDEX line 3 is not a "X:value" field/);
  });

  it('refuses an index tar without APKINDEX', () => {
    const indexStream = gzipSync(Buffer.concat([tarEntry('DESCRIPTION', Buffer.from('x')), Buffer.alloc(1024)]));
    const sig = gzipSync(tarEntry(`.SIGN.RSA.${NAME}`, sign('sha1', indexStream, privateKey)));
    const e = userError(() => verifyAndParseApkIndex(Buffer.concat([sig, indexStream]), trusted, 'test'));
    expect(e.message).toMatch(/^test has no APKINDEX entry/);
  });

  it('readApkKeysSync refuses a non-key file and an empty directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'apk-keys-'));
    try {
      expect(() => readApkKeysSync(dir)).toThrow(/holds no keys/);
      writeFileSync(path.join(dir, NAME), publicKey);
      expect([...readApkKeysSync(dir).keys()]).toEqual([NAME]);
      writeFileSync(path.join(dir, 'junk.rsa.pub'), 'hello');
      expect(() => readApkKeysSync(dir)).toThrow(/junk\.rsa\.pub is not a PEM public key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
