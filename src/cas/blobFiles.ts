import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** A file in blobs/sha256; `blob` is false for anything not named like one (a stray). */
export interface BlobFile {
  name: string;
  digest: string;
  file: string;
  size: number;
  mtimeMs: number;
  blob: boolean;
}

export async function listBlobs(blobsDir: string): Promise<BlobFile[]> {
  const names = await readdir(blobsDir).catch(() => [] as string[]);
  const out: BlobFile[] = [];
  for (const name of names.sort()) {
    const file = path.join(blobsDir, name);
    const st = await lstat(file).catch(() => undefined);
    if (!st) continue; // removed meanwhile (a concurrent gc)
    out.push({ name, digest: `sha256:${name}`, file, size: st.size, mtimeMs: st.mtimeMs, blob: st.isFile() && /^[0-9a-f]{64}$/.test(name) });
  }
  return out;
}

/** The sha256 of a file, streamed: blobs can be gigabytes. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

/** Bytes and files under a directory (recursively), for `cache ls`. */
export async function treeSize(dir: string): Promise<{ count: number; bytes: number }> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  let count = 0;
  let bytes = 0;
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await lstat(path.join(e.parentPath, e.name)).catch(() => undefined);
    if (!st) continue;
    count++;
    bytes += st.size;
  }
  return { count, bytes };
}
