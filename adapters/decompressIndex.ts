/**
 * A whole repository index, decompressed in memory with a ceiling: an index is read whole (it is
 * parsed, not streamed into a layer), so an xz or zstd bomb in one must stop at a bound rather
 * than take the machine's memory.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UserError } from '../src/errors.js';
import { boundedDecode, type Compression } from './boundedDecode.js';

/** Many times the largest real index (Debian main's Packages: ~50 MiB; Arch's extra.db: ~40 MiB). */
export const INDEX_LIMIT = 512 * 1024 * 1024;

export type IndexCompression = Compression;

export async function decompressIndex(bytes: Buffer, kind: IndexCompression, source: string, limit = INDEX_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) {
        callback(new UserError(`${source} decompresses to more than ${limit / 1024 / 1024} MiB, far more than a repository index holds: it is malformed or hostile`));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline(boundedDecode(Readable.from([bytes]), kind), collect);
  return Buffer.concat(chunks);
}
