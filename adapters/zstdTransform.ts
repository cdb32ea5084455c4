import { Transform } from 'node:stream';
import { Decompress as ZstdDecompress } from 'fzstd';

/**
 * fzstd is push-based; wrap it as a Transform. Node holds the transform callback while the
 * readable side is above its high-water mark, so a slow consumer bounds the memory used.
 * Truncated input fails at flush ("unexpected EOF").
 */
export function zstdTransform(): Transform {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.push(chunk);
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
    flush(callback) {
      try {
        decoder.push(new Uint8Array(0), true);
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
  });
  const decoder = new ZstdDecompress((data) => {
    if (data.length > 0) stream.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return stream;
}
