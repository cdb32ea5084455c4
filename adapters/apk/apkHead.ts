/**
 * The head of an apk v2 package: everything before its data.
 *
 * A .apk is concatenated gzip members that together form one tar stream:
 *   1. signatures: `.SIGN.RSA.<key>` (or RSA256/RSA512) entries, no end-of-archive blocks;
 *   2. control: `.PKGINFO` and the scripts, no end-of-archive blocks;
 *   3. data: the files to install (normally one member; apk-tools 2 accepts several).
 * The signature covers the *compressed* bytes of member 2 exactly, the package identity `C:`
 * is the SHA-1 of those same bytes, and .PKGINFO's `datahash` is the SHA-256 of every byte from
 * the start of member 3 to the end of the file. So the member boundaries are found to the byte,
 * reading only as much of the file as the two small head members need.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { errorMessage, UserError } from '../../src/errors.js';
import { signatureOf, SIGN_PREFIX, type ApkSignature } from './apkSignature.js';
import { readGzipMember, type GzipMember } from './gzipMembers.js';
import { readTar, type TarFile } from './tarBlocks.js';

export interface ApkHead {
  /** Size of the whole file in bytes: apk's `S:`. */
  fileSize: number;
  /** Signatures of known algorithms, in file order; empty for an unsigned package. */
  signatures: ApkSignature[];
  /** Names of all `.SIGN.*` entries, including algorithms this code does not know. */
  signatureEntries: string[];
  /** The control member's compressed bytes: what the signature covers and `C:` hashes. */
  control: Buffer;
  /** Byte offset of the control member in the file. */
  controlOffset: number;
  /** The control tar's regular files in order: `.PKGINFO` and scripts. */
  controlFiles: TarFile[];
  /** .PKGINFO "key = value" pairs in file order. */
  pkginfo: [string, string][];
  /** Where the data member starts: `datahash` covers from here to the end of the file. */
  dataOffset: number;
  /** `C:`: "Q1" + base64 of the SHA-1 of the compressed control member. */
  checksum: string;
}

/** The control scripts apk-tools knows, by their tar entry name. */
export const SCRIPT_NAMES: readonly string[] = [
  '.pre-install',
  '.post-install',
  '.pre-deinstall',
  '.post-deinstall',
  '.pre-upgrade',
  '.post-upgrade',
  '.trigger',
];

// Head members are a few KB; the limit only bounds what a corrupt file can make us read.
const FIRST_READ = 64 * 1024;
const HEAD_LIMIT = 8 * 1024 * 1024;


/** Thrown when a gzip member runs past the bytes read so far: read more and try again. */
class NeedMoreBytes extends Error {
  constructor(readonly inner: unknown) {
    super('head is incomplete');
  }
}

/** "Q1" + base64(SHA-1): apk's checksum notation. */
export function apkChecksum(bytes: Buffer): string {
  return `Q1${createHash('sha1').update(bytes).digest('base64')}`;
}

/**
 * Parse .PKGINFO as apk-tools does: '#' lines are comments, a field is split at its first
 * " = ", and a line without one is ignored.
 */
export function parsePkginfo(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf(' = ');
    if (at < 0) continue;
    pairs.push([line.slice(0, at), line.slice(at + 3)]);
  }
  return pairs;
}

/** The control scripts of a head, base64 by entry name (".post-install"). */
export function controlScripts(head: ApkHead): Record<string, string> {
  const scripts: Record<string, string> = {};
  for (const f of head.controlFiles) if (SCRIPT_NAMES.includes(f.name)) scripts[f.name] = f.data.toString('base64');
  return scripts;
}

/** The one value of a .PKGINFO key, or undefined. */
export function pkginfoValue(pairs: [string, string][], key: string): string | undefined {
  return pairs.find(([k]) => k === key)?.[1];
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * .PKGINFO's `datahash`, lower-case: it is what makes the signature cover the data, so a
 * package without one is refused (apk-tools 2 still reads such packages, with a warning).
 */
export function requiredDatahash(head: ApkHead, label: string): string {
  const datahash = pkginfoValue(head.pkginfo, 'datahash');
  if (datahash === undefined || !SHA256_HEX.test(datahash)) {
    throw new UserError(
      `${label} has ${datahash === undefined ? 'no datahash' : `a malformed datahash "${datahash}"`} in its .PKGINFO, so its ` +
        'signature does not cover its files: layerpkg only installs packages whose signed .PKGINFO carries a datahash; ' +
        'rebuild the package with a current abuild',
    );
  }
  return datahash.toLowerCase();
}

function tarOf(member: GzipMember, what: string, label: string): TarFile[] {
  try {
    return readTar(member.data, what);
  } catch (e) {
    throw new UserError(`${label} has a malformed ${what} (${errorMessage(e)}): download it again`);
  }
}

/** Split the head out of the file's first bytes; throws NeedMoreBytes if they end too soon. */
function parseHead(bytes: Buffer, fileSize: number, label: string): ApkHead {
  const member = (start: number): GzipMember => {
    try {
      return readGzipMember(bytes, start, label);
    } catch (e) {
      if (bytes.length < fileSize) throw new NeedMoreBytes(e);
      throw e;
    }
  };
  const first = member(0);
  const firstFiles = tarOf(first, 'signature stream', label);
  const signed = firstFiles.filter((f) => f.name.startsWith(SIGN_PREFIX));
  let control: GzipMember;
  let signatures: ApkSignature[] = [];
  if (signed.length > 0) {
    if (signed.length !== firstFiles.length) {
      throw new UserError(`${label} has a malformed signature stream (it mixes .SIGN.* entries with other files): download it again`);
    }
    signatures = signed.flatMap((f) => signatureOf(f) ?? []);
    if (first.end >= fileSize) throw new UserError(`${label} is truncated (it ends after its signature stream): download it again`);
    control = member(first.end);
  } else {
    // Unsigned (apk's --allow-untrusted territory): the control stream comes first.
    control = first;
  }
  const controlFiles = tarOf(control, 'control stream', label);
  // apk-tools ends the control section at the first name that is not a top-level dot file.
  const stray = controlFiles.find((f) => !f.name.startsWith('.') || f.name.includes('/'));
  if (stray) {
    throw new UserError(`${label} has "${stray.name}" in its control stream, where only .PKGINFO and scripts belong: it is not a well-formed apk package`);
  }
  const pkginfoFile = controlFiles.find((f) => f.name === '.PKGINFO');
  if (!pkginfoFile) {
    const why = signed.length > 0 ? 'its control stream has no .PKGINFO' : 'its first gzip stream holds neither .SIGN.* signatures nor .PKGINFO';
    throw new UserError(`${label} is not an apk v2 package (${why}): check the repository URL`);
  }
  if (control.end >= fileSize) {
    throw new UserError(`${label} is truncated (it has no data stream after its control stream): download it again`);
  }
  const controlBytes = bytes.subarray(control.start, control.end);
  return {
    fileSize,
    signatures,
    signatureEntries: signed.map((f) => f.name),
    control: Buffer.from(controlBytes),
    controlOffset: control.start,
    controlFiles: controlFiles.map((f) => ({ name: f.name, data: Buffer.from(f.data) })),
    pkginfo: parsePkginfo(pkginfoFile.data.toString('utf8')),
    dataOffset: control.end,
    checksum: apkChecksum(controlBytes),
  };
}

/**
 * apk-tools 3 packages are ADB containers ("ADB" + a compression byte: '.' none, 'd' deflate,
 * 'c' another), not gzip members: a clear refusal instead of "not a valid gzip file".
 */
function refuseApkV3(bytes: Buffer, label: string): void {
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 3) === 'ADB') {
    throw new UserError(`${label} is an apk v3 (ADB) package; layerpkg reads apk v2 packages only: use a repository that publishes v2 packages (.apk files made of gzip streams)`);
  }
}

async function readPrefix(handle: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buf, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buf.subarray(0, filled);
}

/**
 * Read the signature and control members of the .apk at `file`, growing the bytes read until
 * both are complete. `label` names the package in every error.
 */
export async function readApkHead(file: string, label: string): Promise<ApkHead> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new UserError(`${label}: cannot read the package file ${file} (${errorMessage(e)}): download it again`);
  }
  try {
    const fileSize = (await handle.stat()).size;
    let length = Math.min(fileSize, FIRST_READ);
    for (;;) {
      const bytes = await readPrefix(handle, length);
      refuseApkV3(bytes, label);
      try {
        return parseHead(bytes, fileSize, label);
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
        if (length >= fileSize) throw e.inner; // the file shrank while being read
        if (length >= HEAD_LIMIT) {
          throw new UserError(
            `${label}: its signature and control streams do not end within its first ${HEAD_LIMIT / 1024 / 1024} MiB ` +
              `(${errorMessage(e.inner)}): it is not a well-formed apk package; download it again`,
          );
        }
        length = Math.min(fileSize, length * 4, HEAD_LIMIT);
      }
    }
  } finally {
    await handle.close();
  }
}
