/**
 * Verification of a downloaded .apk against the index record (or lock entry) that pinned it,
 * before it enters the cache: signature, `C:`, size, and the data stream's sha256 against the
 * signed .PKGINFO's `datahash` (unpackApk checks it again while unpacking, which costs nothing,
 * but a file with bad data must never be stored as that package).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { errorMessage, UserError } from '../../src/errors.js';
import { pkginfoValue, readApkHead, requiredDatahash } from './apkHead.js';
import { verifyWithTrustedKey } from './apkSignature.js';


/**
 * Check that `file` is the package `expect` pins (`C:` checksum and `S:` size), signed by one of
 * `keys` (key file name → PEM). Returns its checksum and the signing key's file name. Every
 * error is one UserError naming `label`.
 */
export async function verifyApkFile(
  file: string,
  expect: { checksum: string; size: number },
  keys: Map<string, string>,
  label: string,
): Promise<{ checksum: string; signedBy: string }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new UserError(`${label}: cannot read the package file ${file} (${errorMessage(e)}): download it again`);
  }
  const head = await readApkHead(file, label);

  if (head.signatures.length === 0) {
    const why =
      head.signatureEntries.length > 0
        ? `its only signatures (${head.signatureEntries.join(', ')}) use algorithms apk-tools 2 does not verify with RSA keys`
        : 'it has no .SIGN.RSA.* or .SIGN.RSA256.* signature stream';
    throw new UserError(`${label} is not signed (${why}): layerpkg only installs signed apk packages; check the repository URL`);
  }
  const signedBy = verifyWithTrustedKey(head.control, head.signatures, keys, label, 'package');

  if (head.checksum !== expect.checksum) {
    const name = pkginfoValue(head.pkginfo, 'pkgname') ?? '?';
    const version = pkginfoValue(head.pkginfo, 'pkgver') ?? '?';
    throw new UserError(
      `${label} has control checksum ${head.checksum} (it is ${name} ${version}) but the index pins ${expect.checksum}: ` +
        'the mirror serves a different build than the index or lock names; run `layerpkg lock` again to pin what the ' +
        'repository serves now, or check that the repository URL and its APKINDEX match',
    );
  }
  if (size !== expect.size) {
    throw new UserError(
      `${label} is ${size} bytes but the index pins ${expect.size} (its signed control stream matches): ` +
        'the download is truncated or has extra bytes; download it again',
    );
  }
  const datahash = requiredDatahash(head, label);
  const actual = await sha256From(file, head.dataOffset);
  if (actual !== datahash) {
    throw new UserError(
      `${label}: its data stream has sha256 ${actual}, but its signed .PKGINFO says datahash ${datahash}: ` +
        'the file was modified or corrupted after it was built; download it again, and check the mirror',
    );
  }
  return { checksum: head.checksum, signedBy };
}

async function sha256From(file: string, offset: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { start: offset })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
