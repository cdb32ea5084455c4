/**
 * Decompression paced by its reader. A decompressor stream takes whatever input it is given and
 * turns all of it into output at once, whether or not anyone reads it: lzma-native decodes on a
 * thread of its own, and one 64 KiB chunk of an xz or zstd bomb is hundreds of megabytes. So the
 * input goes in slices, each only once the output of the one before has been taken, and the
 * slice shrinks as the compression ratio grows: memory stays near OUTPUT_TARGET per stream
 * whatever the package holds, and a reader that stops (a size bound met) stops the decoding.
 */
import { Readable, type Transform } from 'node:stream';

/** About how much output one slice may make. */
const OUTPUT_TARGET = 4 * 1024 * 1024;
/** The first slice is small (a bomb may start at once); later ones follow the observed ratio. */
const FIRST_SLICE = 4 * 1024;
const MIN_SLICE = 256;
const MAX_SLICE = 256 * 1024;

export function boundedDecode(source: Readable, decoder: Transform): Readable {
  const out = Readable.from(decoded(source, decoder), { objectMode: false, highWaterMark: 1 });
  // Tearing the output down (its reader stopped) tears down what feeds it.
  out.once('close', () => {
    decoder.destroy();
    source.destroy();
  });
  return out;
}

async function* decoded(source: AsyncIterable<Buffer>, decoder: Transform): AsyncGenerator<Buffer> {
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
  let slice = FIRST_SLICE;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; ) {
      const part = chunk.subarray(at, at + slice);
      at += part.length;
      await fed(part);
      let made = 0;
      for (const b of pending) made += b.length;
      // The next slice is sized from this one's ratio, so its output stays near the target.
      slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor((OUTPUT_TARGET * part.length) / Math.max(made, 1))));
      while (pending.length) yield pending.shift()!;
    }
  }
  decoder.end();
  await Promise.race([ended, broken]);
  while (pending.length) yield pending.shift()!;
}
