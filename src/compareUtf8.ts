/**
 * Byte order of two strings' UTF-8 encodings (what `sort` in the C locale, tar writers and
 * dpkg use), without encoding them: a sort of 200,000 paths would otherwise make millions of
 * short-lived buffers. UTF-16 code units already sort like UTF-8 bytes except that surrogates
 * (characters from U+10000 up) sort below U+E000..U+FFFF; that one case is turned around.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
