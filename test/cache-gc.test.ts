import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reusableLayerMembers } from '../src/cas/lockNeeds.js';
import { layerKey } from '../src/layer/packageLayers.js';
import { ageCache, blobFile, buildInto, copyCache, layerRows, type BuiltImage } from './helpers/builtCache.js';
import { layerpkg, type CliResult } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * `layerpkg cache ls` and `cache gc` on one cache shared by two images (a and b share the
 * required packages): gc keeps what a kept lock needs to build again without download or unpack,
 * removes the rest least recently used first, and never touches what was used within the hour.
 */
let repo: TestRepo;
let a: BuiltImage;
let b: BuiltImage;
let n = 0;
const HOUR = 3600_000;

beforeAll(async () => {
  repo = await createTestRepo();
  const cache = path.join(repo.work, 'cache-shared');
  a = await buildInto(repo, ['alt-a'], 'a', cache);
  b = await buildInto(repo, ['overlap-a'], 'b', cache);
});
afterAll(async () => {
  await repo?.close();
});

const fresh = () => copyCache(a.cache, path.join(repo.work, `cache-${++n}`));
const gc = (cache: string, ...flags: string[]) => layerpkg(['cache', 'gc', '--cache-dir', cache, ...flags]);
const onlyB = () => b.packageSha256s.filter((s) => !a.packageSha256s.includes(s));

interface GcJson {
  beforeBytes: number;
  afterBytes: number;
  removed: { blobs: number; bytes: number; layerRows: number; pinnedRows: number; byKind: Record<string, { count: number }> };
}

function expectUserError(r: CliResult, message: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

describe('cache ls', () => {
  it('sizes the cache by kind, the same in text and JSON', async () => {
    const json = await layerpkg(['cache', 'ls', '--cache-dir', a.cache, '--json']);
    expect(json.status).toBe(0);
    const usage = JSON.parse(json.stdout) as { kinds: Record<string, { count: number; bytes: number }>; totalBytes: number };
    const packages = new Set([...a.packageSha256s, ...b.packageSha256s]);
    expect(usage.kinds.packages!.count).toBe(packages.size);
    expect(usage.kinds.layers!.count).toBe(new Set([...a.layerDigests, ...b.layerDigests]).size + 2); // + two final layers
    expect(usage.kinds.builds!.count).toBe(2);
    expect(usage.kinds.tmp).toEqual({ count: 0, bytes: 0 });
    expect(usage.kinds.index!.bytes).toBeGreaterThan(0);
    expect(Object.values(usage.kinds).reduce((s, k) => s + k.bytes, 0)).toBe(usage.totalBytes);

    const text = await layerpkg(['cache', 'ls', '--cache-dir', a.cache]);
    expect(text.status).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(a.cache);
    expect(lines.slice(1).map((l) => l.replace(/^ *[\d.]+ (B|KiB|MiB|bytes) +\d* +/, ''))).toEqual([
      'package files',
      'layer blobs (package and final layers)',
      'layer metadata (package metadata, final-layer reports)',
      'other blobs (repository indexes, image configs, manifests)',
      'index (index.db)',
      'build records',
      'tmp (work in progress, leftovers)',
      'total',
    ]);
  });
});

describe('cache gc', () => {
  it('--keep: keeps what the lock needs to build again without download or unpack, drops the rest', async () => {
    const cache = fresh();
    ageCache(cache, 2 * HOUR);
    const r = await gc(cache, '--keep', a.lock, '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as GcJson;
    expect(report.removed.byKind.packages!.count).toBe(onlyB().length);
    expect(report.afterBytes).toBeLessThanOrEqual(report.beforeBytes - report.removed.bytes); // the index shrinks too
    for (const sha of a.packageSha256s) expect(existsSync(blobFile(cache, sha))).toBe(true);
    for (const sha of onlyB()) expect(existsSync(blobFile(cache, sha))).toBe(false);
    for (const digest of a.layerDigests) expect(existsSync(blobFile(cache, digest))).toBe(true);
    expect(layerRows(cache).every((row) => row.key.startsWith('layer-'))).toBe(true); // final layers go

    const again = await layerpkg(['build', a.image, '--cache-dir', cache, '-o', path.join(repo.work, `out-${n}`), '--json']);
    const result = JSON.parse(again.stdout) as { manifestDigest: string; downloaded: { packages: number }; layers: { packages: string[]; cached: boolean }[] };
    expect(result.manifestDigest).toBe(a.manifestDigest);
    expect(result.downloaded.packages).toBe(0);
    expect(result.layers.filter((l) => l.packages.length).every((l) => l.cached)).toBe(true);
    expect((await layerpkg(['cache', 'verify', '--cache-dir', cache])).status).toBe(0);
  });

  it('never removes what was used within the hour: a concurrent build may rely on it', async () => {
    const cache = fresh();
    const r = await gc(cache, '--keep', a.lock);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^removed 0 blobs \(0 bytes: 0 package files, 0 layer blobs, 0 other blobs\), 0 layer rows, 0 pinned file rows; the cache is now /);
  });

  it('--max-size: removes least recently used first, and a layer with its metadata', async () => {
    const cache = fresh();
    const rows = layerRows(cache);
    const oldest = rows.find((row) => b.layerDigests.includes(row.digest) && !a.layerDigests.includes(row.digest))!;
    ageCache(cache, 3 * HOUR);
    ageCache(cache, 5 * HOUR, (d) => d === oldest.digest || d === oldest.metadata_digest);
    const usage = JSON.parse((await layerpkg(['cache', 'ls', '--cache-dir', cache, '--json'])).stdout) as { totalBytes: number };
    const r = await gc(cache, '--max-size', String(usage.totalBytes - 1), '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as GcJson;
    expect(report.removed).toMatchObject({ blobs: 2, layerRows: 1 });
    expect(existsSync(blobFile(cache, oldest.digest))).toBe(false);
    expect(existsSync(blobFile(cache, oldest.metadata_digest))).toBe(false);
    expect(layerRows(cache)).toHaveLength(rows.length - 1);
    expect((await layerpkg(['cache', 'verify', '--cache-dir', cache])).status).toBe(0);
  });

  it('says when what the kept locks need is above --max-size', async () => {
    const cache = fresh();
    ageCache(cache, 2 * HOUR);
    const r = await gc(cache, '--max-size', '1K', '--keep', a.lock, b.lock);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^still above --max-size 1 KiB: [\d.]+ KiB is needed by the kept locks, 0 bytes was used within the last hour/);
  });

  it('refuses bad input with one line naming it', async () => {
    const cache = a.cache;
    expectUserError(await gc(cache), /^layerpkg: error: cache gc needs --max-size SIZE, --keep LOCKFILE\.\.\. or both/);
    expectUserError(await gc(cache, '--max-size', 'lots'), /^layerpkg: error: --max-size "lots" is not a size: give bytes or a number with K, M, G or T \(powers of 1024\), e\.g\. 500M or 2G$/m);
    expectUserError(await gc(cache, '--max-size', '-5G'), /--max-size "-5G" is not a size/);
    const missing = path.join(repo.work, 'gone.lock.json');
    expectUserError(await gc(cache, '--keep', missing), new RegExp(`^layerpkg: error: --keep ${missing}: no such lockfile; pass the lock of each image to keep`));
    const garbage = path.join(repo.work, 'garbage.lock.json');
    writeFileSync(garbage, '{"not": "a lock"}');
    expectUserError(await gc(cache, '--keep', garbage), /garbage\.lock\.json: not a layerpkg lockfile .*regenerate it with `layerpkg lock`/);
    expectUserError(await gc(path.join(repo.work, 'nowhere'), '--max-size', '1G'), /no cache at .*nowhere/);
  });
});

describe('what a kept lock needs', () => {
  it('reads the package identities back from the keys layerKey makes, for this layer format only', () => {
    const pkgs = [
      { sha256: 'a'.repeat(64), size: 1 },
      { checksum: 'Q1abc/+=', size: 42 },
    ] as Parameters<typeof layerKey>[1];
    expect(reusableLayerMembers(layerKey('deb', pkgs))?.sort()).toEqual(['a'.repeat(64), 'checksum:Q1abc/+=:42'].sort());
    expect(reusableLayerMembers(layerKey('deb', pkgs).replace(/^layer-v\d+/, 'layer-v1'))).toBeUndefined();
    expect(reusableLayerMembers('final-v9:deb:abc')).toBeUndefined();
  });
});
