/**
 * Issue 15, must-show 8 (Debian): a bounded, seeded fuzz run of the ar reader, unpackDeb
 * (control.tar and data.tar, every compression), deb822 Packages indexes, readDebIndex behind a
 * hostile but validly signed repository, and InRelease (the real bookworm file with Debian's
 * keyring; a test-signed one whose signed text is mutated and re-signed; armor edits).
 * Property: success or a UserError with a message — no other exception, no hang, bounded RSS.
 * The fixtures are .debs built by the real dpkg-deb and fixtures/deb/bookworm-InRelease.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listArMembers } from '../adapters/deb/arReader.js';
import { parseDeb822 } from '../adapters/deb/deb822.js';
import { verifyInRelease } from '../adapters/deb/inRelease.js';
import { packageRecord } from '../adapters/deb/packageRecord.js';
import { readDebIndex } from '../adapters/deb/readIndex.js';
import { unpackDeb } from '../adapters/deb/unpack.js';
import type { IndexContext, RepositoryConfig } from '../adapters/types.js';
import { buildDeb, makeKey, writeAptRepo, type TestKey } from './helpers/aptRepo.js';
import { compress, type Compression } from './helpers/compress.js';
import {
  applyArMutation,
  applyByteMutations,
  applyGzipMutation,
  applyLineMutations,
  applyTarMutations,
  arMutation,
  byteMutations,
  consumeUnpack,
  FUZZ_SEED,
  fuzzReader,
  fuzzTally,
  resizedEntry,
  gzipMutation,
  lineMutations,
  readAr,
  scratchDir,
  tarMutations,
  writeAr,
} from './helpers/fuzz.js';

const scratch = scratchDir('layerpkg-fuzz-deb-');
afterAll(() => scratch.remove());

const COMPRESSIONS: Compression[] = ['xz', 'gz', 'zst', 'none'];


function memberName(base: 'control.tar' | 'data.tar', kind: Compression): string {
  return kind === 'none' ? base : `${base}.${kind}`;
}

/** The pieces of a real .deb, uncompressed, to put back together with any compression. */
interface DebParts {
  debianBinary: Buffer;
  controlTar: Buffer;
  dataTar: Buffer;
}

function assemble(parts: DebParts, kind: Compression, controlKind: Compression = kind): Buffer {
  return writeAr([
    { name: 'debian-binary', body: parts.debianBinary },
    { name: memberName('control.tar', controlKind), body: compressAs(controlKind, parts.controlTar) },
    { name: memberName('data.tar', kind), body: compressAs(kind, parts.dataTar) },
  ]);
}

let parts: DebParts;
/** The real dpkg-deb outputs, and the same package re-assembled with every compression. */
const debs = new Map<string, Buffer>();
let packagesText: string;
let testKey: TestKey;
let testKeyring: string;

beforeAll(async () => {
  const built = [
    buildDeb(scratch.dir, {
      name: 'fuzz-base',
      version: '1:2.3-4',
      fields: { Depends: 'libc6 (>= 2.36), dash | bash, awk:any', 'Pre-Depends': 'dpkg (>= 1.20)', Provides: 'fuzz-virtual (= 1)', Breaks: 'old (<< 2)' },
      files: {
        'etc/fuzz/fuzz.conf': { content: 'key = value\n' },
        'usr/bin/fuzz': { content: '#!/bin/sh\necho fuzz\n', mode: 0o755 },
        'usr/lib/x86_64-linux-gnu/libfuzz.so.1': { content: '\x7fELF not really\n' },
        'usr/share/doc/fuzz-base/copyright': { content: 'public domain\n'.repeat(40) },
        'bin/legacy': { content: 'merged-usr path\n', mode: 0o4755 },
      },
      symlinks: { 'usr/bin/fuzz-link': 'fuzz', 'usr/lib/x86_64-linux-gnu/libfuzz.so': 'libfuzz.so.1' },
      hardlinks: { 'usr/bin/fuzz-hard': 'usr/bin/fuzz' },
      conffiles: ['/etc/fuzz/fuzz.conf'],
      scripts: { postinst: '#!/bin/sh\nset -e\nadduser --system fuzz\n', preinst: '#!/bin/sh\nexit 0\n' },
    }),
    buildDeb(scratch.dir, { name: 'fuzz-small', version: '0.1', arch: 'all', files: { 'usr/share/fuzz-small/a': { content: 'a\n' } } }),
  ];
  for (const file of built) debs.set(path.basename(file), readFileSync(file));
  const members = readAr(debs.get(path.basename(built[0]!))!);
  parts = {
    debianBinary: members[0]!.body,
    controlTar: unxz(members.find((m) => m.name.startsWith('control.tar'))!.body),
    dataTar: unxz(members.find((m) => m.name.startsWith('data.tar'))!.body),
  };
  for (const kind of COMPRESSIONS) debs.set(`reassembled-${kind}.deb`, assemble(parts, kind));

  testKey = await makeKey('layerpkg fuzz archive');
  testKeyring = scratch.write('fuzz-keyring.gpg', Buffer.from(testKey.publicKeyBinary));
  const repoDir = path.join(scratch.dir, 'repo');
  await writeAptRepo(repoDir, 'fuzz', built, testKey);
  packagesText = readFileSync(path.join(repoDir, 'dists/fuzz/main/binary-amd64/Packages'), 'utf8');
}, 120_000);

function unxz(b: Buffer): Buffer {
  return spawnSync('xz', ['-d', '-c'], { input: b, maxBuffer: 1 << 28 }).stdout;
}

/** compress(), with the kind first as these cases read. */
const compressAs = (kind: Compression, tar: Buffer): Buffer => compress(tar, kind);

const report = fuzzTally('deb');

let caseNo = 0;
function writeCase(bytes: Buffer): string {
  return scratch.write(`case-${caseNo++}.deb`, bytes);
}

const debName = (): fc.Arbitrary<string> => fc.constantFrom(...debs.keys());

describe('fuzz: Debian readers', () => {
  it('ar (listArMembers) refuses damaged containers with a UserError', async () => {
    const arb = fc.record({
      deb: debName(),
      edit: fc.oneof(byteMutations.map((bytes) => ({ bytes })), fc.array(arMutation, { minLength: 1, maxLength: 2 }).map((ar) => ({ ar }))),
    });
    report(
      await fuzzReader('ar (listArMembers)', arb, async ({ deb, edit }) => {
        const base = debs.get(deb)!;
        const bytes = 'bytes' in edit ? applyByteMutations(base, edit.bytes) : edit.ar.reduce(applyArMutation, base);
        await listArMembers(writeCase(bytes), 'fuzz.deb');
      }, { numRuns: 250, mustName: 'fuzz.deb' }),
    );
  });

  it('unpackDeb (ar, control.tar, data.tar, xz/gz/zst/none) fails only with UserErrors', async () => {
    const arb = fc.oneof(
      // The whole file, byte-damaged: mostly stops in the decompressors' checks.
      { weight: 2, arbitrary: fc.record({ deb: debName(), bytes: byteMutations }).map((c) => ({ what: 'file bytes' as const, ...c })) },
      { weight: 1, arbitrary: fc.record({ deb: debName(), ar: fc.array(arMutation, { minLength: 1, maxLength: 2 }) }).map((c) => ({ what: 'ar fields' as const, ...c })) },
      // A damaged tar, compressed again: the damage reaches the tar reader and the entry checks.
      { weight: 4, arbitrary: fc.record({ member: fc.constantFrom('data' as const, 'control' as const), kind: fc.constantFrom(...COMPRESSIONS), tar: tarMutations }).map((c) => ({ what: 'tar' as const, ...c })) },
      { weight: 1, arbitrary: fc.record({ member: fc.constantFrom('data' as const, 'control' as const), gzip: gzipMutation }).map((c) => ({ what: 'gzip member' as const, ...c })) },
      { weight: 1, arbitrary: fc.record({ lines: lineMutations }).map((c) => ({ what: 'control fields' as const, ...c })) },
      { weight: 1, arbitrary: fc.record({ debianBinary: fc.constantFrom('2.0\n', '3.0\n', '2.9\n', '', '2.0', '\n', '2.0\nextra\n', '1.0\n', 'x') }).map((c) => ({ what: 'debian-binary' as const, ...c })) },
    );
    report(
      await fuzzReader('unpackDeb', arb, async (c) => {
        let bytes: Buffer;
        switch (c.what) {
          case 'file bytes':
            bytes = applyByteMutations(debs.get(c.deb)!, c.bytes);
            break;
          case 'ar fields':
            bytes = c.ar.reduce(applyArMutation, debs.get(c.deb)!);
            break;
          case 'tar':
            bytes =
              c.member === 'data'
                ? assemble({ ...parts, dataTar: applyTarMutations(parts.dataTar, c.tar) }, c.kind)
                : assemble({ ...parts, controlTar: applyTarMutations(parts.controlTar, c.tar) }, 'gz', c.kind);
            break;
          case 'gzip member': {
            const deb = assemble(parts, 'gz');
            const members = readAr(deb);
            const i = c.member === 'data' ? 2 : 1;
            members[i] = { name: members[i]!.name, body: applyGzipMutation(members[i]!.body, 0, members[i]!.body.length, c.gzip) };
            bytes = writeAr(members);
            break;
          }
          case 'control fields': {
            const control = controlTarWithControl(applyLineMutations(controlText(), c.lines, ': '));
            bytes = assemble({ ...parts, controlTar: control }, 'gz');
            break;
          }
          case 'debian-binary':
            bytes = assemble({ ...parts, debianBinary: Buffer.from(c.debianBinary) }, 'gz');
            break;
        }
        await consumeUnpack(unpackDeb(writeCase(bytes), 'fuzz.deb'));
      }, { numRuns: 300, mustName: 'fuzz.deb' }),
    );
  });

  it('deb822 Packages (parseDeb822 + packageRecord) fail only with UserErrors', async () => {
    const inReleaseText = readFileSync(path.join(FIXTURES, 'bookworm-InRelease'), 'utf8');
    const arb = fc.record({
      base: fc.constantFrom('packages', 'release'),
      edit: fc.oneof(
        { weight: 3, arbitrary: lineMutations.map((lines) => ({ lines })) },
        { weight: 1, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
      ),
    });
    report(
      await fuzzReader('deb822 (Packages)', arb, async ({ base, edit }) => {
        const text = base === 'packages' ? packagesText : inReleaseText.slice(0, 8000);
        const mutated = 'lines' in edit ? applyLineMutations(text, edit.lines, ': ') : applyByteMutations(Buffer.from(text), edit.bytes).toString('utf8');
        for (const p of parseDeb822(mutated, 'Packages')) packageRecord(p, 'fuzz', 'http://mirror.invalid/debian', 'Packages');
      }, { numRuns: 300, mustName: 'Packages' }),
    );
  });

  it('readDebIndex behind a validly signed hostile repository fails only with UserErrors', async () => {
    const arb = fc.record({
      variant: fc.constantFrom('.xz', '.gz', ''),
      edit: fc.oneof(
        { weight: 3, arbitrary: lineMutations.map((lines) => ({ lines })) },
        // Damage after compression: the signed InRelease pins the damaged bytes.
        { weight: 1, arbitrary: byteMutations.map((compressed) => ({ compressed })) },
        { weight: 1, arbitrary: lineMutations.map((release) => ({ release })) },
      ),
    });
    report(
      await fuzzReader('readDebIndex (signed hostile repo)', arb, async ({ variant, edit }) => {
        const text = 'lines' in edit ? applyLineMutations(packagesText, edit.lines, ': ') : packagesText;
        let file = variant === '.xz' ? compressAs('xz', Buffer.from(text)) : variant === '.gz' ? gzipSync(text) : Buffer.from(text);
        if ('compressed' in edit) file = applyByteMutations(file, edit.compressed);
        const listed = `main/binary-amd64/Packages${variant}`;
        let release = ['Origin: fuzz', 'Suite: fuzz', 'Codename: fuzz', 'Date: Sat, 11 Jul 2026 10:16:37 UTC', 'SHA256:', ` ${sha256(file)} ${file.length} ${listed}`, ''].join('\n');
        if ('release' in edit) release = applyLineMutations(release, edit.release, ': ');
        const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: release }), signingKeys: testKey.privateKey });
        const repo: RepositoryConfig = { name: 'fuzz', type: 'deb', url: 'http://mirror.invalid/debian', options: { suite: 'fuzz', components: ['main'], keyring: testKeyring }, baseDir: scratch.dir };
        const ctx: IndexContext = {
          arch: 'amd64',
          fetchBytes: async (url) => (url.endsWith('/InRelease') ? Buffer.from(signed) : file),
          fetchIfExists: async () => undefined,
        };
        await readDebIndex(repo, ctx);
      }, { numRuns: 150, mustName: 'mirror.invalid' }),
    );
  });

  it('InRelease (real bookworm file, Debian keyring) fails only with UserErrors', async () => {
    const armored = readFileSync(path.join(FIXTURES, 'bookworm-InRelease'));
    const keyring = readFileSync(path.resolve(import.meta.dirname, '../keys/debian-archive-keyring.gpg'));
    // Edits are biased to the armor and the signature block at the end, where the parser works.
    const tail = armored.length - 3000;
    const arb = fc.oneof(
      { weight: 2, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
      { weight: 2, arbitrary: byteMutations.map((tailBytes) => ({ tailBytes })) },
      { weight: 2, arbitrary: lineMutations.map((lines) => ({ lines })) },
    );
    report(
      await fuzzReader('InRelease (bookworm, Debian keyring)', arb, async (edit) => {
        let text: string;
        if ('bytes' in edit) text = applyByteMutations(armored, edit.bytes).toString('utf8');
        else if ('tailBytes' in edit) text = Buffer.concat([armored.subarray(0, tail), applyByteMutations(armored.subarray(tail), edit.tailBytes)]).toString('utf8');
        else text = applyLineMutations(armored.toString('utf8'), edit.lines.map((m) => ({ ...m, line: armored.toString('utf8').split('\n').length - 1 - (m.line % 60) })), ': ');
        await verifyInRelease(text, keyring, 'http://deb.debian.org/debian/dists/bookworm/InRelease');
      }, { numRuns: 60, mustName: 'dists/bookworm/InRelease' }),
    );
  });

  it('InRelease (test-signed, signed text and armor mutated) fails only with UserErrors', async () => {
    const keyring = testKey.publicKeyBinary;
    const release = [
      'Origin: fuzz',
      'Suite: fuzz',
      'Date: Sat, 11 Jul 2026 10:16:37 UTC',
      'Valid-Until: Sat, 18 Jul 2026 10:16:37 UTC',
      'SHA256:',
      ` ${'a'.repeat(64)}     1234 main/binary-amd64/Packages`,
      ` ${'b'.repeat(64)}      567 main/binary-amd64/Packages.xz`,
      '',
    ].join('\n');
    const good = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: release }), signingKeys: testKey.privateKey });
    const arb = fc.oneof(
      // The signed text damaged, then signed: the parser sees it.
      { weight: 3, arbitrary: lineMutations.map((text) => ({ text })) },
      { weight: 1, arbitrary: byteMutations.map((textBytes) => ({ textBytes })) },
      // The armor damaged after signing.
      { weight: 2, arbitrary: lineMutations.map((armor) => ({ armor })) },
      { weight: 2, arbitrary: byteMutations.map((armorBytes) => ({ armorBytes })) },
    );
    report(
      await fuzzReader('InRelease (test key)', arb, async (edit) => {
        let armored: string;
        if ('text' in edit || 'textBytes' in edit) {
          const text = 'text' in edit ? applyLineMutations(release, edit.text, ': ') : applyByteMutations(Buffer.from(release), edit.textBytes).toString('utf8');
          armored = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: testKey.privateKey });
        } else if ('armor' in edit) {
          armored = applyLineMutations(good, edit.armor, ': ');
        } else {
          armored = applyByteMutations(Buffer.from(good), edit.armorBytes).toString('utf8');
        }
        await verifyInRelease(armored, keyring, 'http://mirror.invalid/dists/fuzz/InRelease');
      }, { numRuns: 250, mustName: 'dists/fuzz/InRelease' }),
    );
  });
});

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/deb');

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The control file of the base package, from its control.tar. */
function controlText(): string {
  return tarFile(parts.controlTar, './control')!.toString('utf8');
}

function tarFile(tar: Buffer, name: string): Buffer | undefined {
  let pos = 0;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) return undefined;
    const n = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (n === name) return tar.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** The base control.tar with its control file replaced (a fresh ustar entry in its place). */
function controlTarWithControl(text: string): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  const tar = parts.controlTar;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const n = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const end = pos + 512 + Math.ceil(size / 512) * 512;
    if (n === './control') {
      out.push(resizedEntry(h, Buffer.from(text, 'utf8')));
    } else {
      out.push(tar.subarray(pos, end));
    }
    pos = end;
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
