import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { hexOf, type Cas } from './cas.js';

/**
 * Whether a blob still hashes to its name. A blob was verified when it entered the store; when
 * reading it fails later, this tells a damaged cache (delete and download again) from content
 * that was bad all along (a hostile or malformed package: downloading again cannot help).
 */
export async function blobIntact(cas: Cas, digest: string): Promise<boolean> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(cas.blobPath(digest)), hash);
  } catch {
    return false;
  }
  return hash.digest('hex') === hexOf(digest);
}
