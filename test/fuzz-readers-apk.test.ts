/**
 * Issue 15, must-show 8 (Alpine): a bounded, seeded fuzz run of the gzip member splitter, the
 * APKINDEX reader (the real signed v3.16 index with Alpine's keys; and a hostile index whose
 * content is mutated and then validly signed with a test key, so the damage reaches the parser
 * and the package records), the .apk head and its verification, and unpackApk (whole-file damage
 * of real packages; damaged data tars and .PKGINFO with the datahash made to match again).
 * Property: success or a UserError with a message — no other exception, no hang, bounded RSS.
 * Fixtures: ../shared/fixtures/alpine (see its PROVENANCE.md).
 */
import { createHash, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readApkHead } from '../adapters/apk/apkHead.js';
import { verifyAndParseApkIndex } from '../adapters/apk/apkIndex.js';
import { splitGzipMembers } from '../adapters/apk/gzipMembers.js';
import { readApkIndex } from '../adapters/apk/readIndex.js';
import { unpackApk } from '../adapters/apk/unpackApk.js';
import { verifyApkFile } from '../adapters/apk/verifyApk.js';
import type { IndexContext, RepositoryConfig } from '../adapters/types.js';
import { buildSignatureTar, makeApkSigningKey, type ApkSigningKey } from './helpers/apkRepo.js';
import {
  applyByteMutations,
  applyGzipMutation,
  applyLineMutations,
  applyTarMutations,
  byteMutations,
  consumeUnpack,
  FUZZ_SEED,
  fuzzReader,
  fuzzTally,
  gzipMutation,
  lineMutations,
  scratchDir,
  tarMutations,
} from './helpers/fuzz.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';

const scratch = scratchDir('layerpkg-fuzz-apk-');
afterAll(() => scratch.remove());

const PACKAGES = {
  baselayout: 'v3.16-main-aarch64/alpine-baselayout-3.2.0-r23.apk',
  curl: 'v3.16-main-x86_64/curl-7.83.1-r1.apk',
  strace: 'v3.16-main-x86_64/strace-5.17-r0.apk',
} as const;
type PackageName = keyof typeof PACKAGES;

/** A real package cut at its gzip member boundaries, the control and data members inflated. */
interface ApkParts {
  bytes: Buffer;
  signature: Buffer;
  controlTar: Buffer;
  dataTar: Buffer;
}

const packages = new Map<PackageName, ApkParts>();
const alpineKeys = new Map<string, string>();
let testKey: ApkSigningKey;
let indexText: string;
let indexDescription: string;

beforeAll(() => {
  for (const [name, rel] of Object.entries(PACKAGES) as [PackageName, string][]) {
    const bytes = readFileSync(path.join(ALPINE_FIXTURES, rel));
    const [sig, control, data] = splitGzipMembers(bytes, rel);
    packages.set(name, {
      bytes,
      signature: bytes.subarray(sig!.start, sig!.end),
      controlTar: control!.data,
      dataTar: gunzipSync(bytes.subarray(data!.start)),
    });
  }
  const keysDir = path.join(ALPINE_FIXTURES, 'keys');
  for (const f of readdirSync(keysDir)) alpineKeys.set(f, readFileSync(path.join(keysDir, f), 'utf8'));
  testKey = makeApkSigningKey('layerpkg-fuzz.rsa.pub');
  // The real v3.16 index, cut to its first 60 records to keep each case quick.
  const real = readFileSync(path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz'));
  const members = splitGzipMembers(real, 'APKINDEX.tar.gz');
  const content = Buffer.concat(members.slice(1).map((m) => m.data));
  indexDescription = tarEntry(content, 'DESCRIPTION')!.toString('utf8');
  indexText = tarEntry(content, 'APKINDEX')!.toString('utf8').split('\n\n').slice(0, 60).join('\n\n') + '\n\n';
});

const report = fuzzTally('apk');

let caseNo = 0;
function writeCase(bytes: Buffer): string {
  return scratch.write(`case-${caseNo++}.apk`, bytes);
}

const packageName = fc.constantFrom<PackageName>('baselayout', 'curl', 'baselayout', 'strace');

describe('fuzz: Alpine readers', () => {
  it('gzip members (splitGzipMembers) fail only with UserErrors', async () => {
    const arb = fc.record({
      pkg: packageName,
      edit: fc.oneof(
        byteMutations.map((bytes) => ({ bytes })),
        fc.record({ member: fc.integer({ min: 0, max: 2 }), gzip: gzipMutation }),
      ),
    });
    report(
      await fuzzReader('gzip members', arb, async ({ pkg, edit }) => {
        const base = packages.get(pkg)!.bytes;
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(base, edit.bytes);
        else {
          const members = splitGzipMembers(base, 'fixture');
          const m = members[edit.member]!;
          bytes = applyGzipMutation(base, m.start, m.end, edit.gzip);
        }
        splitGzipMembers(bytes, 'fuzz.apk');
      }, { numRuns: 300, mustName: 'fuzz.apk' }),
    );
  });

  it('APKINDEX.tar.gz (real v3.16 index, Alpine keys) fails only with UserErrors', async () => {
    const real = readFileSync(path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz'));
    const arb = fc.oneof(
      { weight: 3, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
      { weight: 1, arbitrary: fc.record({ member: fc.integer({ min: 0, max: 1 }), gzip: gzipMutation }) },
    );
    const members = splitGzipMembers(real, 'fixture');
    report(
      await fuzzReader('APKINDEX (real, Alpine keys)', arb, async (edit) => {
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(real, edit.bytes);
        else {
          const m = members[edit.member]!;
          bytes = applyGzipMutation(real, m.start, m.end, edit.gzip);
        }
        verifyAndParseApkIndex(bytes, alpineKeys, 'https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/APKINDEX.tar.gz');
      }, { numRuns: 80, mustName: 'v3.16/main/x86_64/APKINDEX.tar.gz' }),
    );
  });

  it('APKINDEX behind a valid signature (readApkIndex: parser and package records) fails only with UserErrors', async () => {
    const arb = fc.oneof(
      { weight: 4, arbitrary: lineMutations.map((lines) => ({ lines })) },
      { weight: 2, arbitrary: tarMutations.map((tar) => ({ tar })) },
      { weight: 1, arbitrary: byteMutations.map((compressed) => ({ compressed })) },
      { weight: 1, arbitrary: gzipMutation.map((gzip) => ({ gzip })) },
      { weight: 1, arbitrary: byteMutations.map((signatureTar) => ({ signatureTar })) },
    );
    const repo: RepositoryConfig = {
      name: 'fuzz',
      type: 'apk',
      url: 'http://mirror.invalid/alpine/v3.16/main',
      options: { keys: 'keys', trusted: { [testKey.keyName]: testKey.publicKeyPem } },
      baseDir: scratch.dir,
    };
    report(
      await fuzzReader('APKINDEX (test-signed, readApkIndex)', arb, async (edit) => {
        const text = 'lines' in edit ? applyLineMutations(indexText, edit.lines, ':') : indexText;
        let tar = indexTar(indexDescription, text);
        if ('tar' in edit) tar = applyTarMutations(tar, edit.tar);
        let index: Buffer = gzipSync(tar);
        if ('compressed' in edit) index = applyByteMutations(index, edit.compressed);
        if ('gzip' in edit) index = applyGzipMutation(index, 0, index.length, edit.gzip);
        let signatureTar: Buffer = buildSignatureTar(testKey.keyName, sign('sha1', index, testKey.privateKeyPem), 0);
        if ('signatureTar' in edit) signatureTar = applyByteMutations(signatureTar, edit.signatureTar);
        const bytes = Buffer.concat([gzipSync(signatureTar), index]);
        const ctx: IndexContext = { arch: 'x86_64', fetchBytes: async () => bytes, fetchIfExists: async () => undefined };
        await readApkIndex(repo, ctx);
      }, { numRuns: 300, mustName: 'mirror.invalid' }),
    );
  });

  it('.apk head and signature (readApkHead, verifyApkFile) fail only with UserErrors', async () => {
    const arb = fc.record({
      pkg: packageName,
      edit: fc.oneof(
        { weight: 3, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
        { weight: 1, arbitrary: fc.record({ member: fc.integer({ min: 0, max: 2 }), gzip: gzipMutation }) },
        { weight: 2, arbitrary: fc.record({ member: fc.constantFrom('signature' as const, 'control' as const), tar: tarMutations }) },
      ),
    });
    report(
      await fuzzReader('.apk head (readApkHead + verifyApkFile)', arb, async ({ pkg, edit }) => {
        const parts = packages.get(pkg)!;
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(parts.bytes, edit.bytes);
        else if ('gzip' in edit) {
          const m = splitGzipMembers(parts.bytes, 'fixture')[edit.member]!;
          bytes = applyGzipMutation(parts.bytes, m.start, m.end, edit.gzip);
        } else {
          const [sig, control, data] = splitGzipMembers(parts.bytes, 'fixture');
          const signature = edit.member === 'signature' ? gzipSync(applyTarMutations(sig!.data, edit.tar)) : parts.bytes.subarray(sig!.start, sig!.end);
          const controlMember = edit.member === 'control' ? gzipSync(applyTarMutations(control!.data, edit.tar)) : parts.bytes.subarray(control!.start, control!.end);
          bytes = Buffer.concat([signature, controlMember, parts.bytes.subarray(data!.start)]);
        }
        const file = writeCase(bytes);
        const head = await readApkHead(file, 'fuzz.apk');
        await verifyApkFile(file, { checksum: head.checksum, size: bytes.length }, alpineKeys, 'fuzz.apk');
      }, { numRuns: 250, mustName: 'fuzz.apk' }),
    );
  });

  it('unpackApk (damaged files; damaged data tars and .PKGINFO with a matching datahash) fails only with UserErrors', async () => {
    const arb = fc.record({
      // strace's 1.5 MiB data tar would take most of the run: it is in the head test above.
      pkg: fc.constantFrom<PackageName>('baselayout', 'curl'),
      edit: fc.oneof(
        { weight: 1, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
        { weight: 4, arbitrary: tarMutations.map((dataTar) => ({ dataTar })) },
        { weight: 1, arbitrary: byteMutations.map((dataMember) => ({ dataMember })) },
        { weight: 2, arbitrary: lineMutations.map((pkginfo) => ({ pkginfo })) },
        { weight: 1, arbitrary: tarMutations.map((controlTar) => ({ controlTar })) },
      ),
    });
    report(
      await fuzzReader('unpackApk', arb, async ({ pkg, edit }) => {
        const parts = packages.get(pkg)!;
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(parts.bytes, edit.bytes);
        else {
          let data: Buffer = gzipSync('dataTar' in edit ? applyTarMutations(parts.dataTar, edit.dataTar) : parts.dataTar);
          if ('dataMember' in edit) data = applyByteMutations(data, edit.dataMember);
          const datahash = createHash('sha256').update(data).digest('hex');
          let pkginfo = tarEntry(parts.controlTar, '.PKGINFO')!.toString('utf8').replace(/^datahash = .*$/m, `datahash = ${datahash}`);
          if ('pkginfo' in edit) pkginfo = applyLineMutations(pkginfo, edit.pkginfo, ' = ');
          let controlTar = replaceTarEntry(parts.controlTar, '.PKGINFO', Buffer.from(pkginfo, 'utf8'));
          if ('controlTar' in edit) controlTar = applyTarMutations(controlTar, edit.controlTar);
          bytes = Buffer.concat([parts.signature, gzipSync(controlTar), data]);
        }
        await consumeUnpack(unpackApk(writeCase(bytes), 'fuzz.apk'));
      }, { numRuns: 400, mustName: 'fuzz.apk' }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Small tar helpers for the fixtures' in-memory tars

function tarEntries(tar: Buffer): { name: string; at: number; size: number; end: number }[] {
  const out: { name: string; at: number; size: number; end: number }[] = [];
  let pos = 0;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const end = pos + 512 + Math.ceil(size / 512) * 512;
    out.push({ name, at: pos, size, end });
    pos = end;
  }
  return out;
}

function tarEntry(tar: Buffer, name: string): Buffer | undefined {
  const e = tarEntries(tar).find((x) => x.name === name);
  return e && tar.subarray(e.at + 512, e.at + 512 + e.size);
}

/** `tar` with entry `name`'s body replaced (size and checksum fixed); anything after the last entry is kept. */
function replaceTarEntry(tar: Buffer, name: string, body: Buffer): Buffer {
  const entries = tarEntries(tar);
  const e = entries.find((x) => x.name === name)!;
  const header = Buffer.from(tar.subarray(e.at, e.at + 512));
  header.fill(0, 124, 136);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([tar.subarray(0, e.at), header, padded, tar.subarray(e.end)]);
}

/** The index tar `apk index` writes: DESCRIPTION, APKINDEX, end blocks. */
function indexTar(description: string, text: string): Buffer {
  const entry = (name: string, body: Buffer): Buffer => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'latin1');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('14336772746\0', 136, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar  \0', 257, 'latin1');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
    body.copy(padded);
    return Buffer.concat([h, padded]);
  };
  return Buffer.concat([entry('DESCRIPTION', Buffer.from(description)), entry('APKINDEX', Buffer.from(text)), Buffer.alloc(1024)]);
}
