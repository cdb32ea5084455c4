/**
 * A minimal DER reader/writer: just enough to walk an X.509 certificate or CRL down to its
 * Names and re-encode them the way OpenSSL canonicalises them. Definite lengths only (DER).
 */

export interface Tlv {
  /** Identifier octet(s) exactly as encoded (so tags round-trip without a tag-class model). */
  tag: Buffer;
  /** Universal/low tag number for single-octet tags (tag[0] & 0x1f), else -1. */
  tagNumber: number;
  tagClass: number;
  constructed: boolean;
  /** Offsets into the buffer the TLV was read from. */
  start: number;
  contentStart: number;
  end: number;
  content: Buffer;
  /** The whole TLV (identifier + length + content). */
  raw: Buffer;
}

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

function byteAt(buf: Buffer, i: number): number {
  const b = buf[i];
  if (b === undefined) throw new DerError(`truncated at offset ${i}`);
  return b;
}

export function readTlv(buf: Buffer, offset: number): Tlv {
  const start = offset;
  const first = byteAt(buf, offset++);
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    // High-tag-number form: base-128 continuation octets. Not used by X.509 Names, but skip it correctly.
    while (byteAt(buf, offset++) & 0x80) {
      /* continue */
    }
    tagNumber = -1;
  }
  const tag = buf.subarray(start, offset);
  const lenByte = byteAt(buf, offset++);
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else if (lenByte === 0x80) {
    throw new DerError(`indefinite length at offset ${start}`);
  } else {
    const n = lenByte & 0x7f;
    if (n > 4) throw new DerError(`length of ${n} octets at offset ${start}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + byteAt(buf, offset++);
  }
  const contentStart = offset;
  const end = contentStart + length;
  if (end > buf.length) throw new DerError(`content overruns buffer at offset ${start}`);
  return {
    tag,
    tagNumber,
    tagClass: first >> 6,
    constructed: (first & 0x20) !== 0,
    start,
    contentStart,
    end,
    content: buf.subarray(contentStart, end),
    raw: buf.subarray(start, end),
  };
}

/** The TLVs directly inside a constructed TLV. */
export function children(tlv: Tlv): Tlv[] {
  if (!tlv.constructed) throw new DerError('children() of a primitive value');
  const out: Tlv[] = [];
  let off = 0;
  while (off < tlv.content.length) {
    const child = readTlv(tlv.content, off);
    out.push(child);
    off = child.end;
  }
  return out;
}

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes a TLV with a single-octet identifier and a minimal (DER) length. */
export function encodeTlv(identifier: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([identifier]), encodeLength(content.length), content]);
}

/** OpenSSL's der_cmp for SET OF: memcmp over the common prefix, then shorter first. */
export function derCompare(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  const c = Buffer.compare(a.subarray(0, n), b.subarray(0, n));
  return c !== 0 ? c : a.length - b.length;
}

export const DER_TAG = {
  INTEGER: 0x02,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0_CONSTRUCTED: 0xa0,
} as const;
