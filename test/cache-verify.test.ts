import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobFile, buildInto, copyCache, layerRows, type BuiltImage } from './helpers/builtCache.js';
import { layerpkg } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * `layerpkg cache verify [--repair]` on a real cache damaged the ways disks and people damage
 * one: a truncated package, a flipped byte in a layer, a blob deleted under an index row, a
 * garbage build record, a stray file. Verify names each and exits 1; repair drops them and the
 * next build makes the same image again.
 */
let repo: TestRepo;
let built: BuiltImage;
let n = 0;

beforeAll(async () => {
  repo = await createTestRepo();
  built = await buildInto(repo, ['alt-a'], 'verify', path.join(repo.work, 'cache-pristine'));
});
afterAll(async () => {
  await repo?.close();
});

const fresh = () => copyCache(built.cache, path.join(repo.work, `cache-${++n}`));
const verify = (cache: string, ...flags: string[]) => layerpkg(['cache', 'verify', '--cache-dir', cache, ...flags]);

describe('cache verify', () => {
  it('passes a sound cache, counting what it checked', async () => {
    const r = await verify(built.cache);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^cache ok: \d+ blobs, \d+ layer rows, 0 pinned file rows, 1 build records\n$/);
  });

  it('names each kind of damage, one line each, then exits 1 with a summary', async () => {
    const cache = fresh();
    const truncated = built.packageSha256s[0]!;
    const flipped = built.layerDigests[0]!;
    const row = layerRows(cache).find((r) => r.digest !== flipped)!;
    truncateSync(blobFile(cache, truncated), 10);
    const bytes = readFileSync(blobFile(cache, flipped));
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(blobFile(cache, flipped), bytes);
    rmSync(blobFile(cache, row.metadata_digest));
    const record = path.join(cache, 'builds', `${'0'.repeat(64)}.json`);
    writeFileSync(record, '{"result": garbage');
    writeFileSync(path.join(cache, 'blobs/sha256/notes.txt'), 'left by hand');

    const r = await verify(cache);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6); // two damaged blobs, a stray, two rows, a record
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^blob sha256:${truncated}: damaged: its 10 bytes hash to sha256:`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^blob ${flipped}: damaged: its ${bytes.length} bytes hash to`)));
    expect(lines).toContainEqual('stray file blobs/sha256/notes.txt: not a blob (its name is not a sha256, or it is not a regular file)');
    expect(lines).toContainEqual(`layer row ${row.key}: its metadata blob ${row.metadata_digest} is missing`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^layer row .*: its blob ${flipped} is damaged$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^build record builds\/0{64}\.json: not readable \(/));
    expect(r.stderr).toMatch(/^layerpkg: error: 6 problem\(s\) in the cache .* \(checked \d+ blobs, \d+ layer rows, 0 pinned file rows, 2 build records\); `layerpkg cache verify --repair` drops them\n$/);

    const json = await verify(cache, '--json');
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout) as { problems: { kind: string; what: string }[]; repaired: string[] };
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['blob', 'blob', 'build-record', 'layer-row', 'layer-row', 'stray']);
    expect(report.repaired).toEqual([]);
  });

  it('--repair drops what is wrong, exits 0, and the next build makes the same image', async () => {
    const cache = fresh();
    const flipped = built.layerDigests[1]!;
    const bytes = readFileSync(blobFile(cache, flipped));
    bytes[0]! ^= 1;
    writeFileSync(blobFile(cache, flipped), bytes);
    truncateSync(blobFile(cache, built.packageSha256s[1]!), 0);
    writeFileSync(path.join(cache, 'builds', `${'1'.repeat(64)}.json`), '[]');

    const r = await verify(cache, '--repair');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1).filter((l) => l.startsWith('dropped '))).toHaveLength(4); // two blobs, the row naming one, the record
    expect(lines.at(-1)).toMatch(/^dropped 4 problem\(s\) \(checked .*\); what they held is made again when needed$/);
    expect(existsSync(blobFile(cache, flipped))).toBe(false);
    expect(layerRows(cache).some((row) => row.digest === flipped)).toBe(false);

    expect((await verify(cache)).status).toBe(0);
    const out = path.join(repo.work, `out-${n}`);
    const again = await layerpkg(['build', built.image, '--cache-dir', cache, '-o', out, '--json']);
    expect(again.stderr).toBe('');
    const result = JSON.parse(again.stdout) as { manifestDigest: string; downloaded: { packages: number } };
    expect(result.manifestDigest).toBe(built.manifestDigest);
    expect(result.downloaded.packages).toBe(1); // the truncated package, fetched again
    expect((await verify(cache)).status).toBe(0);
  });

  it('reports and drops an unreadable index.db whole', async () => {
    const cache = fresh();
    for (const f of ['index.db-wal', 'index.db-shm']) rmSync(path.join(cache, f), { force: true });
    writeFileSync(path.join(cache, 'index.db'), 'this is not a database, but it is long enough to look like a header of one'.repeat(20));
    const r = await verify(cache);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^index\.db: cannot be read \(file is not a database\)\n$/);
    expect((await verify(cache, '--repair')).status).toBe(0);
    expect((await verify(cache)).status).toBe(0);
  });

  it('refuses a cache directory that does not exist, creating nothing', async () => {
    const missing = path.join(repo.work, 'no-such-cache');
    const r = await verify(missing);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`layerpkg: error: no cache at ${missing}: pass the cache directory with --cache-dir (or set LAYERPKG_CACHE_DIR)\n`);
    expect(existsSync(missing)).toBe(false);
    mkdirSync(missing);
  });
});
