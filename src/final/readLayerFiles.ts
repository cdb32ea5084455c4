/**
 * Regular files read back out of a layer blob in the CAS (gzip'd tar, as writeLayer makes it).
 * The final layer needs them to copy a packaged file whose owner or mode a script changes; only
 * the named paths are kept, everything else streams past.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { relativeName } from '../../adapters/tarEntries.js';
import type { Cas } from '../cas/cas.js';
import { UserError } from '../errors.js';

export interface LayerFile {
  /** A regular file's bytes; undefined for a path the layer holds as something else (a symlink). */
  content?: Buffer;
  type: 'file' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/**
 * The entries at `paths` in the layer `digest`. A hard link is answered with its target's bytes
 * and the link's own header, as extraction would leave it; writeLayer puts targets first, but a
 * target that was not asked for has gone by, so such links are read in a second pass.
 */
export async function readLayerFiles(cas: Cas, digest: string, paths: ReadonlySet<string>): Promise<Map<string, LayerFile>> {
  const found = new Map<string, LayerFile>();
  const links = new Map<string, { target: string; header: LayerFile }>();
  await scan(
    cas,
    digest,
    (rel, h) => {
      if (!paths.has(rel)) return false;
      const header = headerOf(h);
      if (h.type === 'link') links.set(rel, { target: relativeName(h.linkname ?? '', digest), header });
      else found.set(rel, header);
      return header.type === 'file' && h.type !== 'link';
    },
    (rel, content) => (found.get(rel)!.content = content),
  );
  const missing = new Set([...links.values()].map((l) => l.target).filter((t) => !found.has(t)));
  const targets = new Map<string, Buffer>();
  if (missing.size) await scan(cas, digest, (rel) => missing.has(rel), (rel, content) => targets.set(rel, content));
  for (const [rel, { target, header }] of links) {
    const content = found.get(target)?.content ?? targets.get(target);
    if (content !== undefined) found.set(rel, { ...header, type: 'file', content });
  }
  return found;
}

/** Streams the layer once; `want` says whether to keep an entry's body, `kept` receives it. */
async function scan(
  cas: Cas,
  digest: string,
  want: (rel: string, h: tar.Header) => boolean,
  kept: (rel: string, content: Buffer) => void,
): Promise<void> {
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const rel = relativeName(entry.header.name, digest);
      if (!want(rel, entry.header)) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      kept(rel, Buffer.concat(chunks));
    }
  })();
  const file = cas.blobPath(digest);
  await Promise.all([pipeline(createReadStream(file), createGunzip(), extract as unknown as NodeJS.WritableStream), reading]).catch((e: Error) => {
    // The blob was verified when written: a read failure means the cache was damaged since.
    throw new UserError(`${file}: the cached layer cannot be read (${e.message}); delete that file and build again`);
  });
}

function headerOf(h: tar.Header): LayerFile {
  const type = h.type === 'file' || h.type === 'contiguous-file' || h.type === 'link' ? 'file' : h.type === 'symlink' ? 'symlink' : 'other';
  return { type, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000) };
}
