/**
 * A PAX extended header (typeflag 'x') carrying an entry's path and its extended attributes as
 * SCHILY.xattr records, the form GNU tar, Go's archive/tar (containers/storage, umoci) and
 * libarchive read. Values are raw bytes (security.capability is a binary struct), which
 * tar-stream's own PAX writer cannot hold: it writes values as UTF-8 text.
 */

const BLOCK = 512;

/** The header block, the records, and the padding to a whole block. */
export function paxExtendedHeader(path: string, xattrs: Record<string, Buffer>, mtime: Date): Buffer {
  // Names sorted, so the same attributes give the same bytes.
  const records = paxRecords([['path', Buffer.from(path)], ...Object.keys(xattrs).sort().map((name): [string, Buffer] => [`SCHILY.xattr.${name}`, xattrs[name]!])]);
  const padding = Buffer.alloc((BLOCK - (records.length % BLOCK)) % BLOCK);
  return Buffer.concat([headerBlock(records.length, mtime), records, padding]);
}

/** PAX records: "LEN KEY=VALUE\n", LEN counting the whole record, its own digits included. */
function paxRecords(records: [string, Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
      // Adding the digits can add a digit (rest 98 makes a record 100 long, not 100 + 2).
      let len = rest + String(rest).length;
      if (String(len).length > String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
    }),
  );
}

/** A ustar header block for the extended header itself, as tar-stream names its own ("PaxHeader"). */
function headerBlock(size: number, mtime: Date): Buffer {
  const b = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number, at: number) => b.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'ascii');
  b.write('PaxHeader', 0, 'ascii');
  octal(0o644, 8, 100);
  octal(0, 8, 108);
  octal(0, 8, 116);
  octal(size, 12, 124);
  octal(Math.floor(mtime.getTime() / 1000), 12, 136);
  b.write('x', 156, 'ascii');
  b.write('ustar\0' + '00', 257, 'ascii');
  octal(0, 8, 329);
  octal(0, 8, 337);
  // The checksum counts its own field as eight spaces.
  b.fill(0x20, 148, 156);
  const sum = b.reduce((acc, byte) => acc + byte, 0);
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}
