import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import lzma from 'lzma-native';
import { Decompress as ZstdDecompress } from 'fzstd';
import { UserError } from '../../src/errors.js';

/** The compressor of a `control.tar.*` / `data.tar.*` member, chosen by its suffix. */
export function decompressorFor(memberName: string, label: string): Transform | null {
  if (memberName.endsWith('.tar')) return null;
  if (memberName.endsWith('.xz')) return lzma.createDecompressor() as unknown as Transform;
  if (memberName.endsWith('.gz')) return createGunzip();
  if (memberName.endsWith('.zst')) return zstdTransform();
  throw new UserError(`${label}: unsupported compression for member "${memberName}" (expected .xz, .gz, .zst or plain .tar)`);
}

export function decompressStream(source: Readable, memberName: string, label: string): Readable {
  const d = decompressorFor(memberName, label);
  if (!d) return source;
  source.on('error', (e) => d.destroy(e));
  return source.pipe(d);
}

/** fzstd is push-based; wrap it as a Transform so it composes with the other streams. */
function zstdTransform(): Transform {
  let push: ((chunk: Buffer) => void) | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        decoder.push(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  push = (chunk) => stream.push(chunk);
  const decoder = new ZstdDecompress((data) => push!(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  return stream;
}
