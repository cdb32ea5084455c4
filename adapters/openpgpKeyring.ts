/**
 * OpenPGP public keyrings as repositories ship them, for the formats that sign with OpenPGP
 * (Debian's InRelease, pacman's detached .sig). Loaded only where a signature is checked:
 * openpgp is the largest module layerpkg has.
 */
import { readKeys, type Key } from 'openpgp';
import { errorMessage, UserError } from '../src/errors.js';

const PUBLIC_KEY_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;

/**
 * The keys of a keyring: binary (a `.gpg` file, several keys concatenated) or armored (a `.asc`
 * file, one or more public key blocks). `source` names the file in error messages.
 *
 * openpgp's default policy is kept (RSA ≥ 2047 bits, no MD5/RIPEMD160 anywhere, no SHA1 for
 * data signatures). Keys a policy rejects still load here; they simply fail to verify, with
 * openpgp's reason.
 */
export async function readKeyring(bytes: Uint8Array, source = 'keyring'): Promise<Key[]> {
  if (bytes.length === 0) {
    throw new UserError(`${source} is empty: point the repository's "keyring" at the repository's OpenPGP public keyring (.gpg or .asc)`);
  }
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  if (head.slice(8, 12) === 'KBXf') {
    throw new UserError(
      `${source} is a GnuPG keybox (.kbx), not an OpenPGP keyring: export the keys with "gpg --export KEYID > keyring.gpg" and use that file`,
    );
  }
  try {
    if (head.trimStart().startsWith('-----BEGIN PGP')) {
      const blocks = Buffer.from(bytes).toString('utf8').match(PUBLIC_KEY_BLOCK);
      if (!blocks) throw new Error('no "BEGIN PGP PUBLIC KEY BLOCK" armor found');
      const keys: Key[] = [];
      for (const block of blocks) keys.push(...(await readKeys({ armoredKeys: block })));
      return keys;
    }
    return await readKeys({ binaryKeys: bytes });
  } catch (e) {
    throw new UserError(
      `${source} is not a readable OpenPGP public keyring (${errorMessage(e)}): use a binary .gpg keyring or an armored .asc public key`,
    );
  }
}
