/**
 * A minimal reader for the small in-memory tars of apk files (signature and control streams,
 * APKINDEX). apk writes them without end-of-archive blocks, because the next gzip member
 * continues the same tar; a general tar reader would report them as truncated.
 */

export interface TarFile {
  name: string;
  data: Buffer;
}

const BLOCK = 512;

function tarString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/**
 * The regular files of a ustar archive, in order; other entry types (PAX headers, directories)
 * are skipped. Tolerates a missing end-of-archive marker but not a header whose checksum is
 * wrong or a short body. Throws a plain Error prefixed with `what`; callers wrap it in a
 * UserError naming the file.
 */
export function readTar(bytes: Buffer, what: string): TarFile[] {
  const files: TarFile[] = [];
  let pos = 0;
  while (pos + BLOCK <= bytes.length) {
    const header = bytes.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    const stored = parseInt(tarString(header, 148, 8).trim() || 'x', 8);
    if (stored !== sum) throw new Error(`${what}: bad tar header checksum at byte ${pos}`);
    const size = parseInt(tarString(header, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${what}: bad tar entry size at byte ${pos}`);
    const type = String.fromCharCode(header[156]!);
    const magic = tarString(header, 257, 6);
    const prefix = magic === 'ustar' ? tarString(header, 345, 155) : '';
    const name = prefix ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100);
    const bodyStart = pos + BLOCK;
    if (bodyStart + size > bytes.length) throw new Error(`${what}: tar entry "${name}" is truncated`);
    if (type === '0' || type === '\0') files.push({ name, data: bytes.subarray(bodyStart, bodyStart + size) });
    pos = bodyStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
