/**
 * OpenPGP detached signatures as pacman uses them: `<file>.sig` beside each package and
 * repository database, made by `gpg --detach-sign` (binary signature packets).
 *
 * As libalpm decides it: every signature packet in the .sig must verify (one bad signature
 * refuses the file however many good ones it carries), a signing key unknown to the keyring is
 * a refusal, and a key that expired after signing is still good (openpgp checks the key's
 * validity at the signature's creation time). Which keys of a keyring are trusted
 * (pacman's <keyring>-trusted / -revoked lists and the web of trust) is the caller's choice:
 * every key passed in `keys` is trusted here.
 *
 * A file is streamed through the verifier (openpgp hashes a Web ReadableStream as it is read),
 * so memory does not grow with the package size.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createMessage, enums, readSignature, verify, type Key, type Signature } from 'openpgp';
import { errorMessage, UserError } from '../../src/errors.js';
import { readKeyring } from '../openpgpKeyring.js';

/** The keys of the OpenPGP keyring file at `file` (binary or armored). */
export async function readPacmanKeyring(file: string): Promise<Key[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new UserError(`cannot read the keyring ${file} (${errorMessage(e)}): check the repository's keyring setting`);
  }
  return readKeyring(bytes, `the keyring ${file}`);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The keyring key a signature packet names: by its issuer fingerprint when it has one (exact), else its key ID. */
function ownerOf(packet: Signature['packets'][number], keys: Key[]): Key | undefined {
  const fpr = (packet as { issuerFingerprint?: Uint8Array | null }).issuerFingerprint;
  if (fpr) {
    const wanted = hex(fpr);
    return keys.find((k) => k.getKeys().some((sub) => sub.getFingerprint() === wanted));
  }
  return keys.find((k) => k.getKeys(packet.issuerKeyID).length > 0);
}

async function parseSignature(signature: Uint8Array, label: string): Promise<Signature> {
  if (signature.length === 0) {
    throw new UserError(`${label}: its signature file is empty: the repository must publish a detached .sig for it; fetch it again`);
  }
  try {
    const armored = Buffer.from(signature.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP SIGNATURE');
    return armored
      ? await readSignature({ armoredSignature: Buffer.from(signature).toString('utf8') })
      : await readSignature({ binarySignature: signature });
  } catch (e) {
    throw new UserError(`${label}: its .sig is not an OpenPGP signature (${errorMessage(e)}): fetch it again, and check the repository URL`);
  }
}

/** Read an openpgp Web stream to its end (its async iterator is not usable on a cloned stream). */
async function drain(stream: { getReader(): { read(): Promise<{ done: boolean }> } }): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
}

/**
 * Verify `signature` (a detached .sig, binary or armored) over `data` (a file path, streamed,
 * or the bytes) with `keys`. Returns the fingerprint (lowercase hex) of the primary key that
 * made the first signature. Every failure is one UserError naming `label`.
 */
export async function verifyDetachedSignature(
  data: string | Uint8Array,
  signature: Uint8Array,
  keys: Key[],
  label: string,
  keyringSource = 'the keyring',
): Promise<string> {
  const sig = await parseSignature(signature, label);
  const packets = [...sig.packets.filterByTag(enums.packet.signature)];
  if (packets.length === 0) {
    throw new UserError(`${label}: its .sig holds no signature: the repository must publish a detached signature for it; fetch it again`);
  }

  const owners: Key[] = [];
  const unknown: string[] = [];
  for (const packet of packets) {
    const owner = ownerOf(packet, keys);
    if (owner) {
      if (!owners.includes(owner)) owners.push(owner);
      continue;
    }
    const fpr = (packet as { issuerFingerprint?: Uint8Array | null }).issuerFingerprint;
    unknown.push(`key ID ${packet.issuerKeyID.toHex().toUpperCase()}${fpr ? ` (fingerprint ${hex(fpr).toUpperCase()})` : ''}`);
  }
  if (unknown.length > 0) {
    throw new UserError(
      `${label} is signed by ${unknown.join(', ')}, which is not in ${keyringSource}: ` +
        "if you trust that key, add it to the repository's keyring; otherwise check the repository URL",
    );
  }

  let failures: string[];
  let signers: string[];
  try {
    const message =
      typeof data === 'string'
        ? await createMessage({ binary: Readable.toWeb(createReadStream(data)) as ReadableStream<Uint8Array> })
        : await createMessage({ binary: data });
    const result = await verify({ message, signature: sig, verificationKeys: owners, format: 'binary', expectSigned: false });
    // A streamed message is hashed as it is read: read it all before asking for the verdicts.
    if (typeof data === 'string') await drain(result.data as unknown as ReadableStream<Uint8Array>);
    failures = [];
    signers = [];
    for (const r of result.signatures) {
      try {
        await r.verified;
        const owner = owners.find((k) => k.getKeys(r.keyID).length > 0)!;
        signers.push(owner.getFingerprint().toLowerCase());
      } catch (e) {
        failures.push(`key ${r.keyID.toHex().toUpperCase()}: ${errorMessage(e)}`);
      }
    }
  } catch (e) {
    if (typeof data === 'string' && typeof (e as { code?: unknown }).code === 'string') {
      throw new UserError(`${label}: cannot read ${data} to check its signature (${errorMessage(e)}): download it again`);
    }
    throw new UserError(`${label}: its signature could not be checked (${errorMessage(e)}): fetch it and its .sig again`);
  }

  if (failures.length > 0) {
    // openpgp's wording for content that does not match, as opposed to a key or algorithm it refuses.
    const tampered = failures.some((f) => /Signed digest did not match|Signature verification failed/.test(f));
    throw new UserError(
      tampered
        ? `${label}: its signature does not match its content (${failures.join('; ')}): the file was altered or corrupted ` +
            'on the way; download it again, and if this persists use another mirror — do not trust this one'
        : `${label}: its signature cannot be accepted (${failures.join('; ')}): the signing key was expired or revoked when ` +
            `it signed, or the signature uses an algorithm too weak to trust; update ${keyringSource}, or ask the repository to re-sign`,
    );
  }
  return signers[0]!;
}
