import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

export type Compression = 'xz' | 'gz' | 'zst' | 'none';

/** Compressed with the real xz and zstd tools (fast levels), or zlib for gzip: for packages made in tests. */
export function compress(bytes: Buffer, how: Compression): Buffer {
  switch (how) {
    case 'gz':
      return gzipSync(bytes);
    case 'xz':
      return execFileSync('xz', ['-0', '-c', '-T1'], { input: bytes, maxBuffer: 1 << 30 });
    case 'zst':
      return execFileSync('zstd', ['-1', '-q', '-c'], { input: bytes, maxBuffer: 1 << 30 });
    case 'none':
      return bytes;
  }
}
