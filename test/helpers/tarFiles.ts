import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** One tar entry with its header fields normalized and its body read whole. */
export interface TarFile {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  pax: Record<string, string>;
  body: Buffer;
}

/** Every entry of an (uncompressed) tar, in order, read with tar-stream: for tests only. */
export async function readTarFiles(bytes: Buffer): Promise<TarFile[]> {
  const extract = tar.extract();
  Readable.from([bytes]).pipe(extract);
  const out: TarFile[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.push({
      name: h.name,
      type: h.type ?? 'file',
      mode: h.mode ?? 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      uname: h.uname ?? '',
      gname: h.gname ?? '',
      mtime: (h.mtime?.getTime() ?? 0) / 1000,
      ...(h.linkname ? { linkname: h.linkname } : {}),
      pax: (h.pax ?? {}) as Record<string, string>,
      body: Buffer.concat(chunks),
    });
  }
  return out;
}
