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
/** Spilled bodies up to this size are read back whole; larger ones stream. */
const READ_WHOLE = 1024 * 1024;
/**
 * Spilled bytes go to the file, and come back from it, this many at a time: a package of many
 * small files would otherwise cost two thread-pool round trips per file (200,000 files: ~60 s).
 */
const IO_BLOCK = 4 * 1024 * 1024;

/**
 * What the inline bodies of all layers being made may hold together; past it, small bodies spill
 * to the staging file too. One budget for the process, not one per layer: layers are made several
 * at a time (more on a machine with more cores), and the build's memory must not grow with them
 * or with what a package holds (a hostile one of a million 60 KiB files).
 */
export class InlineBudget {
  private used = 0;
  constructor(readonly bytes: number) {}

  take(size: number): boolean {
    if (this.used + size > this.bytes) return false;
    this.used += size;
    return true;
  }

  give(size: number): void {
    this.used -= size;
  }
}

const EMPTY = Buffer.alloc(0);
const PROCESS_INLINE_BUDGET = new InlineBudget(16 * 1024 * 1024);

/**
 * Layers are written sorted by path, but a package's tar is in its own order (and merged-/usr
 * moves /bin/* next to /usr/bin/*), so entries are staged first. Large bodies stream into one
 * append-only file instead of memory, so a 100 MB package costs disk pages, not heap.
 */
export class StagingArea {
  readonly entries = new Map<string, StagedEntry>();
  private offset = 0;
  private inlineBytes = 0;
  /** Spilled bytes not yet written, copied here (not kept as the reader's chunks, which pin larger buffers). */
  private unwritten = { block: Buffer.allocUnsafe(IO_BLOCK), bytes: 0 };
  /** The block last read back, for the small bodies next to the one that was asked for. */
  private window: { start: number; bytes: Buffer } = { start: 0, bytes: Buffer.alloc(0) };

  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    private readonly budget: InlineBudget,
  ) {}

  static async create(file: string, budget: InlineBudget = PROCESS_INLINE_BUDGET): Promise<StagingArea> {
    return new StagingArea(await open(file, 'w+'), file, budget);
  }

  /** Stage a package's entries; a later package's entry for the same path replaces the earlier one. */
  async add(source: AsyncIterable<UnpackedEntry>, owner: string): Promise<void> {
    for await (const { entry, body } of source) {
      const start = this.offset;
      let inline: Buffer | undefined;
      if (body && entry.size <= INLINE_LIMIT && this.budget.take(entry.size)) {
        // Counted at once, so dispose() returns it to the budget even if the body fails.
        this.inlineBytes += entry.size;
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          chunks.push(chunk);
          size += chunk.length;
          // A body longer than its header said is written by the header's size; never buffer past that.
          if (size > INLINE_LIMIT) throw new Error(`${entry.path}: the body runs past the size its header gives (${entry.size})`);
        }
        // One shared empty buffer: a package of many empty files would otherwise make a buffer each.
        inline = size === 0 ? EMPTY : Buffer.concat(chunks, size);
        // What was taken was the header's size; the budget keeps what is really held.
        this.inlineBytes += inline.length - entry.size;
        this.budget.give(entry.size - inline.length);
        entry.size = inline.length;
      } else if (body) {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          for (let at = 0; at < chunk.length; ) {
            const copied = chunk.copy(this.unwritten.block, this.unwritten.bytes, at);
            at += copied;
            this.unwritten.bytes += copied;
            this.offset += copied;
            if (this.unwritten.bytes === IO_BLOCK) await this.flush();
          }
        }
        entry.size = this.offset - start;
      }
      const previous = this.entries.get(entry.path);
      // Directories shipped by several packages are one directory; the first one's metadata stays.
      if (previous && previous.entry.type === 'directory' && entry.type === 'directory') continue;
      if (previous?.inline) {
        this.inlineBytes -= previous.inline.length;
        this.budget.give(previous.inline.length);
      }
      this.entries.set(entry.path, { entry, offset: start, inline, owner });
    }
    await this.flush();
  }

  private async flush(): Promise<void> {
    const { block, bytes } = this.unwritten;
    for (let done = 0; done < bytes; ) done += (await this.fh.write(block, done, bytes - done, this.offset - bytes + done)).bytesWritten;
    this.unwritten.bytes = 0;
  }

  /**
   * A staged body: the buffer when inline; up to READ_WHOLE, a slice of a block read from the
   * staging file (packages are mostly in path order already, so the next bodies are in the same
   * block); else a stream of its range, so a body of any size costs a megabyte at a time.
   */
  async read(staged: StagedEntry): Promise<Buffer | Readable> {
    if (staged.inline) return staged.inline;
    const { offset, entry } = staged;
    if (entry.size > READ_WHOLE) {
      return createReadStream(this.file, { start: offset, end: offset + entry.size - 1, highWaterMark: READ_WHOLE });
    }
    const at = offset - this.window.start;
    if (at < 0 || at + entry.size > this.window.bytes.length) {
      this.window = { start: offset, bytes: await this.readBlock(offset, Math.min(Math.max(IO_BLOCK, entry.size), this.offset - offset)) };
    }
    const from = offset - this.window.start;
    return this.window.bytes.subarray(from, from + entry.size);
  }

  private async readBlock(start: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, start + done);
      if (bytesRead === 0) throw new Error(`staging file ${this.file} is truncated`);
      done += bytesRead;
    }
    return buf;
  }

  /** Close and remove the staging file; the inline bodies go back to the budget. */
  async dispose(): Promise<void> {
    this.budget.give(this.inlineBytes);
    this.inlineBytes = 0;
    await this.fh.close();
    await rm(this.file, { force: true });
  }
}
