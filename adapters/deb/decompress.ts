import { PassThrough, type Readable, type Transform } from 'node:stream';
import { errorMessage, UserError } from '../../src/errors.js';
import { boundedDecode, type Compression } from '../boundedDecode.js';

/** The compression of a `control.tar.*` / `data.tar.*` member, told by its suffix as dpkg-deb does. */
export function memberCompression(memberName: string, label: string): Compression | null {
  if (memberName.endsWith('.tar')) return null;
  if (memberName.endsWith('.xz')) return 'xz';
  if (memberName.endsWith('.gz')) return 'gzip';
  if (memberName.endsWith('.zst')) return 'zstd';
  throw new UserError(`${label}: unsupported compression for member "${memberName}" (expected .xz, .gz, .zst or plain .tar)`);
}

/**
 * `source` decompressed, through `out` (a meter, or a plain pass-through). A decompressor's own
 * failure (corrupt or truncated data: zlib's "incorrect data check", lzma's "Data is corrupt",
 * fzstd's "unexpected EOF") becomes a UserError naming the package and the member; errors of
 * `source` pass through as they are.
 */
export function decompressStream(source: Readable, memberName: string, label: string, out: Transform = new PassThrough()): Readable {
  const compression = memberCompression(memberName, label);
  if (!compression) {
    source.on('error', (e) => out.destroy(e));
    return source.pipe(out);
  }
  let sourceFailed = false;
  source.on('error', () => {
    sourceFailed = true;
  });
  const decoded = boundedDecode(source, compression);
  decoded.on('error', (e) => {
    out.destroy(
      sourceFailed || e instanceof UserError
        ? e
        : new UserError(`${label}: its ${memberName} is corrupt or truncated (${errorMessage(e)}): the package is damaged; download it again, and if that does not help, report the package to its repository`),
    );
  });
  return decoded.pipe(out);
}
