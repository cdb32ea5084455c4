/**
 * Issue 15, must-show 8 (Arch): a bounded, seeded fuzz run of the sync database reader
 * (parsePacmanDb and the package records readPacmanIndex makes of it) and unpackPacman, over
 * mutations of real files: the official databases and packages in ../shared/fixtures/pacman (see
 * its PROVENANCE.md) and a package built here by the real makepkg (backup file, hard link,
 * symlink, .INSTALL). Databases and packages are damaged as bytes, and as tars (header fields
 * with the checksum made right again, desc/%FIELD% and .PKGINFO lines) recompressed with every
 * compression the readers accept.
 * Property: success or a UserError with a message — no other exception, no hang, bounded RSS.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacmanPackageRecord } from '../adapters/pacman/packageRecord.js';
import { parsePacmanDb } from '../adapters/pacman/syncDb.js';
import { unpackPacman } from '../adapters/pacman/unpackPkg.js';
import { readPacmanKeyring, verifyDetachedSignature } from '../adapters/pacman/verifySignature.js';
import { compress, type Compression } from './helpers/compress.js';
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
  resizedEntry,
  gzipMutation,
  lineMutations,
  scratchDir,
  tarMutations,
} from './helpers/fuzz.js';
import { makepkg } from './helpers/pacmanRepo.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';

const scratch = scratchDir('layerpkg-fuzz-pacman-');
afterAll(() => scratch.remove());

const PACMAN = path.join(SHARED_FIXTURES, 'pacman');
const DATABASES = ['official-db/archweb/core.db.tar.gz', 'paru-testrepo/repo.db.tar.gz', 'official-db/alpm.rs/core.db', 'thirdparty-repo-archimedeos/archimedeos.db.tar.gz'];
const LARGE_DB = 'official-db/alpm.rs/core.db';
const AOS = path.join(PACMAN, 'thirdparty-repo-archimedeos');
const PACKAGES = [
  'paru-testrepo/polybar-1.0.0-1-x86_64.pkg.tar.zst',
  'thirdparty-repo-archimedeos/aos-forge-1.0-1-any.pkg.tar.zst',
  'official-pkg-metadata-only/pacman-5.1.3-1-x86_64.pkg.tar.xz',
];

const PKGBUILD = `pkgname=fuzz-base
pkgver=1.0
pkgrel=1
arch=(any)
license=(MIT)
backup=(etc/fuzz.conf etc/fuzz-hard.conf)
install=fuzz.install
package() {
  install -Dm644 /dev/stdin "$pkgdir/etc/fuzz.conf" <<<"key = value"
  ln "$pkgdir/etc/fuzz.conf" "$pkgdir/etc/fuzz-hard.conf"
  install -Dm755 /dev/stdin "$pkgdir/usr/bin/fuzz" <<<"#!/bin/sh"
  ln -s fuzz "$pkgdir/usr/bin/fuzz-link"
  install -Dm644 /dev/stdin "$pkgdir/usr/lib/sysusers.d/fuzz.conf" <<<"u fuzz - - /"
  install -Dm644 /dev/stdin "$pkgdir/usr/share/fuzz/data" <<<"$(seq 1 200)"
}
`;

const COMPRESSIONS: Compression[] = ['zst', 'xz', 'gz', 'none'];


function decompress(bytes: Buffer): Buffer {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipSync(bytes);
  const tool = bytes[0] === 0x28 ? 'zstd' : 'xz';
  const r = spawnSync(tool, ['-d', '-c', '-q'], { input: bytes, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${tool} -d failed`);
  return r.stdout;
}

/** Real files, and their tars. */
const dbs = new Map<string, { bytes: Buffer; tar: Buffer }>();
const pkgs = new Map<string, { bytes: Buffer; tar: Buffer }>();

beforeAll(async () => {
  for (const rel of DATABASES) {
    const bytes = readFileSync(path.join(PACMAN, rel));
    dbs.set(rel, { bytes, tar: decompress(bytes) });
  }
  const built = await makepkg(path.join(scratch.dir, 'built'), PKGBUILD, { 'fuzz.install': 'post_install() {\n  echo hi\n}\n' });
  for (const file of [...PACKAGES.map((p) => path.join(PACMAN, p)), ...built]) {
    const bytes = readFileSync(file);
    pkgs.set(path.basename(file), { bytes, tar: decompress(bytes) });
  }
}, 180_000);

/** compress(), with the kind first as these cases read. */
const compressAs = (kind: Compression, tar: Buffer): Buffer => compress(tar, kind);

const report = fuzzTally('pacman');

/** A file of the tar, by a predicate on its name, as [header offset, body offset, size]. */
function tarFiles(tar: Buffer): { name: string; at: number; size: number; end: number }[] {
  const out: { name: string; at: number; size: number; end: number }[] = [];
  let pos = 0;
  let paxHeader = false;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const name = h.toString('latin1', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const end = pos + 512 + Math.ceil(size / 512) * 512;
    const type = String.fromCharCode(h[156]!);
    if ((type === '0' || type === '\0') && !paxHeader) out.push({ name, at: pos, size, end });
    paxHeader = false;
    pos = end;
  }
  return out;
}

/**
 * `tar` with the text of its `which`-th field file (desc, .PKGINFO…) edited by `edit`; size and
 * checksum fixed, and any PAX size record of the entry left as is (bsdtar writes none for these).
 */
function editTextFile(tar: Buffer, match: (name: string) => boolean, which: number, edit: (text: string) => string): Buffer {
  const files = tarFiles(tar).filter((f) => match(f.name));
  if (files.length === 0) return tar;
  const f = files[which % files.length]!;
  const body = Buffer.from(edit(tar.subarray(f.at + 512, f.at + 512 + f.size).toString('utf8')), 'utf8');
  return Buffer.concat([tar.subarray(0, f.at), resizedEntry(tar.subarray(f.at, f.at + 512), body), tar.subarray(f.end)]);
}

let caseNo = 0;

describe('fuzz: pacman readers', () => {
  it('sync databases (parsePacmanDb + package records) fail only with UserErrors', async () => {
    const arb = fc.record({
      db: fc.constantFrom(...DATABASES, DATABASES[0]!, DATABASES[1]!, DATABASES[3]!),
      kind: fc.constantFrom(...COMPRESSIONS),
      edit: fc.oneof(
        { weight: 2, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
        { weight: 1, arbitrary: gzipMutation.map((gzip) => ({ gzip })) },
        { weight: 3, arbitrary: tarMutations.map((tar) => ({ tar })) },
        { weight: 4, arbitrary: fc.record({ which: fc.nat(), lines: lineMutations }) },
      ),
    });
    report(
      await fuzzReader('pacman sync db', arb, async ({ db, kind, edit }) => {
        // alpm.rs's core.db is a 512 KiB tar: damaged as bytes only, recompressing it would cost most of the run.
        const base = dbs.get(db === LARGE_DB && !('bytes' in edit) ? DATABASES[0]! : db)!;
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(base.bytes, edit.bytes);
        else if ('gzip' in edit) bytes = applyGzipMutation(base.bytes, 0, base.bytes.length, edit.gzip);
        else if ('tar' in edit) bytes = compressAs(kind, applyTarMutations(base.tar, edit.tar));
        else bytes = compressAs(kind, editTextFile(base.tar, (n) => /(^|\/)(desc|depends|files)$/.test(n), edit.which, (t) => applyLineMutations(t, edit.lines, '%')));
        for (const entry of await parsePacmanDb(bytes, 'core.db')) pacmanPackageRecord(entry, 'core', 'http://mirror.invalid/core/os/x86_64', 'core.db');
      }, { numRuns: 200, mustName: 'core.db' }),
    );
  });

  it('unpackPacman (.pkg.tar.zst/.xz/.gz/.tar) fails only with UserErrors', async () => {
    const arb = fc.record({
      pkg: fc.constantFrom(...pkgs.keys()),
      kind: fc.constantFrom(...COMPRESSIONS),
      edit: fc.oneof(
        { weight: 2, arbitrary: byteMutations.map((bytes) => ({ bytes })) },
        { weight: 4, arbitrary: tarMutations.map((tar) => ({ tar })) },
        { weight: 2, arbitrary: lineMutations.map((pkginfo) => ({ pkginfo })) },
        { weight: 1, arbitrary: byteMutations.map((compressed) => ({ compressed })) },
      ),
    });
    report(
      await fuzzReader('unpackPacman', arb, async ({ pkg, kind, edit }) => {
        const base = pkgs.get(pkg)!;
        let bytes: Buffer;
        if ('bytes' in edit) bytes = applyByteMutations(base.bytes, edit.bytes);
        else if ('tar' in edit) bytes = compressAs(kind, applyTarMutations(base.tar, edit.tar));
        else if ('pkginfo' in edit) bytes = compressAs(kind, editTextFile(base.tar, (n) => n === '.PKGINFO', 0, (t) => applyLineMutations(t, edit.pkginfo, ' = ')));
        else bytes = applyByteMutations(compressAs(kind, base.tar), edit.compressed);
        const file = scratch.write(`case-${caseNo++}.pkg.tar`, bytes);
        await consumeUnpack(unpackPacman(file, 'fuzz.pkg.tar'));
      }, { numRuns: 250, mustName: 'fuzz.pkg.tar' }),
    );
  });

  it('detached signatures (verifyDetachedSignature, archimedeos keyring) fail only with UserErrors', async () => {
    // The keyring as the repository's keyring package ships it (the package is itself a fixture).
    let keyring: Buffer | undefined;
    const r = unpackPacman(path.join(AOS, 'archimedeos-keyring-20250612-3-any.pkg.tar.zst'), 'archimedeos-keyring');
    for await (const { entry, body } of r.entries) {
      const chunks: Buffer[] = [];
      if (body) for await (const c of body) chunks.push(c as Buffer);
      if (entry.path === 'usr/share/pacman/keyrings/archimedeos.gpg') keyring = Buffer.concat(chunks);
    }
    const keys = await readPacmanKeyring(scratch.write('archimedeos.gpg', keyring!));
    const db = readFileSync(path.join(AOS, 'archimedeos.db.tar.gz'));
    const sig = readFileSync(path.join(AOS, 'archimedeos.db.tar.gz.sig'));
    const arb = fc.oneof(
      { weight: 3, arbitrary: byteMutations.map((sigBytes) => ({ sigBytes })) },
      { weight: 1, arbitrary: byteMutations.map((dbBytes) => ({ dbBytes })) },
    );
    report(
      await fuzzReader('pacman detached .sig', arb, async (edit) => {
        const data = 'dbBytes' in edit ? applyByteMutations(db, edit.dbBytes) : db;
        const signature = 'sigBytes' in edit ? applyByteMutations(sig, edit.sigBytes) : sig;
        await verifyDetachedSignature(data, signature, keys, 'archimedeos.db');
      }, { numRuns: 150, mustName: 'archimedeos.db' }),
    );
  });
});
