import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { elfInfo, fileBytes, type ElfInfo } from '../../src/elf/elfInfo.js';
import type { ScratchPath } from '../types.js';

/** Libraries up to this size are read in memory; most are far smaller. */
const IN_MEMORY = 4 * 1024 * 1024;

/**
 * What ldconfig reads of a shared object (its ELF headers and dynamic section), taken as its bytes
 * stream by. The dynamic section can sit anywhere in the file (near the end of a 100 MB
 * libLLVM), so a large library is spooled to a temp file and read back by offset instead of
 * being held whole in memory.
 */
export class LibraryCapture {
  private readonly chunks: Buffer[] = [];
  private spool?: { file: string; fh: FileHandle; dir?: string };
  private size = 0;

  private constructor(
    private readonly large: boolean,
    private readonly scratch: ScratchPath | undefined,
  ) {}

  /** `scratch` names the spool file (the cache's tmp/); without it, a temp directory of its own. */
  static start(declaredSize: number, scratch?: ScratchPath): LibraryCapture {
    return new LibraryCapture(declaredSize > IN_MEMORY, scratch);
  }

  async add(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (!this.large) {
      this.chunks.push(chunk);
      return;
    }
    if (!this.spool) {
      const dir = this.scratch ? undefined : await mkdtemp(path.join(os.tmpdir(), 'layerpkg-elf-'));
      const file = this.scratch ? this.scratch('.elf') : path.join(dir!, 'lib');
      this.spool = { file, dir, fh: await open(file, 'w+') };
    }
    await this.spool.fh.write(chunk);
  }

  /** The library's ELF facts once every byte went by; the spool is gone afterwards. */
  async finish(): Promise<ElfInfo | undefined> {
    if (!this.spool) return elfInfo(Buffer.concat(this.chunks));
    try {
      return elfInfo(fileBytes(this.spool.fh.fd, this.size));
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    const spool = this.spool;
    this.spool = undefined;
    if (!spool) return;
    await spool.fh.close().catch(() => {});
    await rm(spool.dir ?? spool.file, { recursive: true, force: true });
  }
}
