import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../src/cas/jsonChunks.js';

const text = (value: unknown): string => Buffer.concat([...jsonChunks(value)]).toString('utf8');

describe('jsonChunks', () => {
  it('gives the text JSON.stringify gives, for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
        expect(text(v)).toBe(JSON.stringify(v));
      }), { seed: 0x150016, numRuns: 2000 });
  });

  it('does so for package metadata: long path lists, nested objects, left-out and odd fields', () => {
    const files = Array.from({ length: 5000 }, (_, i) => `/usr/share/é/${i}\n"q"`);
    const meta = [
      { name: 'a', files, paths: files.map((f) => f.slice(1)), gone: undefined, dirs: [{ path: 'usr', mode: 493 }], captured: { 'etc/x': 'YQ==' } },
      { name: 'b', files: [], list: [1, undefined, null, 'x'], nested: Array.from({ length: 3000 }, (_, i) => ({ i, skip: undefined })) },
    ];
    expect(text(meta)).toBe(JSON.stringify(meta));
  });

  it('sends a long list in pieces, not one piece of it all', () => {
    const pieces = [...jsonChunks({ files: Array.from({ length: 10_000 }, (_, i) => `/f${i}`) })];
    expect(pieces.length).toBeGreaterThan(10);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(16 * 1024);
  });
});
