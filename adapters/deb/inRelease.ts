/**
 * Verification of a Debian repository's InRelease file (a cleartext-signed Release file).
 *
 * Everything returned comes from the text the signature covers: openpgp hands back only the
 * signed text, and anything outside the armor is refused outright, as apt does.
 */
import { readCleartextMessage, verify } from 'openpgp';
import { errorMessage, UserError } from '../../src/errors.js';
import { readKeyring } from '../openpgpKeyring.js';
import { parseDeb822, type Paragraph } from './deb822.js';

export interface ReleaseFileEntry {
  path: string;
  sha256: string;
  size: number;
}

export interface ReleaseFile {
  /** The SHA256 section: index files relative to the dists/<suite>/ directory. */
  sha256: ReleaseFileEntry[];
  /** Seconds since the epoch of the Date: field. */
  date?: number;
  fields: Paragraph;
  /** Primary-key fingerprint (lowercase hex) of the first signature that verified. */
  signer: string;
  /** Primary-key fingerprints of every signature that verified, in signature order. */
  signers: string[];
}

const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';


/** Refuse text outside the armor: apt does, and it can only be an attacker's or a proxy's addition. */
function checkFraming(armored: string, url: string): void {
  const notSigned = (why: string): UserError =>
    new UserError(
      `${url} is not a cleartext-signed InRelease file (${why}): check the repository URL and suite, ` +
        'and that nothing between you and the mirror (proxy, captive portal) rewrites the response',
    );
  const lines = armored.split(/\r?\n/).map((l) => l.trimEnd());
  let first = 0;
  while (first < lines.length && lines[first] === '') first++;
  let last = lines.length - 1;
  while (last >= 0 && lines[last] === '') last--;
  if (lines[first] !== BEGIN_SIGNED) throw notSigned(`it does not start with "${BEGIN_SIGNED}"`);
  if (lines[last] !== END_SIGNATURE) throw notSigned(`it does not end with "${END_SIGNATURE}"`);
  const count = (marker: string): number => lines.filter((l) => l === marker).length;
  if (count(BEGIN_SIGNED) !== 1 || count(BEGIN_SIGNATURE) !== 1 || count(END_SIGNATURE) !== 1) {
    throw notSigned('it holds more than one signed message or signature block');
  }
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** RFC 2822 date as Release files write it ("Sat, 11 Jul 2026 10:16:37 UTC"); undefined if malformed. */
export function parseReleaseDate(value: string): number | undefined {
  const m = /^(?:[A-Za-z]{3},\s+)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(UTC|GMT|Z|[+-]\d{4})$/.exec(
    value.trim(),
  );
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  let ms = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const zone = m[7]!;
  if (zone.startsWith('+') || zone.startsWith('-')) {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function parseSha256(value: string | undefined, url: string): ReleaseFileEntry[] {
  if (value === undefined) {
    throw new UserError(
      `${url} has no SHA256 section: layerpkg only trusts SHA-256 index checksums; use a repository that publishes them`,
    );
  }
  const entries: ReleaseFileEntry[] = [];
  for (const line of value.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const parts = t.split(/\s+/);
    const [sha256, size, path] = parts;
    if (parts.length !== 3 || !/^[0-9a-f]{64}$/i.test(sha256!) || !/^\d+$/.test(size!)) {
      throw new UserError(`${url}: malformed SHA256 line ${JSON.stringify(t)} (expected "<sha256> <size> <path>"); the repository's Release file is broken`);
    }
    entries.push({ path: path!, sha256: sha256!.toLowerCase(), size: Number(size) });
  }
  return entries;
}

/**
 * Verify `armored` (an InRelease file fetched from `url`) against `keyring` (bytes of a .gpg/.asc file)
 * and parse its signed content. Succeeds when at least one signature verifies with a keyring key:
 * Debian signs with several keys (archive keys of consecutive releases, the release team's key),
 * and a keyring usually holds only some of them.
 */
export async function verifyInRelease(
  armored: string,
  keyring: Uint8Array,
  url: string,
  keyringSource = 'the keyring',
): Promise<ReleaseFile> {
  checkFraming(armored, url);
  const keys = await readKeyring(keyring, keyringSource);

  let text: string;
  let results: Awaited<ReturnType<typeof verify>>['signatures'];
  try {
    const message = await readCleartextMessage({ cleartextMessage: armored });
    // expectSigned is false so that we can report per signature why none verified.
    const verified = await verify({ message, verificationKeys: keys, expectSigned: false });
    text = verified.data;
    results = verified.signatures;
  } catch (e) {
    throw new UserError(
      `${url} is not a valid cleartext-signed InRelease file (${errorMessage(e)}): fetch it again, and check the repository URL`,
    );
  }
  if (results.length === 0) {
    throw new UserError(`${url} carries no signature: the repository must publish a signed InRelease file`);
  }

  const signers: string[] = [];
  const unknown: string[] = [];
  const failures: string[] = [];
  for (const result of results) {
    const keyID = result.keyID.toHex().toUpperCase();
    const packet = (await result.signature).packets[0];
    const fpr = packet?.issuerFingerprint ? Buffer.from(packet.issuerFingerprint).toString('hex') : undefined;
    // Prefer the issuer fingerprint (exact) over the 64-bit key ID to pick the signing key.
    const owner =
      (fpr !== undefined ? keys.find((k) => k.getKeys().some((sub) => sub.getFingerprint() === fpr)) : undefined) ??
      keys.find((k) => k.getKeys(result.keyID).length > 0);
    if (owner === undefined) {
      unknown.push(keyID);
      continue;
    }
    try {
      await result.verified;
      signers.push(owner.getFingerprint().toLowerCase());
    } catch (e) {
      failures.push(`key ${keyID}: ${errorMessage(e)}`);
    }
  }

  if (signers.length === 0) {
    if (failures.length === 0) {
      throw new UserError(
        `${url} is not signed by any key in ${keyringSource} (signed by key IDs ${unknown.join(', ')}): ` +
          `check the repository's "keyring" setting; it must hold the repository's archive signing key`,
      );
    }
    // openpgp's wording for a content/signature mismatch, as opposed to a key it refused to use.
    const tampered = failures.some((f) => /Signed digest did not match|Signature verification failed/.test(f));
    throw new UserError(
      tampered
        ? `${url}: the signature does not match the content (${failures.join('; ')}): the file was altered or corrupted ` +
            'on the way; fetch it again, and if this persists use another mirror — do not trust this one'
        : `${url}: no signature could be accepted (${failures.join('; ')}): the signing key is expired, revoked or ` +
            `too weak for the keyring's policy; update ${keyringSource} (e.g. a newer debian-archive-keyring)`,
    );
  }

  const paragraphs = parseDeb822(text, url);
  if (paragraphs.length !== 1) {
    throw new UserError(`${url}: the signed Release text holds ${paragraphs.length} paragraphs instead of 1; the repository's Release file is broken`);
  }
  const fields = paragraphs[0]!;
  const dateField = fields.get('Date');
  let date: number | undefined;
  if (dateField !== undefined) {
    date = parseReleaseDate(dateField);
    if (date === undefined) {
      throw new UserError(`${url}: unreadable Date field ${JSON.stringify(dateField)}; the repository's Release file is broken`);
    }
  }
  return { sha256: parseSha256(fields.get('SHA256'), url), date, fields, signer: signers[0]!, signers };
}
