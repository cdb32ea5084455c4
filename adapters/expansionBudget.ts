/**
 * How far one package's payload may expand while it streams. A few hundred bytes of xz can
 * expand to gigabytes; the bound is checked on the decompressed bytes as they go by, so a bomb
 * stops within megabytes of its bound, before it costs memory or disk.
 */
import { Transform } from 'node:stream';
import { formatSize } from '../src/config/parseSize.js';
import { UserError } from '../src/errors.js';
import type { UnpackLimits } from './types.js';

/**
 * Room above the installed size a package declares: tar headers and padding (up to 1.5 KiB per
 * entry, PAX records included), read-ahead of the decompressor, and installed sizes that are
 * rounded or estimated (dpkg's Installed-Size is in KiB, an estimate the packager may override).
 */
const PER_ENTRY = 1536;
const SLACK = 16 * 1024 * 1024;
const FACTOR = 1.5;

export class ExpansionBudget {
  private bytes = 0;
  private entries = 0;
  private declared: { bytes: number; source: string } | undefined;

  constructor(
    private readonly label: string,
    private readonly limits: UnpackLimits,
  ) {}

  /** The installed size the package declares (deb Installed-Size, apk/pacman .PKGINFO size). */
  declare(bytes: number, source: string): void {
    if (Number.isSafeInteger(bytes) && bytes >= 0) this.declared = { bytes, source };
    this.check();
  }

  /** One more tar entry read (it may add up to PER_ENTRY bytes of headers). */
  entry(): void {
    this.entries++;
  }

  /** A pass-through stream that counts decompressed bytes and fails once past the bound. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        try {
          this.check();
          callback(null, chunk);
        } catch (e) {
          callback(e as Error);
        }
      },
    });
  }

  private check(): void {
    if (this.bytes > this.limits.maxUnpackedBytes) {
      throw new UserError(
        `${this.label}: its payload unpacks to more than ${formatSize(this.limits.maxUnpackedBytes)}, the limit ([limits] max_unpacked_size in image.toml, or --max-unpacked-size): ` +
          'raise it if the package really is that large',
      );
    }
    const d = this.declared;
    if (d && this.bytes > d.bytes * FACTOR + this.entries * PER_ENTRY + SLACK) {
      throw new UserError(
        `${this.label}: its payload unpacks to more than ${formatSize(this.bytes)}, far beyond the ${formatSize(d.bytes)} its ${d.source} declares: the package is malformed or hostile`,
      );
    }
  }
}
