import { open, rm, type FileHandle } from 'node:fs/promises';
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
 * Layers are written sorted by path, but a package's tar is in its own order (and merged-/usr
 * moves /bin/* next to /usr/bin/*), so entries are staged first. Large bodies stream into one
 * append-only file instead of memory, so a 100 MB package costs disk pages, not heap.
 */
export class StagingArea {
  readonly entries = new Map<string, StagedEntry>();
  private offset = 0;

  private constructor(private readonly fh: FileHandle, readonly file: string) {}

  static async create(file: string): Promise<StagingArea> {
    return new StagingArea(await open(file, 'w+'), file);
  }

  /** Stage a package's entries; a later package's entry for the same path replaces the earlier one. */
  async add(source: AsyncIterable<UnpackedEntry>, owner: string): Promise<void> {
    for await (const { entry, body } of source) {
      const start = this.offset;
      let inline: Buffer | undefined;
      if (body && entry.size <= INLINE_LIMIT) {
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
        inline = Buffer.concat(chunks);
        entry.size = inline.length;
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
      this.entries.set(entry.path, { entry, offset: start, inline, owner });
    }
  }

  async read(staged: StagedEntry): Promise<Buffer> {
    if (staged.inline) return staged.inline;
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
