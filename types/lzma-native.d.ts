// lzma-native ships no types; layerpkg uses only its streaming decompressor.
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  const lzma: { createDecompressor(options?: { threads?: number }): Transform };
  export default lzma;
}
