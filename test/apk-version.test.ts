import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apkVersionSatisfies } from '../adapters/apk/dependency.js';
import { compareApkVersions, isValidApkVersion } from '../adapters/apk/version.js';

type Rel = 'lt' | 'eq' | 'gt';

function rel(n: number): Rel {
  return n < 0 ? 'lt' : n > 0 ? 'gt' : 'eq';
}

/**
 * apk-tools' own vectors (fixtures/apk/PROVENANCE.md), in its test/unit/version.data format:
 * `ver1 op ver2` (the comparison holds), `ver1 !op ver2` (it does not), `ver` (valid),
 * `!ver` (invalid); `#` starts a comment.
 */
interface Vector {
  line: number;
  text: string;
  check: () => boolean;
}

function loadVectors(): Vector[] {
  const data = readFileSync(new URL('../fixtures/apk/version.data', import.meta.url), 'utf8');
  const vectors: Vector[] = [];
  data.split('\n').forEach((raw, i) => {
    const text = (raw.split('#')[0] ?? '').trim();
    if (text === '') return;
    const parts = text.split(/\s+/);
    if (parts.length === 3) {
      const [a = '', opText = '', b = ''] = parts;
      const invert = opText.startsWith('!');
      const op = invert ? opText.slice(1) : opText;
      vectors.push({ line: i + 1, text, check: () => apkVersionSatisfies(a, op, b) !== invert });
    } else if (parts.length === 1) {
      const v = parts[0] ?? '';
      const invert = v.startsWith('!');
      const ver = invert ? v.slice(1) : v;
      vectors.push({ line: i + 1, text, check: () => isValidApkVersion(ver) !== invert });
    } else {
      throw new Error(`version.data line ${i + 1}: cannot parse ${JSON.stringify(raw)}`);
    }
  });
  return vectors;
}

describe('apk-tools version.data', () => {
  const vectors = loadVectors();

  it('has the whole data file', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(750);
    expect(vectors.filter((v) => /\s/.test(v.text)).length).toBeGreaterThanOrEqual(700);
  });

  it('agrees with every line', () => {
    const failures = vectors.filter((v) => !v.check()).map((v) => `line ${v.line}: ${v.text}`);
    expect(failures).toEqual([]);
  });

  it('is antisymmetric on every strict line', () => {
    const strict = vectors.filter((v) => / !?[<>] /.test(v.text));
    expect(strict.length).toBeGreaterThanOrEqual(700);
    const swapped = strict.filter((v) => {
      const [a = '', op = '', b = ''] = v.text.split(/\s+/);
      return op.startsWith('!') ? false : apkVersionSatisfies(b, op, a);
    });
    expect(swapped.map((v) => v.text)).toEqual([]);
  });

  it('can fail: a plain string comparison disagrees with many lines', () => {
    const naive = (a: string, op: string, b: string): boolean => {
      const c = a < b ? '<' : a > b ? '>' : '=';
      return op.includes(c);
    };
    const strict = vectors.filter((v) => / [<>=] /.test(v.text));
    const wrong = strict.filter((v) => {
      const [a = '', op = '', b = ''] = v.text.split(/\s+/);
      return !naive(a, op, b);
    });
    expect(wrong.length).toBeGreaterThan(20);
  });
});

const CASES: [string, Rel, string][] = [
  ['1.2.3-r0', 'eq', '1.2.3-r0'],
  ['1.2.3', 'eq', '1.2.3'],
  ['1.2.3-r1', 'gt', '1.2.3-r0'],
  ['1.2.3-r10', 'gt', '1.2.3-r9'],
  ['1.2.3', 'lt', '1.2.3-r0'],
  ['1.10', 'gt', '1.9'],
  ['1.2', 'lt', '1.2.0'],
  ['1.2a', 'gt', '1.2'],
  ['1.2a', 'lt', '1.2b'],
  ['1.2_alpha', 'lt', '1.2_beta'],
  ['1.2_beta', 'lt', '1.2_pre'],
  ['1.2_pre', 'lt', '1.2_rc'],
  ['1.2_rc1', 'lt', '1.2'],
  ['1.2', 'lt', '1.2_cvs'],
  ['1.2_cvs', 'lt', '1.2_svn'],
  ['1.2_svn', 'lt', '1.2_git'],
  ['1.2_git', 'lt', '1.2_hg'],
  ['1.2_hg', 'lt', '1.2_p'],
  ['1.2_p1', 'lt', '1.2_p2'],
  ['1.2_rc1', 'lt', '1.2_rc2'],
  ['1.2_rc2', 'lt', '1.2.1_rc1'],
  ['4.4.3_p1-r0', 'gt', '4.4.3-r9'],
  ['11.2.1_git20220219-r2', 'gt', '11.2.1-r2'],
  ['1.01', 'lt', '1.1'], // leading zero: string comparison
  ['1.01', 'gt', '1.009'],
  ['1.0~abc', 'lt', '1.0~abd'],
  ['1.0~abc-r1', 'gt', '1.0~abc-r0'],
  ['99999999999999999999', 'gt', '1'], // wraps modulo 2^64 like apk-tools' uint64_t
  ['18446744073709551616', 'lt', '1'], // 2^64 wraps to 0
  ['18446744073709551617', 'eq', '1'],
];

describe('compareApkVersions', () => {
  it.each(CASES)('%s %s %s', (a, expected, b) => {
    expect(rel(compareApkVersions(a, b))).toBe(expected);
    const reversed = expected === 'lt' ? 'gt' : expected === 'gt' ? 'lt' : 'eq';
    expect(rel(compareApkVersions(b, a))).toBe(reversed);
  });

  it('sorts real Alpine 3.16 versions', () => {
    const sorted = ['1.2.12-r3', '1.2.3-r2', '1.35.0-r17', '1.2.12-r1', '1.2.12_rc1-r0', '1.2.12_p1-r0'].sort(compareApkVersions);
    expect(sorted).toEqual(['1.2.3-r2', '1.2.12_rc1-r0', '1.2.12-r1', '1.2.12-r3', '1.2.12_p1-r0', '1.35.0-r17']);
  });
});

describe('isValidApkVersion', () => {
  it.each(['1', '1.2.3-r0', '4.4.3_p1-r0', '11.2.1_git20220219-r2', '2022.82-r1', '1.1.1s-r0', '59c-r3', '1.0~deadbeef-r1'])(
    'accepts %s',
    (v) => expect(isValidApkVersion(v)).toBe(true),
  );
  it.each(['', 'a', '1.', '1..2', '1.2-r', '1.2-1', '1.2_foo', '1.2ab', '1.2A', '1.2-r0-r1', '1.2 ', 'v1.2', '1.2~', '1.2~XYZ'])(
    'rejects %j',
    (v) => expect(isValidApkVersion(v)).toBe(false),
  );
});
