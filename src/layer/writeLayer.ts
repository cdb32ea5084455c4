import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import tar from 'tar-stream';
import type { LayerEntry } from '../../adapters/types.js';
import type { Cas } from '../cas/cas.js';
import { paxExtendedHeader } from './paxExtendedHeader.js';

export interface LayerItem {
  entry: LayerEntry;
  /**
   * The body of a regular file, read only when the writer reaches it: a buffer, or a stream of
   * exactly `entry.size` bytes for a large one (never held whole in memory).
   */
  content?: () => Promise<Buffer | Readable>;
}

export interface WrittenLayer {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId: string;
  /** sha256 of the gzip blob (the manifest's layer digest). */
  digest: string;
  size: number;
}

export interface LayerWriteOptions {
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH); undefined keeps them as the package has them. */
  mtimeClamp?: number;
  gzipLevel?: number;
}

const TAR_TYPE: Record<LayerEntry['type'], tar.Header['type']> = {
  file: 'file',
  directory: 'directory',
  symlink: 'symlink',
  hardlink: 'link',
  'character-device': 'character-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

/**
 * Write already-ordered entries as a deterministic tar: numeric ids only (empty uname/gname),
 * no atime/ctime, PAX only for long or non-ASCII names and extended attributes; then gzip it
 * into the CAS, hashing both the tar (diff_id) and the blob (digest) in the same pass.
 */
export async function writeLayer(cas: Cas, items: Iterable<LayerItem>, opts: LayerWriteOptions = {}): Promise<WrittenLayer> {
  const pack = tar.pack();
  const tarHash = createHash('sha256');
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tarHash.update(chunk);
      cb(null, chunk);
    },
  });
  const gzip = createGzip({ level: opts.gzipLevel ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  // tar-stream's pack is a streamx stream: bridge it into a Node pipeline by hand, forwarding its
  // errors, so a failed entry tears down the whole chain and the CAS drops its temp file.
  const tarStream = new PassThrough();
  (pack as unknown as NodeJS.ReadableStream).pipe(tarStream);
  pack.on('error', (e: Error) => tarStream.destroy(e));
  const compressed = new PassThrough();
  const piping = pipeline(tarStream, meter, gzip, compressed);
  const stored = cas.writeStream(compressed);

  const producing = (async () => {
    for (const { entry, content } of items) {
      const body = entry.type === 'file' && content ? await content() : undefined;
      const header = tarHeader(entry, opts.mtimeClamp);
      if (entry.xattrs && Object.keys(entry.xattrs).length) {
        // tar-stream writes PAX values as UTF-8 text and takes no body for its own PAX entries;
        // an attribute's value is bytes. So this entry's extended header, with its path, goes
        // into the stream here, between two entries, and the entry itself then fits ustar.
        pack.push(paxExtendedHeader(header.name, entry.xattrs, header.mtime ?? new Date(0)));
        if (!fitsUstar(header.name)) header.name = 'PaxHeader';
      }
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (Buffer.isBuffer(body)) pack.entry(header, body, cb);
        else if (body) streamInto(pack.entry(header, cb), body).catch(reject);
        else pack.entry(header, cb);
      });
    }
    pack.finalize();
  })();
  producing.catch((e: Error) => pack.destroy(e));
  // Wait for every part to settle, so no temp file is still open when the error surfaces.
  const [written, ...rest] = await Promise.allSettled([stored, producing, piping]);
  const failed = [written, ...rest].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed || written.status !== 'fulfilled') throw failed?.reason;
  return { diffId: `sha256:${tarHash.digest('hex')}`, digest: written.value.digest, size: written.value.size };
}

/** tar-stream's entry sink (a streamx Writable): what streamInto uses of it. */
interface EntrySink {
  write(chunk: Buffer): boolean;
  end(data?: unknown): unknown;
  destroyed: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Until the sink takes more, or is torn down; the listener that did not fire is removed. */
function drainedOrClosed(sink: EntrySink): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.once('drain', done);
    sink.once('close', done);
  });
}

/** Copy a body into its tar entry, waiting whenever the tar side is full; stop if it is torn down. */
async function streamInto(sink: EntrySink, body: Readable): Promise<void> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (sink.destroyed) return;
    if (!sink.write(chunk)) await drainedOrClosed(sink);
  }
  sink.end();
}

function tarHeader(e: LayerEntry, clamp: number | undefined): tar.Header {
  const mtime = clamp === undefined ? e.mtime : Math.min(e.mtime, clamp);
  return {
    name: e.type === 'directory' ? `${e.path}/` : e.path,
    type: TAR_TYPE[e.type],
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    uname: '',
    gname: '',
    size: e.type === 'file' ? e.size : 0,
    mtime: new Date(mtime * 1000),
    linkname: e.linkname ?? '',
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  };
}

/** Whether a name goes in a ustar header as it is (ASCII, 100 bytes); longer ones come from PAX. */
function fitsUstar(name: string): boolean {
  return /^[\x20-\x7e]*$/.test(name) && name.length <= 100;
}
