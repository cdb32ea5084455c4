import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMessage, generateKey, readPrivateKey, sign, type Key } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackPacman } from '../adapters/pacman/unpackPkg.js';
import { readKeyring } from '../adapters/openpgpKeyring.js';
import { readPacmanKeyring, verifyDetachedSignature } from '../adapters/pacman/verifySignature.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';
import { userErrorOf } from './helpers/userError.js';

const AOS = path.join(SHARED_FIXTURES, 'pacman/thirdparty-repo-archimedeos');
const KEYRING_PKG = path.join(AOS, 'archimedeos-keyring-20250612-3-any.pkg.tar.zst');
const SIGNED = [
  'aos-forge-1.0-1-any.pkg.tar.zst',
  'aos-update-1.0-3-any.pkg.tar.zst',
  'arch-shell-1.0-2-any.pkg.tar.zst',
  'archimedeos-keyring-20250612-3-any.pkg.tar.zst',
  'archimedeos.db.tar.gz',
  'archimedeos.files.tar.gz',
];
const FINGERPRINT = '6c250ce3fe1635d3a3346bdd7f068ac1f1e5b246';
const FORGE = path.join(AOS, 'aos-forge-1.0-1-any.pkg.tar.zst');

const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-pacman-sig-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The keyring file as the keyring package ships it, taken out with our own reader. */
async function keyringFromPackage(): Promise<Buffer> {
  const r = unpackPacman(KEYRING_PKG, 'archimedeos-keyring');
  let keyring: Buffer | undefined;
  for await (const { entry, body } of r.entries) {
    if (!body) continue;
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    if (entry.path === 'usr/share/pacman/keyrings/archimedeos.gpg') keyring = Buffer.concat(chunks);
  }
  await r.metadata;
  return keyring!;
}

/** A detached binary signature of `data` by a fresh key (not in the archimedeos keyring). */
async function foreignSignature(data: Uint8Array, opts: { date?: Date; keyExpirationTime?: number } = {}) {
  const { privateKey, publicKey } = await generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Stranger', email: 'stranger@example.org' }],
    format: 'object',
    ...(opts.date ? { date: opts.date } : {}),
    ...(opts.keyExpirationTime ? { keyExpirationTime: opts.keyExpirationTime } : {}),
  });
  const signature = await sign({
    message: await createMessage({ binary: data }),
    signingKeys: await readPrivateKey({ armoredKey: privateKey.armor() }),
    detached: true,
    format: 'binary',
    ...(opts.date ? { date: new Date(opts.date.getTime() + 3600_000) } : {}),
  });
  return { signature: Buffer.from(signature as Uint8Array), publicKey, keyID: publicKey.getKeyID().toHex().toUpperCase() };
}

let keyringFile: string;
let keys: Key[];
beforeAll(async () => {
  keyringFile = path.join(work, 'archimedeos.gpg');
  writeFileSync(keyringFile, await keyringFromPackage());
  keys = await readPacmanKeyring(keyringFile);
});

describe('readPacmanKeyring', () => {
  it('reads the armored keyring the keyring package ships, and its binary form', async () => {
    expect(readFileSync(keyringFile, 'latin1')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(keys.map((k) => k.getFingerprint())).toEqual([FINGERPRINT]);
    const binary = path.join(work, 'binary.gpg');
    writeFileSync(binary, Buffer.concat([keys[0]!.write(), (await foreignSignature(new Uint8Array(1))).publicKey.write()]));
    expect((await readPacmanKeyring(binary)).map((k) => k.getFingerprint())[0]).toBe(FINGERPRINT);
    expect(await readPacmanKeyring(binary)).toHaveLength(2);
  });

  it('refuses an empty file, a keybox, garbage and a missing file, naming it', async () => {
    expect((await userErrorOf(readKeyring(new Uint8Array(0), 'k.gpg'))).message).toMatch(/^k\.gpg is empty/);
    const kbx = Buffer.alloc(64);
    kbx.write('KBXf', 8, 'latin1');
    expect((await userErrorOf(readKeyring(kbx, 'k.kbx'))).message).toMatch(/^k\.kbx is a GnuPG keybox/);
    expect((await userErrorOf(readKeyring(Buffer.from('hello world'), 'k.gpg'))).message).toMatch(/^k\.gpg is not a readable OpenPGP public keyring/);
    expect((await userErrorOf(readPacmanKeyring(path.join(work, 'absent.gpg')))).message).toMatch(/cannot read the keyring .*absent\.gpg/);
  });
});

describe('verifyDetachedSignature', () => {
  it.each(SIGNED)('%s verifies with the keyring from the keyring package (streamed from the file and from bytes)', async (name) => {
    const file = path.join(AOS, name);
    const sig = readFileSync(`${file}.sig`);
    expect(await verifyDetachedSignature(file, sig, keys, name)).toBe(FINGERPRINT);
    expect(await verifyDetachedSignature(readFileSync(file), sig, keys, name)).toBe(FINGERPRINT);
  });

  it('refuses a package with one flipped byte, naming it', async () => {
    const bytes = readFileSync(FORGE);
    const mid = bytes.length >> 1;
    bytes[mid] = bytes[mid]! ^ 0x01;
    const tampered = path.join(work, 'aos-forge-1.0-1-any.pkg.tar.zst');
    writeFileSync(tampered, bytes);
    const sig = readFileSync(`${FORGE}.sig`);
    for (const data of [tampered, bytes]) {
      const e = await userErrorOf(verifyDetachedSignature(data, sig, keys, 'aos-forge 1.0-1 (https://mirror/aos-forge.pkg.tar.zst)'));
      expect(e.message).toMatch(/^aos-forge 1\.0-1 \(https:\/\/mirror\/aos-forge\.pkg\.tar\.zst\): its signature does not match its content/);
    }
    // The signature of another file does not fit either.
    const other = readFileSync(path.join(AOS, 'archimedeos.db.tar.gz.sig'));
    expect((await userErrorOf(verifyDetachedSignature(FORGE, other, keys, 'aos-forge'))).message).toMatch(/does not match its content/);
  });

  it('refuses a signature by a key not in the keyring, naming the key ID and saying to add it', async () => {
    const { signature, keyID, publicKey } = await foreignSignature(readFileSync(FORGE));
    const e = await userErrorOf(verifyDetachedSignature(FORGE, signature, keys, 'aos-forge 1.0-1'));
    expect(e.message).toContain('aos-forge 1.0-1 is signed by key ID ' + keyID);
    expect(e.message).toContain(publicKey.getFingerprint().toUpperCase());
    expect(e.message).toMatch(/which is not in the keyring: if you trust that key, add it to the repository's keyring/);
    // With that key in the keyring, it verifies.
    expect(await verifyDetachedSignature(FORGE, signature, [...keys, publicKey], 'aos-forge')).toBe(publicKey.getFingerprint());
  });

  it('requires every signature of the .sig to verify, as libalpm does', async () => {
    const good = readFileSync(`${FORGE}.sig`);
    const foreign = await foreignSignature(readFileSync(FORGE));
    // A good signature plus one by an unknown key.
    expect((await userErrorOf(verifyDetachedSignature(FORGE, Buffer.concat([good, foreign.signature]), keys, 'aos-forge'))).message).toMatch(
      /is signed by key ID .*which is not in the keyring/,
    );
    // A good signature plus one by a known key over other content.
    const elsewhere = await foreignSignature(Buffer.from('other content'));
    const both = Buffer.concat([good, elsewhere.signature]);
    expect((await userErrorOf(verifyDetachedSignature(FORGE, both, [...keys, elsewhere.publicKey], 'aos-forge'))).message).toMatch(
      /does not match its content/,
    );
    // Two good signatures: the first signer is returned.
    const second = Buffer.concat([good, foreign.signature]);
    expect(await verifyDetachedSignature(FORGE, second, [...keys, foreign.publicKey], 'aos-forge')).toBe(FINGERPRINT);
  });

  it('accepts a signature made before its key expired (libalpm judges an expired key on trust alone)', async () => {
    const data = readFileSync(FORGE);
    const { signature, publicKey } = await foreignSignature(data, { date: new Date('2020-01-01T00:00:00Z'), keyExpirationTime: 86400 });
    expect(publicKey.getExpirationTime()).not.toBe(Infinity);
    expect(await verifyDetachedSignature(FORGE, signature, [publicKey], 'aos-forge')).toBe(publicKey.getFingerprint());
  });

  it('reads an armored .sig too', async () => {
    const { signature, publicKey } = await foreignSignature(readFileSync(FORGE));
    const { armor, enums } = await import('openpgp');
    const armored = Buffer.from(armor(enums.armor.signature, signature));
    expect(await verifyDetachedSignature(FORGE, armored, [publicKey], 'aos-forge')).toBe(publicKey.getFingerprint());
  });

  it('refuses an empty or unreadable .sig and an unreadable file, naming the label', async () => {
    const sig = readFileSync(`${FORGE}.sig`);
    expect((await userErrorOf(verifyDetachedSignature(FORGE, Buffer.alloc(0), keys, 'aos-forge'))).message).toMatch(/^aos-forge: its signature file is empty/);
    expect((await userErrorOf(verifyDetachedSignature(FORGE, Buffer.from('<html>404</html>'), keys, 'aos-forge'))).message).toMatch(
      /^aos-forge: its \.sig is not an OpenPGP signature/,
    );
    // A key block is not a signature.
    expect((await userErrorOf(verifyDetachedSignature(FORGE, Buffer.from(keys[0]!.write()), keys, 'aos-forge'))).message).toMatch(/^aos-forge: its \.sig/);
    expect((await userErrorOf(verifyDetachedSignature(path.join(work, 'absent.pkg'), sig, keys, 'absent'))).message).toMatch(/^absent: cannot read/);
  });
});
