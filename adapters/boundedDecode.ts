/**
 * Decompression paced by its reader. A decompressor stream takes whatever input it is given and
 * turns all of it into output at once, whether or not anyone reads it: lzma-native decodes on a
 * thread of its own, and one 64 KiB chunk of an xz or zstd bomb is hundreds of megabytes. So the
 * input goes in slices, each only once the output of the one before has been taken. A slice is
 * sized from the ratio seen so far (about OUTPUT_TARGET of output), and never larger than what
 * the compression's worst ratio turns into SLICE_CEILING: a run of zeros after ordinary data
 * cannot blow one slice up. A reader that stops (a size bound met) stops the decoding.
 */
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import lzma from 'lzma-native';
import { zstdTransform } from './zstdTransform.js';

export type Compression = 'gzip' | 'xz' | 'zstd';

/**
 * The most one input byte can become (1 GiB of zeros: gzip -9 1,030:1, xz 6,869:1 at any
 * preset, zstd -19 32,531:1; rounded up).
 */
const WORST_RATIO: Record<Compression, number> = { gzip: 1032, xz: 7000, zstd: 32768 };
/** About how much output one slice should make. */
const OUTPUT_TARGET = 4 * 1024 * 1024;
/** The most one slice can make, whatever its bytes hold: gzip 32 KiB, xz 4.6 KiB, zstd 1 KiB slices. */
const SLICE_CEILING = 32 * 1024 * 1024;
const MIN_SLICE = 256;

const DECODERS: Record<Compression, () => Transform> = {
  gzip: () => createGunzip(),
  xz: () => lzma.createDecompressor() as unknown as Transform,
  zstd: () => zstdTransform(),
};

/** `source` decompressed; errors of the source and of the decoder (corrupt data) come out of it. */
export function boundedDecode(source: Readable, compression: Compression): Readable {
  const decoder = DECODERS[compression]();
  const maxSlice = Math.floor(SLICE_CEILING / WORST_RATIO[compression]);
  const out = Readable.from(decoded(source, decoder, maxSlice), { objectMode: false, highWaterMark: 1 });
  // Tearing the output down (its reader stopped) tears down what feeds it.
  out.once('close', () => {
    decoder.destroy();
    source.destroy();
  });
  return out;
}

async function* decoded(source: AsyncIterable<Buffer>, decoder: Transform, maxSlice: number): AsyncGenerator<Buffer> {
  const pending: Buffer[] = [];
  // A decoder that fails may never call back for the input it was given: its error (or its
  // close) settles every wait instead.
  const broken = new Promise<never>((_resolve, reject) => {
    decoder.once('error', reject);
    decoder.once('close', () => reject(new Error('the decompressor closed before the end of its input')));
  });
  broken.catch(() => {});
  decoder.on('data', (chunk: Buffer) => pending.push(chunk));
  const ended = new Promise<void>((resolve) => decoder.once('end', resolve));
  const fed = (slice: Buffer) =>
    Promise.race([
      new Promise<void>((resolve, reject) => {
        decoder.write(slice, (e) => (e ? reject(e) : resolve()));
      }),
      broken,
    ]);
  let slice = maxSlice;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; ) {
      const part = chunk.subarray(at, at + slice);
      at += part.length;
      await fed(part);
      let made = 0;
      for (const b of pending) made += b.length;
      // The next slice is sized from this one's ratio, so its output stays near the target.
      slice = Math.min(maxSlice, Math.max(MIN_SLICE, Math.floor((OUTPUT_TARGET * part.length) / Math.max(made, 1))));
      while (pending.length) yield pending.shift()!;
    }
  }
  decoder.end();
  await Promise.race([ended, broken]);
  while (pending.length) yield pending.shift()!;
}
