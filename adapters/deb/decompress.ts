import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import lzma from 'lzma-native';
import { UserError } from '../../src/errors.js';
import { zstdTransform } from '../zstdTransform.js';

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
