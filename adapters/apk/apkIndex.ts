/**
 * Verification and parsing of an Alpine repository's APKINDEX.tar.gz.
 *
 * The file is two concatenated gzip members. The first holds a tar (written without its
 * end-of-archive blocks) whose single entry `.SIGN.RSA.<key>` or `.SIGN.RSA256.<key>` is an RSA
 * PKCS#1 v1.5 signature (SHA-1, resp. SHA-256) made with the key file `<key>` from
 * /etc/apk/keys. It covers the *compressed* bytes from the second member's first byte to the
 * end of the file. The second member holds a tar with DESCRIPTION and APKINDEX.
 *
 * Everything returned comes from the signed bytes: nothing is decompressed or parsed from the
 * second member until its signature has verified.
 */
import { createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, UserError } from '../../src/errors.js';
import { signatureOf, verifyWithTrustedKey, type ApkSignature } from './apkSignature.js';
import { readGzipMember, splitGzipMembers } from './gzipMembers.js';
import { readTar, type TarFile } from './tarBlocks.js';

export interface ApkIndexRecord {
  /**
   * Every field of the record, by its one-letter name as apk-tools writes it (C P V A S I T U
   * L o m t c D p i k r q ...), values verbatim. Letters this code does not know are kept too.
   */
  fields: Map<string, string>;
}

export interface ApkIndex {
  /** The DESCRIPTION entry ("v3.16.3-13-g4d933a1fa3"), without a trailing newline. */
  description: string;
  records: ApkIndexRecord[];
  /** File name of the key whose signature verified ("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"). */
  signedBy: string;
}

/**
 * Verify an APKINDEX.tar.gz against trusted keys (key file name → PEM) and parse it.
 * `source` (the URL or path) names the file in every error.
 */
export function verifyAndParseApkIndex(bytes: Buffer, keys: Map<string, string>, source: string): ApkIndex {
  const first = readGzipMember(bytes, 0, source);
  if (first.end >= bytes.length) {
    throw new UserError(
      `${source} has no signature stream (it is a single gzip stream, not a signed APKINDEX.tar.gz): ` +
        'check the repository URL; layerpkg only uses signed apk indexes',
    );
  }
  let signatures: ApkSignature[];
  try {
    signatures = readTar(first.data, 'signature stream').flatMap((f) => signatureOf(f) ?? []);
  } catch (e) {
    throw new UserError(`${source} has a malformed signature stream (${errorMessage(e)}): download it again`);
  }
  if (signatures.length === 0) {
    throw new UserError(
      `${source} has no signature stream (its first gzip stream holds no .SIGN.RSA.* or .SIGN.RSA256.* entry): ` +
        'check the repository URL; layerpkg only uses signed apk indexes',
    );
  }
  const signedBy = verifyWithTrustedKey(bytes.subarray(first.end), signatures, keys, source, 'index');

  // Only signed bytes from here on. apk reads the rest as one gzip stream, members and all.
  const content = Buffer.concat(splitGzipMembers(bytes.subarray(first.end), source).map((m) => m.data));
  let files: TarFile[];
  try {
    files = readTar(content, 'index stream');
  } catch (e) {
    throw new UserError(`${source} has a malformed index tar (${errorMessage(e)}): download it again`);
  }
  const apkindex = files.find((f) => f.name === 'APKINDEX');
  if (!apkindex) {
    throw new UserError(`${source} has no APKINDEX entry in its index tar: check that the URL points at an APKINDEX.tar.gz`);
  }
  const description = files.find((f) => f.name === 'DESCRIPTION')?.data.toString('utf8').replace(/\n+$/, '') ?? '';
  return { description, records: parseApkIndexRecords(apkindex.data.toString('utf8'), source), signedBy };
}

/**
 * Parse APKINDEX text: records separated by blank lines, each line `X:value` with a one-letter
 * field name. A line of another shape, or a letter repeated within one record, is refused.
 */
export function parseApkIndexRecords(text: string, source: string): ApkIndexRecord[] {
  const records: ApkIndexRecord[] = [];
  let fields = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    if (line === '') {
      if (fields.size > 0) records.push({ fields });
      fields = new Map();
      return;
    }
    const bad = (why: string): UserError =>
      new UserError(`${source}: APKINDEX line ${i + 1} ${why} (${JSON.stringify(line.slice(0, 80))}): the index is malformed; check the repository`);
    if (line.length < 2 || line[1] !== ':' || line[0] === ' ' || line[0] === ':') throw bad('is not a "X:value" field');
    const letter = line[0]!;
    if (fields.has(letter)) throw bad(`repeats field "${letter}" within one record`);
    fields.set(letter, line.slice(2));
  });
  if (fields.size > 0) records.push({ fields });
  return records;
}

/**
 * Read a keys directory as apk does (/etc/apk/keys): every regular file, keyed by its file name,
 * which is how signatures name their key. Each must be a PEM public key. Synchronous: it runs
 * while image.toml is validated, and a keys directory holds a handful of small files.
 */
export function readApkKeysSync(dir: string): Map<string, string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UserError(`cannot read the apk keys directory ${dir} (${errorMessage(e)}): point "keys" at a directory of .rsa.pub files`);
  }
  const keys = new Map<string, string>();
  for (const entry of entries.filter((e) => e.isFile() && !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = path.join(dir, entry.name);
    const pem = readFileSync(file, 'utf8');
    try {
      createPublicKey(pem);
    } catch (e) {
      throw new UserError(`${file} is not a PEM public key (${errorMessage(e)}): keep only the repository's .rsa.pub files in ${dir}`);
    }
    keys.set(entry.name, pem);
  }
  if (keys.size === 0) throw new UserError(`the apk keys directory ${dir} holds no keys: add the repository's .rsa.pub files to it`);
  return keys;
}
