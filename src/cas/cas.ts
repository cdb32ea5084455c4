import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { OWNER } from './tempOwner.js';

export type Digest = `sha256:${string}`;

export class IntegrityError extends Error {
  /** `expected` is undefined when only the size was pinned. */
  constructor(readonly expected: string | undefined, readonly actual: string, readonly expectedSize?: number, readonly actualSize?: number) {
    super(
      expected === undefined
        ? `size ${actualSize} does not match the expected size ${expectedSize}`
        : `sha256 ${actual} (size ${actualSize}) does not match the expected ${expected}${expectedSize !== undefined ? ` (size ${expectedSize})` : ''}`,
    );
  }
}

/** Far more bytes came than the lock pins (or than a bound allows): cut off before the rest arrives. */
export class TooLargeError extends Error {
  constructor(readonly limit: number, readonly pinnedSize: number | undefined) {
    super(pinnedSize !== undefined ? `it sends more than ${limit} bytes where its pin gives ${pinnedSize}` : `it sends more than the ${limit} bytes allowed`);
  }
}

/**
 * Where a download pinned to `size` bytes is cut off: well past the size, so a file that merely
 * differs is read whole and reported by its hash, while an endless answer stops early.
 */
export function pinnedCutoff(size: number): number {
  return size * 2 + 1024 * 1024;
}

/**
 * The content-addressed store: blobs/sha256/<hex>, each written to tmp/ first, verified, then
 * renamed into place — so a crash or a bad download never leaves a visible half-written blob.
 */
export class Cas {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.tmpDir = path.join(root, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  blobPath(digest: string): string {
    return path.join(this.blobsDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A fresh path inside the store's filesystem, so the final rename is atomic; named for its
   * owner, so a later run can tell a killed process's leftover from a live build's file.
   */
  tempPath(suffix = ''): string {
    return path.join(this.tmpDir, `${OWNER}-${randomBytes(8).toString('hex')}${suffix}`);
  }

  /**
   * Stream into the store, hashing on the way; refuse the blob if it is not what was expected.
   * `verify` sees the complete temp file before the rename, for checks only the format knows.
   */
  async writeStream(
    source: Readable | AsyncIterable<Buffer>,
    expect?: { sha256?: string; size?: number; maxBytes?: number },
    verify?: (tmpFile: string) => Promise<void>,
  ): Promise<{ digest: Digest; size: number }> {
    const tmp = this.tempPath();
    const hash = createHash('sha256');
    let size = 0;
    // A source that sends far more than was pinned is cut off, not read to its (possible lack of an) end.
    const cutoff = Math.min(expect?.size !== undefined ? pinnedCutoff(expect.size) : Infinity, expect?.maxBytes ?? Infinity);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (size > cutoff) cb(new TooLargeError(cutoff, expect?.size));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp));
      const hex = hash.digest('hex');
      if (expect && ((expect.sha256 !== undefined && hexOf(expect.sha256) !== hex) || (expect.size !== undefined && expect.size !== size))) {
        throw new IntegrityError(expect.sha256 !== undefined ? hexOf(expect.sha256) : undefined, hex, expect.size, size);
      }
      if (verify) await verify(tmp);
      await rename(tmp, path.join(this.blobsDir, hex));
      return { digest: `sha256:${hex}`, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async writeBuffer(data: Buffer): Promise<{ digest: Digest; size: number }> {
    const hex = createHash('sha256').update(data).digest('hex');
    const final = path.join(this.blobsDir, hex);
    if (!(await this.has(hex))) {
      const tmp = this.tempPath();
      try {
        await writeFile(tmp, data);
        await rename(tmp, final);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    return { digest: `sha256:${hex}`, size: data.length };
  }

}

export function hexOf(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(7) : digest;
}
