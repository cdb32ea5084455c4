import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { UserError } from '../../src/errors.js';

/** One member of an `ar` archive, located by offset so its body can be streamed from disk. */
export interface ArMember {
  name: string;
  offset: number;
  size: number;
}

const MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;

/**
 * List the members of a .deb's `ar` container. There is no usable ar stream package on npm;
 * a .deb is a file in the cache anyway, so members are found by reading their 60-byte headers
 * and their bodies are streamed later with ranged reads — nothing is buffered.
 */
export async function listArMembers(file: string, label: string): Promise<ArMember[]> {
  const fh = await open(file, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const magic = Buffer.alloc(MAGIC.length);
    await fh.read(magic, 0, MAGIC.length, 0);
    if (magic.toString('latin1') !== MAGIC) throw new UserError(`${label}: not a Debian package (no ar archive header)`);
    const members: ArMember[] = [];
    const header = Buffer.alloc(HEADER_SIZE);
    let pos = MAGIC.length;
    while (pos + HEADER_SIZE <= fileSize) {
      await fh.read(header, 0, HEADER_SIZE, pos);
      if (header.toString('latin1', 58, 60) !== '`\n') throw new UserError(`${label}: corrupt ar member header at byte ${pos}`);
      // GNU ar ends names with "/"; dpkg-deb writes plain names padded with spaces.
      const name = header.toString('latin1', 0, 16).trimEnd().replace(/\/$/, '');
      const size = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10);
      if (!Number.isSafeInteger(size) || size < 0 || pos + HEADER_SIZE + size > fileSize) {
        throw new UserError(`${label}: ar member "${name}" claims ${size} bytes past the end of the file (truncated download?)`);
      }
      members.push({ name, offset: pos + HEADER_SIZE, size });
      pos += HEADER_SIZE + size + (size % 2); // bodies are padded to an even length
    }
    return members;
  } finally {
    await fh.close();
  }
}

export function readArMember(file: string, member: ArMember): Readable {
  if (member.size === 0) return Readable.from([]); // a ranged read cannot express "no bytes"
  return createReadStream(file, { start: member.offset, end: member.offset + member.size - 1, highWaterMark: 1 << 20 });
}
