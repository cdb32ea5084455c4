import { describe, expect, it } from 'vitest';
import { formatDependencyGroup, parseProvides, parseRelationField, versionSatisfies } from '../adapters/deb/relations.js';
import { UserError } from '../src/errors.js';

describe('parseRelationField', () => {
  it('parses python3 (bookworm 3.11.2-1+b1) Pre-Depends and Depends', () => {
    expect(parseRelationField('python3-minimal (= 3.11.2-1+b1)')).toEqual([[{ name: 'python3-minimal', op: '=', version: '3.11.2-1+b1' }]]);
    expect(parseRelationField('python3.11 (>= 3.11.2-1~), libpython3-stdlib (= 3.11.2-1+b1)')).toEqual([
      [{ name: 'python3.11', op: '>=', version: '3.11.2-1~' }],
      [{ name: 'libpython3-stdlib', op: '=', version: '3.11.2-1+b1' }],
    ]);
  });

  it('parses alternatives', () => {
    expect(parseRelationField('awk | mawk')).toEqual([[{ name: 'awk' }, { name: 'mawk' }]]);
    expect(parseRelationField('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0')).toEqual([
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'debconf', op: '>=', version: '0.5' }, { name: 'debconf-2.0' }],
    ]);
  });

  it('keeps epochs and repeated names (libc-bin: libc6 (>> 2.36), libc6 (<< 2.37))', () => {
    expect(parseRelationField('zlib1g (>= 1:1.1.4)')).toEqual([[{ name: 'zlib1g', op: '>=', version: '1:1.1.4' }]]);
    expect(parseRelationField('libc6 (>> 2.36), libc6 (<< 2.37)')).toEqual([
      [{ name: 'libc6', op: '>>', version: '2.36' }],
      [{ name: 'libc6', op: '<<', version: '2.37' }],
    ]);
  });

  it('parses architecture qualifiers', () => {
    expect(parseRelationField('python3:any, perl:any (>= 5.10), gcc:amd64, make:native')).toEqual([
      [{ name: 'python3', archQualifier: 'any' }],
      [{ name: 'perl', archQualifier: 'any', op: '>=', version: '5.10' }],
      [{ name: 'gcc', archQualifier: 'amd64' }],
      [{ name: 'make', archQualifier: 'native' }],
    ]);
    expect(parseRelationField('gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64')).toEqual([
      [{ name: 'gcc-x86-64-linux-gnu', op: '>=', version: '4:10.2' }, { name: 'gcc', archQualifier: 'amd64' }],
    ]);
  });

  it('normalizes obsolete < and > to <= and >=', () => {
    expect(parseRelationField('a (< 1), b (> 2), c (<= 3), d (>= 4), e (<< 5), f (>> 6), g (= 7)')).toEqual([
      [{ name: 'a', op: '<=', version: '1' }],
      [{ name: 'b', op: '>=', version: '2' }],
      [{ name: 'c', op: '<=', version: '3' }],
      [{ name: 'd', op: '>=', version: '4' }],
      [{ name: 'e', op: '<<', version: '5' }],
      [{ name: 'f', op: '>>', version: '6' }],
      [{ name: 'g', op: '=', version: '7' }],
    ]);
  });

  it('tolerates folded lines and odd whitespace', () => {
    const field = 'libc6 (>= 2.34),\n libfoo1(>=1.0)  |libbar1 ( << 2:3~ ) ,\n\tbaz\n';
    expect(parseRelationField(field)).toEqual([
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [
        { name: 'libfoo1', op: '>=', version: '1.0' },
        { name: 'libbar1', op: '<<', version: '2:3~' },
      ],
      [{ name: 'baz' }],
    ]);
  });

  it('strips architecture restrictions and build profiles (source packages)', () => {
    const field =
      'debhelper-compat (= 13), libselinux1-dev (>= 1.28-4) [linux-any], libfoo-dev [amd64 !i386] <!nocheck> <cross pkg.foo.bar>, ' +
      'python3:native <!nopython>, bar [!hurd-any] | baz,';
    expect(parseRelationField(field)).toEqual([
      [{ name: 'debhelper-compat', op: '=', version: '13' }],
      [{ name: 'libselinux1-dev', op: '>=', version: '1.28-4' }],
      [{ name: 'libfoo-dev' }],
      [{ name: 'python3', archQualifier: 'native' }],
      [{ name: 'bar' }, { name: 'baz' }],
    ]);
  });

  it('returns no groups for an empty field', () => {
    expect(parseRelationField('')).toEqual([]);
    expect(parseRelationField(' \n ')).toEqual([]);
  });

  it.each([
    'foo (>= )',
    'foo (=> 1.0)',
    'foo (>= 1.0',
    'foo >= 1.0',
    'foo (>= 1.0) bar',
    'foo | | bar',
    'foo |',
    'foo,, bar',
    ', foo',
    'foo :any',
    'foo:',
    '-foo',
    'foo (~ 1.0)',
    'foo (>= 1 0)',
    'foo [amd64',
    'foo <!nocheck',
    'foo <>',
    'foo []',
  ])('rejects %j with a UserError quoting the field', (field) => {
    let caught: unknown;
    try {
      parseRelationField(field);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).message).toContain(JSON.stringify(field));
  });
});

describe('parseProvides', () => {
  it('parses plain, versioned and arch-qualified names', () => {
    expect(parseProvides('python3-profiler, python3-supported-max (= 3.11), python3-supported-min (= 3.11)')).toEqual([
      { name: 'python3-profiler' },
      { name: 'python3-supported-max', version: '3.11' },
      { name: 'python3-supported-min', version: '3.11' },
    ]);
    expect(parseProvides('libnet-perl (= 1:3.14),\n foo:any')).toEqual([
      { name: 'libnet-perl', version: '1:3.14' },
      { name: 'foo', archQualifier: 'any' },
    ]);
    expect(parseProvides('')).toEqual([]);
  });

  it.each(['foo | bar', 'foo (>= 1.0)', 'foo (<< 1.0)', 'foo [amd64]', 'foo,,bar', 'foo (= )'])('rejects %j', (field) => {
    expect(() => parseProvides(field)).toThrow(UserError);
  });
});

describe('formatDependencyGroup', () => {
  it('formats names, qualifiers and versions', () => {
    expect(formatDependencyGroup([{ name: 'libc6', op: '>=', version: '2.34' }, { name: 'foo', archQualifier: 'any' }])).toBe(
      'libc6 (>= 2.34) | foo:any',
    );
    expect(formatDependencyGroup([{ name: 'perl', archQualifier: 'any', op: '<<', version: '1:5.38~' }])).toBe('perl:any (<< 1:5.38~)');
  });

  it('round-trips through the parser', () => {
    const field = 'libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any, gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64';
    const groups = parseRelationField(field);
    expect(groups.map(formatDependencyGroup).join(', ')).toBe(field);
  });
});

describe('versionSatisfies', () => {
  it.each([
    ['2.36-9+deb12u4', '>=', '2.34', true],
    ['2.34', '>=', '2.34', true],
    ['2.34~rc1', '>=', '2.34', false],
    ['2.36', '>>', '2.36', false],
    ['2.36-1', '>>', '2.36', true],
    ['2.36', '<<', '2.37', true],
    ['2.37~', '<<', '2.37', true],
    ['2.37', '<<', '2.37', false],
    ['2.37', '<=', '2.37', true],
    ['1.0', '=', '1.0-0', true],
    ['1.0', '=', '0:1.0', true],
    ['1:1.0', '=', '1.0', false],
    ['1.0', '<', '1.0', true],
    ['1.0', '>', '1.0', true],
    ['1.1', '<', '1.0', false],
  ] as const)('%s %s %s → %s', (candidate, op, version, expected) => {
    expect(versionSatisfies(candidate, op, version)).toBe(expected);
  });

  it('throws on an unknown operator', () => {
    expect(() => versionSatisfies('1', '~=', '1')).toThrow(/unknown version relation operator/);
  });
});
