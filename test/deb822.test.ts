import { describe, expect, it } from 'vitest';
import { Paragraph, formatParagraph, parseDeb822 } from '../adapters/deb/deb822.js';
import { UserError } from '../src/errors.js';

// A dpkg status entry in the shape dpkg writes it: multi-line values with " ." blank lines,
// an empty first line (Conffiles), and a tab-indented continuation.
const STATUS = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u13
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 31de2c2f2a4a6a9a3b4bc1d1b9b1d8a0
 /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files.
 .
\tTab-indented continuation kept as is.
Homepage: https://tracker.debian.org/pkg/base-files
`;

const TWO = `Package: a
Version: 1

Package: b
Version: 2
`;

describe('parseDeb822', () => {
  it('round-trips multi-line values byte for byte', () => {
    const [p] = parseDeb822(STATUS, 'status');
    expect(p).toBeDefined();
    expect(formatParagraph(p!.fields)).toBe(STATUS);
    expect(p!.get('Conffiles')).toBe(
      '\n /etc/debian_version 31de2c2f2a4a6a9a3b4bc1d1b9b1d8a0\n /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6',
    );
    expect(p!.get('Description')!.split('\n')).toEqual([
      'Debian base system miscellaneous files',
      ' This package contains the basic filesystem hierarchy of a Debian system, and',
      ' several important miscellaneous files.',
      ' .',
      "\tTab-indented continuation kept as is.",
    ]);
  });

  it('round-trips a whole file of paragraphs joined by blank lines', () => {
    const text = `${STATUS}\n${TWO}`;
    const ps = parseDeb822(text);
    expect(ps).toHaveLength(3);
    expect(ps.map((p) => formatParagraph(p.fields)).join('\n')).toBe(text);
  });

  it('keeps field names and order, looks them up case-insensitively', () => {
    const [p] = parseDeb822('Package: x\nMulti-Arch: same\nVERSION: 1.0\n');
    expect(p!.fields.map(([k]) => k)).toEqual(['Package', 'Multi-Arch', 'VERSION']);
    expect(p!.get('multi-arch')).toBe('same');
    expect(p!.get('MULTI-ARCH')).toBe('same');
    expect(p!.get('Version')).toBe('1.0');
    expect(p!.get('Depends')).toBeUndefined();
  });

  it('trims the first line only and accepts "Name:value"', () => {
    const [p] = parseDeb822('A:value\nB: \t spaced \t\nC:\n  two-space continuation  \n');
    expect(p!.get('A')).toBe('value');
    expect(p!.get('B')).toBe('spaced');
    expect(p!.get('C')).toBe('\n  two-space continuation  ');
  });

  it('splits on blank and whitespace-only lines, ignores extra separators and a missing final newline', () => {
    const ps = parseDeb822('\n\nPackage: a\n\n \n\t\nPackage: b\nVersion: 2');
    expect(ps.map((p) => p.get('Package'))).toEqual(['a', 'b']);
    expect(ps[1]!.get('Version')).toBe('2');
  });

  it('skips # comment lines, even between continuation lines', () => {
    const ps = parseDeb822('# leading comment\nSource: x\n# between fields\nBuild-Depends: a,\n# inside a value\n b\n\n# alone\n\nPackage: y\n');
    expect(ps).toHaveLength(2);
    expect(ps[0]!.fields).toEqual([
      ['Source', 'x'],
      ['Build-Depends', 'a,\n b'],
    ]);
    expect(ps[1]!.get('Package')).toBe('y');
  });

  it('joins values split by comments or with a trimmed first line', () => {
    const text = 'A: one  \n two\n# c1\n three\n# c2\n# c3\n four\nB: x\n';
    const [p] = parseDeb822(text);
    expect(p!.fields).toEqual([
      ['A', 'one\n two\n three\n four'],
      ['B', 'x'],
    ]);
    expect(p!.get('a')).toBe('one\n two\n three\n four');
  });

  it('builds paragraphs by hand with the same lookup rules', () => {
    const p = new Paragraph([
      ['Package', 'x'],
      ['package', 'y'],
      ['Version', '1'],
    ]);
    expect(p.get('PACKAGE')).toBe('x');
    expect(p.get('version')).toBe('1');
    expect(p.get('Depends')).toBeUndefined();
    expect(formatParagraph(p.fields)).toBe('Package: x\npackage: y\nVersion: 1\n');
  });

  it('tolerates CRLF line ends in first lines', () => {
    const [p] = parseDeb822('Package: a\r\nVersion: 1\r\n\r\n');
    expect(p!.get('Package')).toBe('a');
    expect(p!.get('Version')).toBe('1');
  });

  it('returns the first of duplicated fields', () => {
    const [p] = parseDeb822('Package: a\npackage: b\n');
    expect(p!.get('Package')).toBe('a');
  });

  it('rejects a line without a colon, naming the source and line', () => {
    const err = (() => {
      try {
        parseDeb822('Package: a\nnot a field\n', 'http://example.org/Packages');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('http://example.org/Packages:2');
    expect((err as UserError).message).toContain('not a field');
  });

  it('rejects a continuation line before any field', () => {
    expect(() => parseDeb822(' orphan\nPackage: a\n', 'status')).toThrow(UserError);
    expect(() => parseDeb822('Package: a\n\n continuation of nothing\n', 'status')).toThrow(/status:3: continuation line before any field/);
  });

  it('rejects field names containing spaces, and empty field names', () => {
    expect(() => parseDeb822('Bad Name: x\n', 'control')).toThrow(/control:1: field names cannot contain spaces/);
    expect(() => parseDeb822('A: 1\n: x\n', 'control')).toThrow(/control:2: expected "Field: value"/);
  });

  it('parses a large synthetic Packages file quickly (printed, not asserted)', () => {
    const para = (i: number): string =>
      `Package: pkg${i}\nVersion: 1.${i}-1\nInstalled-Size: ${i}\nMaintainer: Someone <a@example.org>\n` +
      `Architecture: amd64\nDepends: libc6 (>= 2.34), libfoo${i} (= 1.${i}-1) | bar\n` +
      `Description: package ${i}\n Long description line one.\n .\n Line three.\n` +
      `Homepage: https://example.org/${i}\nSection: misc\nPriority: optional\n` +
      `Filename: pool/main/p/pkg${i}/pkg${i}_1.${i}-1_amd64.deb\nSize: ${1000 + i}\n` +
      `SHA256: ${'ab'.repeat(32)}\n`;
    const parts: string[] = [];
    for (let i = 0; i < 63_000; i++) parts.push(para(i));
    const text = parts.join('\n');
    const t0 = performance.now();
    const ps = parseDeb822(text, 'synthetic');
    const t1 = performance.now();
    let found = 0;
    for (const p of ps) if (p.get('Package') && p.get('SHA256') && p.get('Essential') === undefined) found++;
    const t2 = performance.now();
    console.log(
      `deb822: ${ps.length} paragraphs, ${(text.length / 1e6).toFixed(1)} MB parsed in ${(t1 - t0).toFixed(0)} ms, 3 lookups each in ${(t2 - t1).toFixed(0)} ms`,
    );
    expect(found).toBe(63_000);
  });
});
