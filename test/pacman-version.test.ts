/**
 * pacman versions and dependency strings, checked against the real `vercmp` (Debian's
 * pacman-package-manager) on every version found in the fixture databases and on hand-made
 * edge cases.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDesc, parsePacmanDb, type PacmanFields } from '../adapters/pacman/syncDb.js';
import {
  comparePacmanVersions,
  formatPacmanDependency,
  parsePacmanDependency,
  pacmanVersionSatisfies,
  type PacmanDepOp,
} from '../adapters/pacman/version.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';
import { userError } from './helpers/userError.js';

const PACMAN_FIXTURES = path.join(SHARED_FIXTURES, 'pacman');

type Rel = 'lt' | 'eq' | 'gt';

function rel(n: number): Rel {
  return n < 0 ? 'lt' : n > 0 ? 'gt' : 'eq';
}

/** `[a, relation, b]`, each also put to vercmp below. */
const CASES: [string, Rel, string][] = [
  ['1.0', 'eq', '1.0'],
  ['1.0', 'lt', '1.1'],
  ['1.2', 'lt', '1.10'],
  ['1.01', 'eq', '1.1'],
  ['1.001', 'eq', '1.01'],
  ['1.0', 'lt', '1.0.0'],
  ['1.0a', 'lt', '1.0'],
  ['1.0alpha', 'lt', '1.0beta'],
  ['1.0rc1', 'lt', '1.0'],
  ['1.0', 'lt', '1.0.a'],
  ['1.0.a', 'lt', '1.0.0'],
  ['1.0.a', 'lt', '1.0.1'],
  ['1.0a', 'lt', '1.0.a'],
  ['1.0', 'lt', '1.0+'],
  ['1.0', 'lt', '1.0.'],
  ['1_0', 'eq', '1.0'],
  ['1+0', 'eq', '1.0'],
  ['1..0', 'gt', '1.0'],
  ['1..0', 'gt', '1.1'],
  ['1.0..1', 'gt', '1.0.2'],
  ['1A', 'lt', '1a'],
  ['a', 'lt', '1'],
  ['1a', 'lt', '1b'],
  ['1.99999999999999999999', 'lt', '1.100000000000000000000'],
  // pkgrel: compared only when both sides have one.
  ['1.0', 'eq', '1.0-1'],
  ['1.0-1', 'eq', '1.0'],
  ['1.0-1', 'lt', '1.0-2'],
  ['1.0-2', 'lt', '1.0-10'],
  ['1.0-1', 'lt', '1.0-1.1'],
  ['1.0-2', 'gt', '1.0-1'],
  ['1.0.1-1', 'gt', '1.0-2'],
  ['1-2-3', 'gt', '1-2-2'],
  ['1-2-3', 'lt', '1-3-1'],
  // epochs
  ['1:1.0', 'gt', '2.0'],
  ['1:1.0-1', 'lt', '2:0.1-1'],
  ['0:1.0', 'eq', '1.0'],
  [':1.0', 'eq', '1.0'],
  ['01:1.0', 'eq', '1:1.0'],
  ['2:1.0', 'gt', '10.0'],
  ['1:', 'gt', '99'],
  ['a:1.0', 'lt', '1.0'],
  // The pkgrel is found before the epoch: "1-2:3" is pkgver 1, pkgrel "2:3".
  ['1-2:3', 'eq', '1'],
  ['', 'lt', '1'],
  ['', 'eq', ''],
  ['', 'gt', 'a'],
  // Separators are counted in bytes.
  ['1.0é1', 'eq', '1.0..1'],
  ['1.0€1', 'eq', '1.0...1'],
  ['1.0€1', 'gt', '1.0..1'],
];

/**
 * Hand-made versions, compared with each other and with the fixture versions: epochs, pkgrels,
 * alpha/numeric segments, separators of every length, and strings no package would use.
 */
const EDGE_VERSIONS = [
  '', '0', '00', '1', '01', '001', '1.0', '1.00', '1.0.0', '1.0.0.0', '1.0a', '1.0A', '1.0Z', '1.0b', '1.0a1', '1.0aa',
  '1.0ab', '1.0.a', '1.0.A', '1.0a.1', '1.0.', '1.0..', '1..0', '1...0', '1.0+', '1.0++', '1.0+1', '1_0', '1__0', '1.0_1',
  '1.0~rc1', '1.0~', '1.0^1', '1.0rc1', '1.0beta', '1.0alpha', '1.0pre', '1.0.r12.gabcdef', '1.0.r9.g123456', '1.0r1',
  'r1', 'a', 'A', 'b', 'abc', 'abd', 'ab', '1a', '1a1', '1aa', '1.01', '1.1', '1.10', '1.9', '1.09',
  '1.00000000000000000000000001', '1.18446744073709551616', '1.18446744073709551615', '99999999999999999999',
  '100000000000000000000', '1-1', '1.0-1', '1.0-2', '1.0-10', '1.0-1.1', '1.0-1.a', '1.0-a', '1.0-A', '1.0-', '1-',
  '-1', '-', '--', '1--1', '1-1-1', '1-1-2', '1.2.3-4.5', '1.2.3-4.a', '1:1.0', '2:0.1', '0:1.0', ':1.0', '01:1.0',
  '1:', ':', '1:1.0-1', '1:2:3', '1:2-3:4', '1-2:3', 'a:1', '10:1', '1.0 ', ' 1.0', '1. 0', '1.0/1', '1.0ä', '1.0äb',
  '1.0é1', '1.0€1', '1.0😀1', '1.0....1', '1.0...1', '1.0..1', '1.0.1', '1.0;1', '2.0', '20250612-3', '1:2.0-1',
  '2.36-3', '2.36-3.1', '2.36.1-1', '1.2.3.a813a2cee7-1', '5.1.3-1', '5.1.3-1.1',
];

const DEP_FIELDS = ['DEPENDS', 'OPTDEPENDS', 'MAKEDEPENDS', 'CHECKDEPENDS', 'CONFLICTS', 'PROVIDES', 'REPLACES'];

const DB_FILES = [
  'official-db/alpm.rs/core.db',
  'official-db/malr/core.db.tar.gz',
  'official-db/archweb/core.db.tar.gz',
  'paru-testrepo/repo.db.tar.gz',
  'thirdparty-repo-archimedeos/archimedeos.db.tar.gz',
  'thirdparty-repo-archimedeos/archimedeos.files.tar.gz',
];

/** Every field set in the fixtures: sync database entries and the local database's desc files. */
async function fixtureFieldSets(): Promise<PacmanFields[]> {
  const sets: PacmanFields[] = [];
  for (const rel of DB_FILES) {
    const file = path.join(PACMAN_FIXTURES, rel);
    for (const entry of await parsePacmanDb(readFileSync(file), file)) sets.push(entry.fields);
  }
  const local = path.join(PACMAN_FIXTURES, 'local-db/local');
  for (const dir of readdirSync(local, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const desc = path.join(local, dir.name, 'desc');
    sets.push(parseDesc(readFileSync(desc, 'utf8'), desc));
  }
  return sets;
}

/** Every dependency-like string and every version in the fixtures. */
async function fixtureStrings(): Promise<{ deps: string[]; versions: string[] }> {
  const deps = new Set<string>();
  const versions = new Set<string>();
  for (const fields of await fixtureFieldSets()) {
    const v = fields.get('VERSION')?.[0];
    if (v !== undefined) versions.add(v);
    for (const key of DEP_FIELDS) for (const d of fields.get(key) ?? []) deps.add(d);
  }
  for (const d of deps) {
    const v = parsePacmanDependency(d, 'fixtures').version;
    if (v !== undefined) versions.add(v);
  }
  return { deps: [...deps], versions: [...versions] };
}

/**
 * vercmp's result for each pair. One process per pair costs ~6 ms, so the pairs go to a few
 * shell loops running side by side, each printing one result a line; nothing blocks the worker.
 */
async function vercmpMany(pairs: [string, string][]): Promise<number[]> {
  for (const [a, b] of pairs) {
    if (/[\n\0]/.test(a + b)) throw new Error(`cannot pass ${JSON.stringify([a, b])} through a line-based loop`);
    // vercmp prints its usage for -h/--help as its first argument.
    if (a === '-h' || a === '--help') throw new Error(`vercmp would print its help for ${a}`);
  }
  const workers = Math.max(2, availableParallelism());
  const size = Math.ceil(pairs.length / workers);
  const chunks = Array.from({ length: workers }, (_, i) => pairs.slice(i * size, (i + 1) * size)).filter((c) => c.length > 0);
  const run = (chunk: [string, string][]): Promise<number[]> =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', 'while IFS= read -r a && IFS= read -r b; do vercmp "$a" "$b" || echo "vercmp failed: $?"; done'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 60_000,
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const lines = out.split('\n').filter((l) => l !== '');
        if (code !== 0 || lines.length !== chunk.length || !lines.every((l) => /^-?\d+$/.test(l))) {
          reject(new Error(`vercmp loop: exit ${code ?? signal}, ${lines.length} results for ${chunk.length} pairs: ${err}${lines.find((l) => !/^-?\d+$/.test(l)) ?? ''}`));
        } else {
          resolve(lines.map(Number));
        }
      });
      child.stdin.end(chunk.map(([a, b]) => `${a}\n${b}\n`).join(''), 'utf8');
    });
  return (await Promise.all(chunks.map(run))).flat();
}

/** The pairs vercmp disagrees with us on, as readable lines. */
async function disagreements(pairs: [string, string][]): Promise<string[]> {
  const theirs = await vercmpMany(pairs);
  return pairs.flatMap(([a, b], i) => {
    const ours = rel(comparePacmanVersions(a, b));
    const real = rel(theirs[i]!);
    return ours === real ? [] : [`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours ${ours}, vercmp ${real}`];
  });
}

describe('comparePacmanVersions', () => {
  it.each(CASES)('%j %s %j', (a, expected, b) => {
    expect(rel(comparePacmanVersions(a, b))).toBe(expected);
    const reversed = expected === 'lt' ? 'gt' : expected === 'gt' ? 'lt' : 'eq';
    expect(rel(comparePacmanVersions(b, a))).toBe(reversed);
  });

  it('returns -1, 0 or 1', () => {
    expect(comparePacmanVersions('1.0', '2.0')).toBe(-1);
    expect(comparePacmanVersions('2.0', '1.0')).toBe(1);
    expect(comparePacmanVersions('1.0-1', '1.0')).toBe(0);
  });

  it('sorts real versions', () => {
    const sorted = ['1:0.9-1', '1.0-2', '1.0rc1-1', '1.0-10', '1.0.1-1', '0.99-1', '1.0a-1'].sort(comparePacmanVersions);
    expect(sorted).toEqual(['0.99-1', '1.0a-1', '1.0rc1-1', '1.0-2', '1.0-10', '1.0.1-1', '1:0.9-1']);
  });
});

describe('agreement with the real vercmp', () => {
  it('vercmp is usable as an oracle', async () => {
    expect(await vercmpMany([['1.0', '1.1'], ['1.1', '1.0'], ['1.0', '1.0-1'], ['', '']])).toEqual([-1, 1, 0, 0]);
  });

  it('agrees on every hand-written case', async () => {
    const pairs = CASES.map(([a, , b]): [string, string] => [a, b]);
    expect(await disagreements(pairs)).toEqual([]);
    const theirs = await vercmpMany(pairs);
    expect(theirs.map(rel)).toEqual(CASES.map(([, r]) => r));
  }, 60_000);

  it('agrees on every fixture version and every edge case, in over 1000 pairs', async () => {
    const { versions } = await fixtureStrings();
    expect(versions.length).toBeGreaterThanOrEqual(500);
    // Every version in a database entry directory name too.
    expect(versions).toEqual(expect.arrayContaining(['2.2.53-1', '20250612-3', '1.2.3.a813a2cee7-1', '5.1.3-1']));

    const pairs: [string, string][] = [];
    // Neighbours in our order over everything: vercmp confirming each step confirms the whole sort.
    const all = [...new Set([...versions, ...EDGE_VERSIONS])];
    const sorted = [...all].sort(comparePacmanVersions);
    for (let i = 0; i + 1 < sorted.length; i++) pairs.push([sorted[i]!, sorted[i + 1]!]);
    // Scattered pairs: a fixed stride through the fixture versions, both ways round.
    const n = versions.length;
    for (let i = 0; i < n; i++) pairs.push([versions[i]!, versions[(i * 7919 + 13) % n]!]);
    // Each edge case against the next dozen (the list groups related cases) and a few far ones...
    const e = EDGE_VERSIONS.length;
    for (let i = 0; i < e; i++) {
      for (let j = i + 1; j < Math.min(e, i + 13); j++) pairs.push([EDGE_VERSIONS[i]!, EDGE_VERSIONS[j]!]);
      for (const k of [37, 53, 71]) pairs.push([EDGE_VERSIONS[(i * k + 5) % e]!, EDGE_VERSIONS[i]!]);
    }
    // ...and against a few fixture versions; and each fixture version against itself with its
    // pkgrel changed, dropped, or given an epoch.
    for (let i = 0; i < EDGE_VERSIONS.length; i++) pairs.push([versions[(i * 31) % n]!, EDGE_VERSIONS[i]!]);
    for (let i = 0; i < n; i += 3) {
      const v = versions[i]!;
      const dash = v.lastIndexOf('-');
      if (dash < 0) continue;
      pairs.push([v, v.slice(0, dash)], [v, `${v.slice(0, dash)}-${v.slice(dash + 1)}.1`], [`1:${v}`, v]);
    }
    expect(pairs.length).toBeGreaterThanOrEqual(1000);
    expect(pairs.length).toBeLessThan(5000);

    const started = Date.now();
    expect(await disagreements(pairs)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(45_000);
  }, 60_000);
});

describe('pacmanVersionSatisfies', () => {
  const table: [string, PacmanDepOp, string, boolean][] = [
    ['1.2-3', '=', '1.2', true],
    ['1.2-3', '=', '1.2-3', true],
    ['1.2-3', '=', '1.2-4', false],
    ['1.2-3', '<', '1.2', false],
    ['1.2-3', '<=', '1.2', true],
    ['1.2-3', '>', '1.2', false],
    ['1.2-3', '>=', '1.2', true],
    ['1.2-3', '>', '1.2-2', true],
    ['1.2-3', '<', '1.2-10', true],
    ['1.2.1-1', '>', '1.2', true],
    ['1.2rc1-1', '<', '1.2', true],
    ['1:1.0-1', '>', '2.0', true],
    ['1:1.0-1', '>=', '1:1.0', true],
    ['2.0-1', '<', '1:0.1', true],
    ['2.36-3', '>=', '2.31', true],
    ['2.30-3', '>=', '2.31', false],
  ];
  it.each(table)('%s %s %s → %s', (candidate, op, version, expected) => {
    expect(pacmanVersionSatisfies(candidate, op, version)).toBe(expected);
  });
});

describe('parsePacmanDependency / formatPacmanDependency', () => {
  it.each([
    ['glibc>=2.31', { name: 'glibc', op: '>=', version: '2.31' }],
    ['sh', { name: 'sh' }],
    ['python: for scripts', { name: 'python', description: 'for scripts' }],
    ['perl-locale-gettext: translation support in makepkg-template', { name: 'perl-locale-gettext', description: 'translation support in makepkg-template' }],
    ['linux-api-headers>=4.10', { name: 'linux-api-headers', op: '>=', version: '4.10' }],
    ['foo<=1:2.0-1', { name: 'foo', op: '<=', version: '1:2.0-1' }],
    ['foo<2', { name: 'foo', op: '<', version: '2' }],
    ['foo>2', { name: 'foo', op: '>', version: '2' }],
    ['foo=1:2.0', { name: 'foo', op: '=', version: '1:2.0' }],
    ['libalpm.so=13-64', { name: 'libalpm.so', op: '=', version: '13-64' }],
    ['gd>=2.0: for memusagestat: optional', { name: 'gd', op: '>=', version: '2.0', description: 'for memusagestat: optional' }],
    ['python: ', { name: 'python', description: '' }],
    ['a:b', { name: 'a:b' }],
  ])('%j', (text, expected) => {
    const dep = parsePacmanDependency(text, 'test');
    expect(dep).toEqual(expected);
    expect(formatPacmanDependency(dep)).toBe(text);
  });

  it.each([
    ['', /the package name is empty/],
    ['>=1.0', /the package name is empty/],
    ['foo>=', /">=" is not followed by a version/],
    ['foo=', /"=" is not followed by a version/],
    ['foo>=1<2', /more than one comparison operator/],
    ['foo=1=2', /more than one comparison operator/],
    ['foo bar', /name contains whitespace/],
    ['foo>=1 2', /version contains whitespace/],
  ])('refuses %j', (text, why) => {
    const e = userError(() => parsePacmanDependency(text, 'repo core, package foo'));
    expect(e.message).toMatch(why);
    expect(e.message).toContain('repo core, package foo');
    expect(e.message).toContain(JSON.stringify(text));
  });

  it('parses and round-trips every dependency string in the fixtures', async () => {
    const { deps } = await fixtureStrings();
    expect(deps.length).toBeGreaterThanOrEqual(400);
    const wrong = deps.filter((d) => formatPacmanDependency(parsePacmanDependency(d, 'fixtures')) !== d);
    expect(wrong).toEqual([]);
    const withDescription = deps.map((d) => parsePacmanDependency(d, 'fixtures')).filter((d) => d.description !== undefined);
    expect(withDescription.length).toBeGreaterThan(50);
    expect(withDescription.every((d) => d.op === undefined || d.version !== undefined)).toBe(true);
  });
});
