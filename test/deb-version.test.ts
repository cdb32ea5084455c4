import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { compareDebianVersions, isValidDebianVersion } from '../adapters/deb/version.js';

type Rel = 'lt' | 'eq' | 'gt';

function rel(n: number): Rel {
  return n < 0 ? 'lt' : n > 0 ? 'gt' : 'eq';
}

/** `[a, expected relation, b]`; each row is also checked against dpkg below. */
const CASES: [string, Rel, string][] = [
  ['1.0', 'eq', '1.0'],
  ['1.0', 'eq', '1.0-0'],
  ['1.0', 'eq', '0:1.0'],
  ['1.0', 'eq', '00:1.0-0'],
  ['1.0', 'lt', '1.0-1'],
  ['1.0-1', 'lt', '1.0-2'],
  ['1.0-2', 'lt', '1.0-10'],
  ['1.0-1.1', 'gt', '1.0-1'],
  ['1.0-1+b1', 'gt', '1.0-1'],
  ['1.0-1~bpo1', 'lt', '1.0-1'],
  ['1:0.1', 'gt', '9.9'],
  ['1:1.0', 'lt', '2:0.1'],
  ['10:1', 'gt', '9:1'],
  ['1.0~rc1', 'lt', '1.0'],
  ['1.0~rc1', 'lt', '1.0~rc2'],
  ['1.0~~', 'lt', '1.0~'],
  ['1.0~~a', 'gt', '1.0~~'],
  ['1.0~', 'lt', '1.0'],
  ['1.0', 'lt', '1.0+'],
  ['1.0', 'lt', '1.0a'],
  ['1.0a', 'lt', '1.0+'],
  ['1.0a', 'lt', '1.0.'],
  ['1.0+', 'lt', '1.0.'],
  ['1.0', 'lt', '1.0.0'],
  ['1.2', 'lt', '1.10'],
  ['1.02', 'eq', '1.2'],
  ['1.002-1', 'eq', '1.2-01'],
  ['1.0001', 'lt', '1.10'],
  ['2.0', 'gt', '1.99999999999999999999'],
  ['1.18446744073709551616', 'gt', '1.18446744073709551615'],
  ['99999999999999999999999', 'lt', '100000000000000000000000'],
  ['1a', 'lt', '1b'],
  ['1A', 'lt', '1a'],
  ['1Z', 'lt', '1a'],
  ['1.0-a', 'gt', '1.0-0'],
  ['1.0-a', 'gt', '1.0-1'],
  ['2.30-1', 'gt', '2.3-1'],
  ['1:2.36-9+deb12u4', 'gt', '2.36-9+deb12u4'],
  ['2.36-9+deb12u4', 'lt', '2.36-9+deb12u10'],
  ['7.88.1-10+deb12u5', 'gt', '7.88.1-10'],
  ['3.11.2-1+b1', 'lt', '3.11.2-6'],
  ['0.0~git20230101.abc-1', 'lt', '0.0.1-1'],
  ['1.2.3-4-5', 'gt', '1.2.3-4-4'],
  ['1:2:3', 'lt', '1:2:4'],
];

describe('compareDebianVersions', () => {
  it.each(CASES)('%s %s %s', (a, expected, b) => {
    expect(rel(compareDebianVersions(a, b))).toBe(expected);
    const reversed = expected === 'lt' ? 'gt' : expected === 'gt' ? 'lt' : 'eq';
    expect(rel(compareDebianVersions(b, a))).toBe(reversed);
  });

  it('sorts as a total order', () => {
    const sorted = ['1.0-1', '1:0.1', '1.0~rc1', '1.0', '1.0+b1', '0.9', '1.0-1~bpo1'].sort(compareDebianVersions);
    expect(sorted).toEqual(['0.9', '1.0~rc1', '1.0', '1.0-1~bpo1', '1.0-1', '1.0+b1', '1:0.1']);
  });
});

describe('isValidDebianVersion', () => {
  it.each(['1.0', '0', '1:1.0-1', '2147483647:1', '1.0~rc1+dfsg-1.1~bpo12+1', '1:2:3', '1.2.3-4-5', '9A.b', '0:1'])(
    'accepts %s',
    (v) => expect(isValidDebianVersion(v)).toBe(true),
  );
  it.each(['', ' 1.0', '1.0 ', '1 .0', 'a1.0', ':1.0', 'x:1.0', '1:', '-1:1.0', '2147483648:1', '1.0-', '-1', '1.0_1', '1.0-1:2', '1.0-a~b+c_d', '1:a'])(
    'rejects %j',
    (v) => expect(isValidDebianVersion(v)).toBe(false),
  );
});

/** dpkg's verdict on `a op b`; exit 1 means "false", anything else is a broken call. */
function dpkgSync(a: string, op: Rel, b: string): boolean {
  const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1) throw new Error(`dpkg --compare-versions ${a} ${op} ${b}: ${r.status} ${r.stderr}`);
  return r.status === 0;
}

function dpkgAsync(a: string, op: Rel, b: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('dpkg', ['--compare-versions', a, op, b], (err, _stdout, stderr) => {
      if (!err) return resolve(true);
      if (err.code === 1) return resolve(false);
      reject(new Error(`dpkg --compare-versions ${a} ${op} ${b}: ${String(err.code)} ${stderr}`));
    });
  });
}

async function dpkgRelation(a: string, b: string): Promise<Rel | 'inconsistent'> {
  const [lt, eq, gt] = await Promise.all([dpkgAsync(a, 'lt', b), dpkgAsync(a, 'eq', b), dpkgAsync(a, 'gt', b)]);
  if (Number(lt) + Number(eq) + Number(gt) !== 1) return 'inconsistent';
  return lt ? 'lt' : eq ? 'eq' : 'gt';
}

describe('agreement with dpkg --compare-versions', () => {
  it('dpkg is usable as an oracle', () => {
    expect(dpkgSync('1.0', 'lt', '1.1')).toBe(true);
    expect(dpkgSync('1.1', 'lt', '1.0')).toBe(false);
    expect(dpkgSync('1.0', 'eq', '1.0-0')).toBe(true);
  });

  it('agrees on every hand-written case', async () => {
    for (const [a, expected, b] of CASES) {
      expect(await dpkgRelation(a, b), `${a} vs ${b}`).toBe(expected);
    }
  });

  it('agrees on pairs of real bookworm versions', async () => {
    const versions = readFileSync(new URL('../fixtures/deb/versions-sample.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const n = versions.length;
    expect(n).toBeGreaterThanOrEqual(1500);
    expect(versions.every(isValidDebianVersion)).toBe(true);

    const pairs: [string, string][] = [];
    // Scattered pairs: a fixed stride through the sample.
    for (let i = 0; i < n; i++) pairs.push([versions[i]!, versions[(i * 7919 + 13) % n]!]);
    // Neighbours in our order: dpkg confirming each step proves our whole sort matches dpkg's.
    const sorted = [...versions].sort(compareDebianVersions);
    for (let i = 0; i + 1 < n; i++) pairs.push([sorted[i]!, sorted[i + 1]!]);
    for (let i = 0; i < n; i += 100) pairs.push([versions[i]!, versions[i]!]);
    expect(pairs.length).toBeGreaterThanOrEqual(1200);

    // dpkg costs ~10 ms per call, so ask only whether it confirms our answer (exactly one of
    // lt/eq/gt holds, so a "yes" is full agreement) and ask all three only on a mismatch.
    const mismatches: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pairs.length) {
        const [a, b] = pairs[next++]!;
        const ours = rel(compareDebianVersions(a, b));
        if (await dpkgAsync(a, ours, b)) continue;
        mismatches.push(`${a} vs ${b}: ours ${ours}, dpkg ${await dpkgRelation(a, b)}`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));
    expect(mismatches).toEqual([]);
  });
});
