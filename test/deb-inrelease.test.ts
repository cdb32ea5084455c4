import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCleartextMessage, generateKey, readPrivateKey, sign } from 'openpgp';
import { describe, expect, it } from 'vitest';
import { readKeyring } from '../adapters/openpgpKeyring.js';
import { parseReleaseDate, verifyInRelease } from '../adapters/deb/inRelease.js';
import { userErrorOf as rejection } from './helpers/userError.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const URL_ = 'http://deb.debian.org/debian/dists/bookworm/InRelease';
const INRELEASE = readFileSync(here('../fixtures/deb/bookworm-InRelease'), 'utf8');
const KEYRING = new Uint8Array(readFileSync(here('../keys/debian-archive-keyring.gpg')));

const BOOKWORM_ARCHIVE = 'b8b80b5b623eab6ad8775c45b7c5d7d6350947f8';
const TRIXIE_ARCHIVE = '04b54c3cdca79751b16bc6b5225629df75b188bd';
const BOOKWORM_RELEASE = '4d64fec119c2029067d6e791f8d2585b8783d481';


/** A binary keyring holding only the Debian keys whose primary fingerprint is listed. */
async function subsetKeyring(fingerprints: string[]): Promise<Uint8Array> {
  const keys = (await readKeyring(KEYRING)).filter((k) => fingerprints.includes(k.getFingerprint()));
  expect(keys).toHaveLength(fingerprints.length);
  return Buffer.concat(keys.map((k) => k.write()));
}

async function testKey(): Promise<{ privateKey: string; publicKey: string }> {
  return generateKey({ userIDs: [{ name: 'layerpkg test', email: 'test@example.invalid' }], format: 'armored' });
}

describe('verifyInRelease', () => {
  it('verifies the real bookworm InRelease against debian-archive-keyring', async () => {
    const r = await verifyInRelease(INRELEASE, KEYRING, URL_);
    expect(r.signer).toBe(BOOKWORM_ARCHIVE);
    expect(r.signers).toEqual([BOOKWORM_ARCHIVE, TRIXIE_ARCHIVE, BOOKWORM_RELEASE]);
    expect(r.fields.get('Codename')).toBe('bookworm');
    expect(r.fields.get('Version')).toBe('12.15');
    expect(r.date).toBe(Date.UTC(2026, 6, 11, 10, 16, 37) / 1000);
    const xz = r.sha256.find((e) => e.path === 'main/binary-amd64/Packages.xz');
    expect(xz).toEqual({
      path: 'main/binary-amd64/Packages.xz',
      sha256: '9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5',
      size: 8790396,
    });
    expect(xz!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.sha256.length).toBeGreaterThan(500);
    expect(r.sha256.every((e) => /^[0-9a-f]{64}$/.test(e.sha256) && Number.isInteger(e.size))).toBe(true);
  });

  it('accepts a keyring that holds only one of the signing keys', async () => {
    const r = await verifyInRelease(INRELEASE, await subsetKeyring([TRIXIE_ARCHIVE]), URL_);
    expect(r.signer).toBe(TRIXIE_ARCHIVE);
    expect(r.signers).toEqual([TRIXIE_ARCHIVE]);
  });

  it('rejects a tampered copy (one hash digit changed in the signed text)', async () => {
    const line = INRELEASE.split('\n').find((l) => l.endsWith(' main/binary-amd64/Packages.xz') && / [0-9a-f]{64} /.test(l))!;
    const digit = line[1] === '0' ? '1' : '0';
    const tampered = INRELEASE.replace(line, ` ${digit}${line.slice(2)}`);
    expect(tampered).not.toBe(INRELEASE);
    const err = await rejection(verifyInRelease(tampered, KEYRING, URL_));
    expect(err.message).toContain(URL_);
    expect(err.message).toMatch(/does not match the content/);
  });

  it('rejects a release signed only by keys outside the keyring, listing their key IDs', async () => {
    // The bullseye keys are in the keyring file but did not sign bookworm's InRelease.
    const bullseye = await subsetKeyring(['1f89983e0081fde018f3cc9673a4f27b8dd47936']);
    const err = await rejection(verifyInRelease(INRELEASE, bullseye, URL_, 'keys/bullseye.gpg'));
    expect(err.message).toContain(URL_);
    expect(err.message).toContain('keys/bullseye.gpg');
    expect(err.message).toContain('6ED0E7B82643E131');
    expect(err.message).toContain('F8D2585B8783D481');
    expect(err.message).toMatch(/"keyring"/);
  });

  it('rejects a cleartext signed by an unknown key, and accepts it with that key (armored keyring)', async () => {
    const { privateKey, publicKey } = await testKey();
    const message = await createCleartextMessage({ text: 'Origin: Test\nSuite: test\nSHA256:\n ' + 'a'.repeat(64) + ' 12 main/binary-amd64/Packages\n' });
    const armored = await sign({ message, signingKeys: await readPrivateKey({ armoredKey: privateKey }) });
    const url = 'http://example.invalid/dists/test/InRelease';

    const err = await rejection(verifyInRelease(armored, KEYRING, url));
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/not signed by any key/);

    const r = await verifyInRelease(armored, new TextEncoder().encode(publicKey), url, 'test.asc');
    expect(r.fields.get('Suite')).toBe('test');
    expect(r.date).toBeUndefined();
    expect(r.sha256).toEqual([{ path: 'main/binary-amd64/Packages', sha256: 'a'.repeat(64), size: 12 }]);
  });

  it('rejects plain unsigned text', async () => {
    const plain = 'Origin: Debian\nSuite: oldstable\n';
    const err = await rejection(verifyInRelease(plain, KEYRING, URL_));
    expect(err.message).toContain(URL_);
    expect(err.message).toMatch(/not a cleartext-signed/);
  });

  it('rejects text outside the signed block', async () => {
    const before = await rejection(verifyInRelease(`Origin: Evil\n\n${INRELEASE}`, KEYRING, URL_));
    expect(before.message).toContain(URL_);
    const after = await rejection(verifyInRelease(`${INRELEASE}\nOrigin: Evil\n`, KEYRING, URL_));
    expect(after.message).toMatch(/does not end with/);
  });

  it('rejects an HTML error page', async () => {
    const err = await rejection(verifyInRelease('<html><body>Captive portal</body></html>', KEYRING, URL_));
    expect(err.message).toContain(URL_);
  });
});

describe('readKeyring', () => {
  it('reads the binary Debian keyring', async () => {
    const keys = await readKeyring(KEYRING);
    expect(keys.map((k) => k.getFingerprint())).toContain(BOOKWORM_ARCHIVE);
  });

  it('reads an armored file with several key blocks', async () => {
    const a = await testKey();
    const b = await testKey();
    const keys = await readKeyring(new TextEncoder().encode(`${a.publicKey}\n${b.publicKey}`), 'two.asc');
    expect(keys).toHaveLength(2);
  });

  it('rejects garbage, naming the file', async () => {
    const err = await rejection(readKeyring(new TextEncoder().encode('not a key'), 'keys/bad.gpg'));
    expect(err.message).toContain('keys/bad.gpg');
    const empty = await rejection(readKeyring(new Uint8Array(), 'keys/empty.gpg'));
    expect(empty.message).toContain('keys/empty.gpg');
  });
});

describe('parseReleaseDate', () => {
  it('reads RFC 2822 dates with UTC or numeric zones', () => {
    expect(parseReleaseDate('Sat, 11 Jul 2026 10:16:37 UTC')).toBe(Date.UTC(2026, 6, 11, 10, 16, 37) / 1000);
    expect(parseReleaseDate('Sat, 11 Jul 2026 12:16:37 +0200')).toBe(Date.UTC(2026, 6, 11, 10, 16, 37) / 1000);
    expect(parseReleaseDate('yesterday')).toBeUndefined();
  });
});
