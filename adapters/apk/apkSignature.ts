/**
 * apk v2 signatures: tar entries `.SIGN.<algorithm>.<key file name>` holding an RSA PKCS#1 v1.5
 * signature, made with the key of that file name in /etc/apk/keys. Shared by packages (which
 * sign their compressed control stream) and indexes (which sign the rest of the file).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { errorMessage, UserError } from '../../src/errors.js';
import type { TarFile } from './tarBlocks.js';

export interface ApkSignature {
  digest: 'sha1' | 'sha256' | 'sha512';
  /** The key's file name ("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"). */
  keyName: string;
  signature: Buffer;
}

export const SIGN_PREFIX = '.SIGN.';

// The algorithms apk-tools 2.x verifies with RSA keys (its DSA variant is unused by abuild).
const ALGORITHMS: [string, ApkSignature['digest']][] = [
  ['RSA512', 'sha512'],
  ['RSA256', 'sha256'],
  ['RSA', 'sha1'],
];

const DIGEST_NAMES: Record<ApkSignature['digest'], string> = {
  sha1: 'RSA/SHA-1',
  sha256: 'RSA/SHA-256',
  sha512: 'RSA/SHA-512',
};


/** The signature a `.SIGN.*` entry holds, or undefined for another entry or an unknown algorithm. */
export function signatureOf(file: TarFile): ApkSignature | undefined {
  if (!file.name.startsWith(SIGN_PREFIX)) return undefined;
  const rest = file.name.slice(SIGN_PREFIX.length);
  for (const [algorithm, digest] of ALGORITHMS) {
    const prefix = `${algorithm}.`;
    if (rest.startsWith(prefix) && rest.length > prefix.length) {
      return { digest, keyName: rest.slice(prefix.length), signature: file.data };
    }
  }
  return undefined;
}

/**
 * Verify `signed` with the first of `signatures` whose key is trusted (as apk-tools does: that
 * one decides, later ones are not tried). Returns the key's file name. `source` names the file
 * and `what` says what it is ("package", "index") in the errors. `signatures` must not be empty:
 * callers say themselves why a file without signatures is refused.
 */
export function verifyWithTrustedKey(
  signed: Buffer,
  signatures: ApkSignature[],
  keys: Map<string, string>,
  source: string,
  what: string,
): string {
  const sig = signatures.find((s) => keys.has(s.keyName));
  if (!sig) {
    const names = signatures.map((s) => `"${s.keyName}"`).join(', ');
    throw new UserError(
      `${source} is signed by ${names}, which is not among the trusted keys: ` +
        "add that public key file to the repository's keys directory (Alpine ships them in the alpine-keys package)",
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(keys.get(sig.keyName)!);
  } catch (e) {
    throw new UserError(
      `trusted key "${sig.keyName}" is not a readable PEM public key (${errorMessage(e)}): replace it with the repository's .rsa.pub file`,
    );
  }
  let ok: boolean;
  try {
    ok = verify(sig.digest, signed, key, sig.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new UserError(
      `${source} does not verify with "${sig.keyName}" (${DIGEST_NAMES[sig.digest]}): ` +
        `the ${what} was modified or corrupted in transit; download it again, and check the mirror`,
    );
  }
  return sig.keyName;
}
