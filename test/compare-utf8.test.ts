import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareUtf8 } from '../src/compareUtf8.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('compareUtf8', () => {
  it('orders like the UTF-8 bytes, for any well-formed strings', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', '/', '.', 'é', '\u{e000}', '\u{ffff}', '😀', '\u{10000}'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 8 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(byBytes(a, b));
      }),
      { seed: 0x150015, numRuns: 5000 },
    );
  });

  it('puts characters above U+FFFF after U+E000..U+FFFF, as their bytes do', () => {
    expect(['\u{10000}', '\u{ffff}', 'z', '\u{e000}'].sort(compareUtf8)).toEqual(['z', '\u{e000}', '\u{ffff}', '\u{10000}']);
    // JavaScript's own order puts the surrogate pair first: the case the function exists for.
    expect(['\u{ffff}', '\u{10000}'].sort()).toEqual(['\u{10000}', '\u{ffff}']);
  });
});
