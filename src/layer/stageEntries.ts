import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { LayerEntry, UnpackedEntry } from '../../adapters/types.js';

/** An entry waiting to be written: a small body in memory, a large one in the staging file. */
export interface StagedEntry {
  entry: LayerEntry;
  /** Where a spilled body starts in the staging file. */
  offset: number;
  /** A small body, kept in memory. */
  inline?: Buffer;
  /** Which of the layer's packages wrote it, for error messages. */
  owner: string;
}

/** Bodies up to this size stay in memory: most files are small, and a write+read per file is costly. */
const INLINE_LIMIT = 64 * 1024;
/**
 * What all inline bodies of one layer may hold together; past it, small bodies spill to the
 * file too. Layers are made a few at a time, so this bounds the build's memory whatever a
 * package holds (a hostile one of a million 60 KiB files would otherwise stay in memory whole).
 */
const INLINE_BUDGET = 16 * 1024 * 1024;
/** Spilled bodies up to this size are read back whole; larger ones stream. */
const READ_WHOLE = 1024 * 1024;

/**
 * Layers are written sorted by path, but a package's tar is in its own order (and merged-/usr
 * moves /bin/* next to /usr/bin/*), so entries are staged first. Large bodies stream into one
 * append-only file instead of memory, so a 100 MB package costs disk pages, not heap.
 */
export class StagingArea {
  readonly entries = new Map<string, StagedEntry>();
  private offset = 0;
  private inlineBytes = 0;

  private constructor(private readonly fh: FileHandle, readonly file: string) {}

  static async create(file: string): Promise<StagingArea> {
    return new StagingArea(await open(file, 'w+'), file);
  }

  /** Stage a package's entries; a later package's entry for the same path replaces the earlier one. */
  async add(source: AsyncIterable<UnpackedEntry>, owner: string): Promise<void> {
    for await (const { entry, body } of source) {
      const start = this.offset;
      let inline: Buffer | undefined;
      if (body && entry.size <= INLINE_LIMIT && this.inlineBytes + entry.size <= INLINE_BUDGET) {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          chunks.push(chunk);
          size += chunk.length;
          // A body longer than its header said is written by the header's size; never buffer past that.
          if (size > INLINE_LIMIT) throw new Error(`${entry.path}: the body runs past the size its header gives (${entry.size})`);
        }
        inline = Buffer.concat(chunks);
        entry.size = inline.length;
        this.inlineBytes += inline.length;
      } else if (body) {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          await this.fh.write(chunk, 0, chunk.length, this.offset);
          this.offset += chunk.length;
        }
        entry.size = this.offset - start;
      }
      const previous = this.entries.get(entry.path);
      // Directories shipped by several packages are one directory; the first one's metadata stays.
      if (previous && previous.entry.type === 'directory' && entry.type === 'directory') continue;
      if (previous?.inline) this.inlineBytes -= previous.inline.length;
      this.entries.set(entry.path, { entry, offset: start, inline, owner });
    }
  }

  /**
   * A staged body: the buffer when inline; read whole from the staging file up to READ_WHOLE
   * (one read beats a stream for a medium file); else a stream of its range, so a body of any
   * size costs a megabyte of memory at a time.
   */
  async read(staged: StagedEntry): Promise<Buffer | Readable> {
    if (staged.inline) return staged.inline;
    if (staged.entry.size > READ_WHOLE) {
      return createReadStream(this.file, { start: staged.offset, end: staged.offset + staged.entry.size - 1, highWaterMark: READ_WHOLE });
    }
    const buf = Buffer.allocUnsafe(staged.entry.size);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, staged.offset + done);
      if (bytesRead === 0) throw new Error(`staging file ${this.file} is truncated`);
      done += bytesRead;
    }
    return buf;
  }

  async dispose(): Promise<void> {
    await this.fh.close();
    await rm(this.file, { force: true });
  }
}
