/**
 * Exact splitting of a file made of concatenated gzip members (RFC 1952).
 *
 * apk signs compressed bytes: an APKINDEX.tar.gz's signature covers the second gzip member's
 * *compressed* bytes, so the boundary between members must be found to the byte. `gunzipSync`
 * decompresses every member at once and says nothing about where one ended, so each member is
 * read by hand:
 *   1. its header is parsed here (magic, CM=8, and the optional FEXTRA/FNAME/FCOMMENT/FHCRC parts);
 *   2. the raw deflate body is inflated with `inflateRawSync(..., { info: true })`: zlib stops at
 *      the deflate stream's final block, and the engine's `bytesWritten` is the number of input
 *      bytes it consumed — exactly the deflate body's length, trailing bytes untouched;
 *   3. the 8-byte trailer (CRC-32, ISIZE) follows; both are checked against the inflated data.
 */
import zlib from 'node:zlib';
import { errorMessage, UserError } from '../../src/errors.js';

export interface GzipMember {
  /** Offset of the member's first byte (the 0x1f of its magic). */
  start: number;
  /** Offset just past the member's trailer: the next member's start, or the file's length. */
  end: number;
  /** The member's decompressed content. */
  data: Buffer;
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;


/** Length of the gzip header at `start`; throws UserError (naming `source`) if it isn't one. */
function headerLength(bytes: Buffer, start: number, source: string): number {
  const corrupt = (why: string): UserError =>
    new UserError(`${source} is not a valid gzip file (${why} at byte ${start}): download it again, or check the repository URL`);
  if (bytes.length - start < 10) throw corrupt('truncated gzip header');
  if (bytes[start] !== 0x1f || bytes[start + 1] !== 0x8b) throw corrupt('no gzip magic number');
  if (bytes[start + 2] !== 8) throw corrupt(`unknown compression method ${bytes[start + 2]}`);
  const flags = bytes[start + 3]!;
  if (flags & FRESERVED) throw corrupt('reserved header flags set');
  let pos = start + 10;
  if (flags & FEXTRA) {
    if (pos + 2 > bytes.length) throw corrupt('truncated gzip header');
    pos += 2 + bytes.readUInt16LE(pos);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const nul = bytes.indexOf(0, pos);
    if (nul < 0) throw corrupt('truncated gzip header');
    pos = nul + 1;
  }
  if (flags & FHCRC) pos += 2;
  if (pos > bytes.length) throw corrupt('truncated gzip header');
  return pos - start;
}

/**
 * What one member may inflate to: the members read whole are a package's signature and control
 * streams and an APKINDEX (a few MiB for Alpine's largest repository); a gzip bomb stops here.
 */
const MEMBER_LIMIT = 256 * 1024 * 1024;

/** Read the one gzip member starting at `start`. */
export function readGzipMember(bytes: Buffer, start: number, source: string): GzipMember {
  const bodyStart = start + headerLength(bytes, start, source);
  let data: Buffer;
  let consumed: number;
  try {
    const result = zlib.inflateRawSync(bytes.subarray(bodyStart), { info: true, maxOutputLength: MEMBER_LIMIT }) as unknown as {
      buffer: Buffer;
      engine: zlib.InflateRaw;
    };
    data = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UserError(`${source}: its gzip member at byte ${start} inflates to more than ${MEMBER_LIMIT / 1024 / 1024} MiB, far more than an apk header or index holds: it is malformed or hostile`);
    }
    throw new UserError(
      `${source} is corrupt or truncated (gzip member at byte ${start}: ${errorMessage(e)}): download it again`,
    );
  }
  const trailer = bodyStart + consumed;
  if (trailer + 8 > bytes.length) {
    throw new UserError(`${source} is truncated (gzip member at byte ${start} has no complete trailer): download it again`);
  }
  if (bytes.readUInt32LE(trailer) !== zlib.crc32(data) || bytes.readUInt32LE(trailer + 4) !== data.length % 2 ** 32) {
    throw new UserError(
      `${source} is corrupt (gzip member at byte ${start} fails its CRC-32 or length check): download it again`,
    );
  }
  return { start, end: trailer + 8, data };
}

/** Split `bytes` into its gzip members, in order; the whole input must be gzip members. */
export function splitGzipMembers(bytes: Buffer, source: string): GzipMember[] {
  if (bytes.length === 0) throw new UserError(`${source} is empty: download it again, or check the repository URL`);
  const members: GzipMember[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const member = readGzipMember(bytes, pos, source);
    members.push(member);
    pos = member.end;
  }
  return members;
}
