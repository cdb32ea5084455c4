import { describe, expect, it } from 'vitest';
import {
  apkVersionSatisfies,
  formatApkDependency,
  parseApkDependencies,
  parseApkProvides,
  type ApkDependency,
} from '../adapters/apk/dependency.js';
import { isValidApkVersion } from '../adapters/apk/version.js';
import { UserError } from '../src/errors.js';

/** Real fields of Alpine v3.16 main/x86_64 (fixtures/alpine/v3.16-main-x86_64/APKINDEX.tar.gz). */
const REAL = {
  // P:gcc-go V:11.2.1_git20220219-r2
  gccGoD: 'gcc=11.2.1_git20220219-r2 libgo=11.2.1_git20220219-r2 !go libgo=11.2.1_git20220219-r2 so:libc.musl-x86_64.so.1 so:libgmp.so.10 so:libgo.so.19 so:libisl.so.22 so:libmpc.so.3 so:libmpfr.so.6 so:libz.so.1',
  gccGoP: 'cmd:gccgo=11.2.1_git20220219-r2 cmd:go=11.2.1_git20220219-r2 cmd:gofmt=11.2.1_git20220219-r2 cmd:x86_64-alpine-linux-musl-gccgo=11.2.1_git20220219-r2',
  // P:dhcp-server-vanilla V:4.4.3_p1-r0
  dhcpD: '!dhcp-server-ldap dhcp so:libc.musl-x86_64.so.1 so:libgcc_s.so.1',
  dhcpP: 'dhcp-server cmd:dhcpd=4.4.3_p1-r0',
  dhcpI: 'dhcp=4.4.3_p1-r0',
  // P:doas-sudo-shim V:0.1.1-r0
  doasD: 'cmd:doas !sudo',
  // P:zlib V:1.2.12-r3
  zlibP: 'so:libz.so.1=1.2.12',
  // P:musl V:1.2.3-r2
  muslP: 'so:libc.musl-x86_64.so.1=1',
  // P:lua5.4-bit32 V:5.3.0-r4
  luaBitI: 'lua-bit32=5.3.0-r4 lua5.4',
  // other D: lines with every operator the index uses
  gdD: 'gd perl libgd=2.3.3-r0 pc:freetype2>=9.8.3 pc:libjpeg pc:libpng pc:libwebp>=0.2.0 pc:zlib pkgconfig',
  aportsD: 'abuild>2.20.0 build-base mosquitto-clients openssh-client mqtt-exec rsync lua-aports>1.0.0 lua5.2-cjson lua5.2-mqtt-publish pigz git /bin/sh',
  lessD: 'lua5.4-bit32<26 so:libc.musl-x86_64.so.1',
};

function dep(name: string, extra: Partial<ApkDependency> = {}): ApkDependency {
  return { name, conflict: false, ...extra };
}

describe('parseApkDependencies on real APKINDEX fields', () => {
  it('parses D: with conflicts, versions and so: names', () => {
    const deps = parseApkDependencies(REAL.gccGoD, 'gcc-go');
    expect(deps).toHaveLength(11);
    expect(deps[0]).toEqual(dep('gcc', { op: '=', version: '11.2.1_git20220219-r2' }));
    expect(deps[2]).toEqual(dep('go', { conflict: true }));
    expect(deps[4]).toEqual(dep('so:libc.musl-x86_64.so.1'));
    expect(parseApkDependencies(REAL.dhcpD, 'dhcp-server-vanilla').map((d) => [d.name, d.conflict])).toEqual([
      ['dhcp-server-ldap', true],
      ['dhcp', false],
      ['so:libc.musl-x86_64.so.1', false],
      ['so:libgcc_s.so.1', false],
    ]);
    expect(parseApkDependencies(REAL.doasD, 'doas-sudo-shim')).toEqual([dep('cmd:doas'), dep('sudo', { conflict: true })]);
  });

  it('parses >=, >, < and path names', () => {
    expect(parseApkDependencies(REAL.gdD, 'gd-dev')[3]).toEqual(dep('pc:freetype2', { op: '>=', version: '9.8.3' }));
    const aports = parseApkDependencies(REAL.aportsD, 'aports-build');
    expect(aports[0]).toEqual(dep('abuild', { op: '>', version: '2.20.0' }));
    expect(aports[aports.length - 1]).toEqual(dep('/bin/sh'));
    expect(parseApkDependencies(REAL.lessD, 'x')[0]).toEqual(dep('lua5.4-bit32', { op: '<', version: '26' }));
  });

  it('parses i: (install_if)', () => {
    expect(parseApkDependencies(REAL.dhcpI, 'i')).toEqual([dep('dhcp', { op: '=', version: '4.4.3_p1-r0' })]);
    expect(parseApkDependencies(REAL.luaBitI, 'i')).toEqual([dep('lua-bit32', { op: '=', version: '5.3.0-r4' }), dep('lua5.4')]);
  });

  it('round-trips every real field through formatApkDependency', () => {
    for (const field of [REAL.gccGoD, REAL.dhcpD, REAL.doasD, REAL.dhcpI, REAL.luaBitI, REAL.gdD, REAL.aportsD, REAL.lessD]) {
      expect(parseApkDependencies(field, 'x').map(formatApkDependency).join(' ')).toBe(field);
    }
  });
});

describe('parseApkProvides', () => {
  it('parses real p: fields', () => {
    expect(parseApkProvides(REAL.zlibP)).toEqual([{ name: 'so:libz.so.1', version: '1.2.12' }]);
    expect(parseApkProvides(REAL.muslP)).toEqual([{ name: 'so:libc.musl-x86_64.so.1', version: '1' }]);
    expect(parseApkProvides(REAL.dhcpP)).toEqual([{ name: 'dhcp-server' }, { name: 'cmd:dhcpd', version: '4.4.3_p1-r0' }]);
    expect(parseApkProvides(REAL.gccGoP).map((p) => p.name)).toEqual([
      'cmd:gccgo',
      'cmd:go',
      'cmd:gofmt',
      'cmd:x86_64-alpine-linux-musl-gccgo',
    ]);
  });

  it.each(['!foo', 'foo>=1', 'foo~1', 'foo@edge', 'foo=', 'foo=1.x'])('rejects %j', (p) => {
    expect(() => parseApkProvides(p, 'pkg foo')).toThrow(UserError);
  });
});

describe('world-file atoms', () => {
  it('parses every documented operator and normalizes spellings', () => {
    const world = 'busybox busybox@edge !unwanted busybox=1.6.1 busybox>1.6.1 busybox>=1.6.1 busybox<1.6.1 busybox<=1.6.1 busybox~1.6 busybox>~1.6 busybox<~1.6 busybox><Q12l/v/T0pPK3aQaUWmI9djiLpF+g=';
    const deps = parseApkDependencies(world, '/etc/apk/world');
    expect(deps[1]).toEqual(dep('busybox', { tag: 'edge' }));
    expect(deps[2]).toEqual(dep('unwanted', { conflict: true }));
    expect(deps.map((d) => d.op ?? '')).toEqual(['', '', '', '=', '>', '>=', '<', '<=', '~', '>~', '<~', '><']);
    expect(deps.map(formatApkDependency).join(' ')).toBe(world);
    // apk-tools reads the comparer characters as a set: `=>` is `>=`, `~=` is `~`, `<>` is `><`.
    expect(parseApkDependencies('a=>1 b~=2 c==3 d<>Q1x=', 'w').map(formatApkDependency)).toEqual(['a>=1', 'b~2', 'c=3', 'd><Q1x=']);
  });

  it('splits on runs of spaces and newlines', () => {
    expect(parseApkDependencies('  a\nb   c\n', 'w').map((d) => d.name)).toEqual(['a', 'b', 'c']);
    expect(parseApkDependencies('', 'w')).toEqual([]);
  });

  it.each(['=1', '!', '!>1', 'foo>', 'foo>=', 'foo=1.0bc', 'foo=v1', 'foo<=>~1', 'foo<=>1', 'foo@', '@tag', 'foo><not-base64!', '!!foo', 'fo\u00e9'])(
    'rejects %j with a UserError naming the source and atom',
    (atom) => {
      const f = (): unknown => parseApkDependencies(`ok ${atom} ok2`, 'pkg foo-1.0-r0 (main)');
      expect(f).toThrow(UserError);
      expect(f).toThrow('pkg foo-1.0-r0 (main)');
      expect(f).toThrow(JSON.stringify(atom));
    },
  );
});

describe('apkVersionSatisfies', () => {
  const CASES: [string, string, string, boolean][] = [
    ['1.2.3-r0', '=', '1.2.3-r0', true],
    ['1.2.3-r1', '=', '1.2.3-r0', false],
    ['1.2.3', '<', '1.3', true],
    ['1.3', '<', '1.3', false],
    ['1.3', '<=', '1.3', true],
    ['1.3-r1', '>', '1.3', true],
    ['1.3', '>=', '1.3-r1', false],
    // `~` is a prefix match on version components (apk-world(5): 1.6, 1.6.0_pre1, 1.6.0, 1.6.5, 1.6.9_p1 match ~1.6).
    ['1.6', '~', '1.6', true],
    ['1.6.0_pre1', '~', '1.6', true],
    ['1.6.0', '~', '1.6', true],
    ['1.6.5', '~', '1.6', true],
    ['1.6.9_p1', '~', '1.6', true],
    ['1.6_rc1', '~', '1.6', true],
    ['1.6-r3', '~', '1.6', true],
    ['1.6a', '~', '1.6', true],
    ['1.60', '~', '1.6', false],
    ['1.7', '~', '1.6', false],
    ['1', '~', '1.6', false],
    ['1.2.3-r4', '~', '1.2.3-r4', true],
    ['1.2.3-r5', '~', '1.2.3-r4', false],
    ['1.7', '>~', '1.6', true],
    ['1.6.1', '>~', '1.6', true],
    ['1.5.9', '>~', '1.6', false],
    ['1.5', '<~', '1.6', true],
    ['1.6.9', '<~', '1.6', true],
    ['1.7', '<~', '1.6', false],
    ['Q1abc=', '><', 'Q1abc=', true],
    ['Q1abd=', '><', 'Q1abc=', false],
  ];
  it.each(CASES)('%s %s %s is %s', (candidate, op, version, expected) => {
    expect(apkVersionSatisfies(candidate, op, version)).toBe(expected);
  });

  it('throws on an unknown operator', () => {
    expect(() => apkVersionSatisfies('1', '>>=!', '1')).toThrow();
  });
});

describe('versions in real fields', () => {
  it('are valid apk versions', () => {
    const versions = Object.values(REAL)
      .flatMap((f) => parseApkDependencies(f, 'x'))
      .flatMap((d) => (d.version !== undefined ? [d.version] : []));
    expect(versions.length).toBeGreaterThan(10);
    expect(versions.every(isValidApkVersion)).toBe(true);
  });
});

describe('invalid versions in real indexes', () => {
  // P:opensmtpd V:6.8.0p2-r4 and P:rtmpdump-dev in Alpine v3.16 main: versions apk-tools cannot parse.
  const D = 'opensmtpd=6.8.0p2-r4 so:libasr.so.0 so:libc.musl-x86_64.so.1';
  const P = 'pc:librtmp=v2.4';

  it('are errors by default', () => {
    expect(() => parseApkDependencies(D, 'opensmtpd-openrc')).toThrow(/"opensmtpd=6.8.0p2-r4" in opensmtpd-openrc: invalid version/);
    expect(() => parseApkProvides(P, 'rtmpdump-dev')).toThrow(UserError);
  });

  it('are kept and flagged when lenient, as apk-tools reads indexes', () => {
    const deps = parseApkDependencies(D, 'x', { lenient: true });
    expect(deps[0]).toEqual(dep('opensmtpd', { op: '=', version: '6.8.0p2-r4', broken: true }));
    expect(deps[1]?.broken).toBeUndefined();
    expect(formatApkDependency(deps[0]!)).toBe('opensmtpd=6.8.0p2-r4');
    expect(parseApkProvides(P, 'x', { lenient: true })).toEqual([{ name: 'pc:librtmp', version: 'v2.4' }]);
    // Syntax errors stay errors.
    expect(() => parseApkDependencies('foo> bar', 'x', { lenient: true })).toThrow(UserError);
  });
});
