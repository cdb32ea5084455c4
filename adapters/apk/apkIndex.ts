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
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import { readGzipMember, splitGzipMembers } from './gzipMembers.js';

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

interface TarFile {
  name: string;
  data: Buffer;
}

const BLOCK = 512;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function tarString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/**
 * The regular files of a ustar archive, in order. Tolerates a missing end-of-archive marker
 * (apk's signature tar has none) but not a header whose checksum is wrong or a short body.
 */
function readTar(bytes: Buffer, what: string): TarFile[] {
  const files: TarFile[] = [];
  let pos = 0;
  while (pos + BLOCK <= bytes.length) {
    const header = bytes.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    const stored = parseInt(tarString(header, 148, 8).trim() || 'x', 8);
    if (stored !== sum) throw new Error(`${what}: bad tar header checksum at byte ${pos}`);
    const size = parseInt(tarString(header, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${what}: bad tar entry size at byte ${pos}`);
    const type = String.fromCharCode(header[156]!);
    const magic = tarString(header, 257, 6);
    const prefix = magic === 'ustar' ? tarString(header, 345, 155) : '';
    const name = prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100);
    const bodyStart = pos + BLOCK;
    if (bodyStart + size > bytes.length) throw new Error(`${what}: tar entry "${name}" is truncated`);
    if (type === '0' || type === '\0') files.push({ name, data: bytes.subarray(bodyStart, bodyStart + size) });
    pos = bodyStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

interface Signature {
  digest: 'sha1' | 'sha256';
  keyName: string;
  signature: Buffer;
}

const SIGN_PREFIXES: [string, Signature['digest']][] = [
  ['.SIGN.RSA256.', 'sha256'],
  ['.SIGN.RSA.', 'sha1'],
];

function signatureOf(file: TarFile): Signature | undefined {
  for (const [prefix, digest] of SIGN_PREFIXES) {
    if (file.name.startsWith(prefix) && file.name.length > prefix.length) {
      return { digest, keyName: file.name.slice(prefix.length), signature: file.data };
    }
  }
  return undefined;
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
  let signatures: Signature[];
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
  // As apk-tools: the first signature made by a trusted key decides.
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
    throw new UserError(`trusted key "${sig.keyName}" is not a readable PEM public key (${errorMessage(e)}): replace it with the repository's .rsa.pub file`);
  }
  const signed = bytes.subarray(first.end);
  let ok: boolean;
  try {
    ok = verify(sig.digest, signed, key, sig.signature);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new UserError(
      `${source} does not verify with "${sig.keyName}" (${sig.digest === 'sha1' ? 'RSA/SHA-1' : 'RSA/SHA-256'}): ` +
        'the index was modified or corrupted in transit; download it again, and check the mirror',
    );
  }

  // Only signed bytes from here on. apk reads the rest as one gzip stream, members and all.
  const content = Buffer.concat(splitGzipMembers(signed, source).map((m) => m.data));
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
  return { description, records: parseApkIndexRecords(apkindex.data.toString('utf8'), source), signedBy: sig.keyName };
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
 * which is how signatures name their key. Each must be a PEM public key.
 */
export async function readApkKeys(dir: string): Promise<Map<string, string>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new UserError(`cannot read the apk keys directory ${dir} (${errorMessage(e)}): point "keys" at a directory of .rsa.pub files`);
  }
  const keys = new Map<string, string>();
  for (const entry of entries.filter((e) => e.isFile() && !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = path.join(dir, entry.name);
    const pem = await readFile(file, 'utf8');
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
