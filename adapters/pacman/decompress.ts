/**
 * The compressions of a pacman package (`.pkg.tar.zst`, `.xz`, `.gz` or a plain `.tar`), told
 * apart by their magic bytes as libarchive does, never by the file name: a mirror or cache may
 * name a file anything.
 */
import { open } from 'node:fs/promises';
import { errorMessage, UserError } from '../../src/errors.js';

export type PackageCompression = 'zstd' | 'xz' | 'gzip' | 'none';

/** Formats makepkg can write (PKGEXT) that layerpkg does not read, by magic. */
const UNSUPPORTED: [string, (b: Buffer) => boolean][] = [
  ['bzip2', (b) => b.subarray(0, 3).toString('latin1') === 'BZh'],
  ['lz4', (b) => b.readUInt32LE(0) === 0x184d2204],
  ['lzip', (b) => b.subarray(0, 4).toString('latin1') === 'LZIP'],
  ['lrzip', (b) => b.subarray(0, 4).toString('latin1') === 'LRZI'],
  ['lzop', (b) => b.subarray(0, 4).equals(Buffer.from([0x89, 0x4c, 0x5a, 0x4f]))],
  ['compress (.Z)', (b) => b[0] === 0x1f && b[1] === 0x9d],
];

/** The compression `head` (the file's first bytes, at least 512 when the file has them) starts with. */
export function compressionOf(head: Buffer): PackageCompression | { unsupported: string } | undefined {
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    // A zstd frame, or a skippable frame (0x184D2A50..5F) that a zstd stream may start with.
    if (magic === 0xfd2fb528 || (magic & 0xfffffff0) === 0x184d2a50) return 'zstd';
  }
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  // POSIX "ustar\0" and GNU "ustar  " both begin with "ustar" at offset 257.
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  if (head.length >= 4) {
    for (const [name, test] of UNSUPPORTED) if (test(head)) return { unsupported: name };
  }
  return undefined;
}

/**
 * The compression of the package at `file`, from its first bytes; a UserError naming `label`
 * when it is unreadable, not an archive, or compressed with something layerpkg does not read.
 */
export async function packageCompression(file: string, label: string): Promise<PackageCompression> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new UserError(`${label}: cannot read the package file ${file} (${errorMessage(e)}): download it again`);
  }
  const kind = compressionOf(head);
  if (kind === undefined) {
    throw new UserError(
      `${label} is not a pacman package: ${head.length === 0 ? 'the file is empty' : 'it is neither a zstd, xz or gzip stream nor a tar archive'}; ` +
        'download it again, and check that the repository URL serves pacman packages',
    );
  }
  if (typeof kind === 'object') {
    throw new UserError(
      `${label} is a ${kind.unsupported}-compressed package, which layerpkg does not read (it reads .pkg.tar.zst, .xz, .gz and plain .tar): ` +
        'use a repository that publishes zstd or xz packages, as Arch Linux does',
    );
  }
  return kind;
}

