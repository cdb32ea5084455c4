import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeLeftovers, removeSiblingLeftovers } from '../src/cas/removeLeftovers.js';
import { ABANDONED_MS, OWN_NAMESPACE } from '../src/cas/tempOwner.js';
import { layerpkg } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * What killed runs leave (a staging file in the cache's tmp/ can be gigabytes; a half-made
 * layout beside the output) is removed by the next run — but never a live build's file, also
 * when the cache is shared across pid namespaces, and never a reused pid's stranger.
 */
const deadPid = (() => {
  const pid = spawnSync(process.execPath, ['-e', '']).pid!;
  expect(() => process.kill(pid, 0)).toThrow(); // gone: ESRCH
  return pid;
})();
const live = `${process.pid}-${OWN_NAMESPACE}`;
const dead = `${deadPid}-${OWN_NAMESPACE}`;

function touch(file: string, ageMs = 0, content = 'x'): void {
  writeFileSync(file, content);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(file, t, t);
}

describe('removeLeftovers (the cache tmp/)', () => {
  it("removes a dead process's files, keeps a live one's, and judges other namespaces by age only", async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-leftovers-'));
    touch(path.join(tmp, `${dead}-aaaa.stage`));
    mkdirSync(path.join(tmp, `${dead}-dir`));
    touch(path.join(tmp, `${dead}-dir`, 'inside'));
    touch(path.join(tmp, `${live}-bbbb.stage`));
    touch(path.join(tmp, `${live}-reused`), ABANDONED_MS + 60_000); // a pid reused since: too old to be this process's
    touch(path.join(tmp, `1-${OWN_NAMESPACE}-init`)); // pid 1 runs (EPERM counts as running)
    touch(path.join(tmp, `${deadPid}-0badcafe-other-container`)); // another pid namespace: its pid means nothing here
    touch(path.join(tmp, `${deadPid}-0badcafe-other-old`), ABANDONED_MS + 60_000);
    touch(path.join(tmp, `${deadPid}-0123456789abcdef`)); // the old naming, without a namespace
    touch(path.join(tmp, 'unnamed'), ABANDONED_MS + 60_000);

    const removed = await removeLeftovers(tmp);
    expect(removed.sort()).toEqual([`${dead}-aaaa.stage`, `${dead}-dir`, `${deadPid}-0badcafe-other-old`, `${live}-reused`, 'unnamed'].sort());
    expect(readdirSync(tmp).sort()).toEqual([`${deadPid}-0123456789abcdef`, `${deadPid}-0badcafe-other-container`, `1-${OWN_NAMESPACE}-init`, `${live}-bbbb.stage`].sort());
  });

  it('beside an output or a lockfile: only that target, only dead or abandoned owners', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-siblings-'));
    const target = path.join(dir, 'out');
    mkdirSync(`${target}.tmp-${dead}`);
    touch(path.join(`${target}.tmp-${dead}`, 'index.json'));
    mkdirSync(`${target}.old-${dead}`);
    mkdirSync(`${target}.tmp-${live}`);
    mkdirSync(`${target}2.tmp-${dead}`); // another output's
    touch(`${target}.notes`);
    expect((await removeSiblingLeftovers(target)).sort()).toEqual([`out.old-${dead}`, `out.tmp-${dead}`]);
    expect(readdirSync(dir).sort()).toEqual(['out.notes', `out.tmp-${live}`, `out2.tmp-${dead}`]);
  });
});

describe('the commands clean up', () => {
  let repo: TestRepo;
  beforeAll(async () => {
    repo = await createTestRepo();
  });
  afterAll(async () => {
    await repo?.close();
  });

  it('lock and build remove what killed runs left in the cache, beside the lock and beside the output', async () => {
    const cache = path.join(repo.work, 'cache-left');
    const image = repo.writeImage(['alt-a'], { file: 'left.toml' });
    const lock = path.join(repo.work, 'left.lock.json');
    const out = path.join(repo.work, 'left-out');
    mkdirSync(path.join(cache, 'tmp'), { recursive: true });
    touch(path.join(cache, 'tmp', `${dead}-1234.stage`), 0, 'x'.repeat(1 << 20));
    touch(path.join(cache, 'tmp', `${live}-5678`));
    touch(`${lock}.tmp-${dead}`);
    mkdirSync(`${out}.tmp-${dead}/blobs`, { recursive: true });
    mkdirSync(`${out}.old-${dead}`);

    expect((await layerpkg(['lock', image, '--cache-dir', cache, '-q'])).status).toBe(0);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([`${live}-5678`]);
    expect(existsSync(`${lock}.tmp-${dead}`)).toBe(false);

    const r = await layerpkg(['build', image, '--cache-dir', cache, '-o', out, '-q']);
    expect(r.stderr).toBe('');
    expect(readdirSync(repo.work).filter((f) => f.startsWith('left-out'))).toEqual(['left-out']);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([`${live}-5678`]);
  });

  it('a failed build leaves nothing: no staging file, no half layout, no build record', async () => {
    const cache = path.join(repo.work, 'cache-fail');
    const image = repo.writeImage(['overlap-a', 'overlap-b'], { file: 'fail.toml' });
    const out = path.join(repo.work, 'fail-out');
    expect((await layerpkg(['lock', image, '--cache-dir', cache, '-q'])).status).toBe(0);
    const r = await layerpkg(['build', image, '--cache-dir', cache, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/overlap-a.*overlap-b|overlap-b.*overlap-a/);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
    expect(readdirSync(repo.work).filter((f) => f.startsWith('fail-out'))).toEqual([]);
    expect(existsSync(path.join(cache, 'builds'))).toBe(false);
    expect((await layerpkg(['cache', 'verify', '--cache-dir', cache])).status).toBe(0);
  });
});
