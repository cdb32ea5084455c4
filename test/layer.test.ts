import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LayerEntry } from '../adapters/types.js';
import { Cas } from '../src/cas/cas.js';
import { orderEntries } from '../src/layer/orderEntries.js';
import { planLayers } from '../src/layer/planLayers.js';
import { writeLayer } from '../src/layer/writeLayer.js';
import { run } from './helpers/cli.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-layer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pkgs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `pkg-${String(i).padStart(3, '0')}`, sha256: `${i}`.padStart(64, '0'), size: 1000 + ((i * 7919) % 5000) }));

describe('planLayers', () => {
  it('gives each package its own layer while the budget allows', () => {
    const plan = planLayers(pkgs(99), 100);
    expect(plan).toHaveLength(99);
    expect(plan.every((l) => !l.grouped && l.packages.length === 1)).toBe(true);
  });

  it('groups above the budget, with every package in exactly one layer', () => {
    const input = pkgs(300);
    const plan = planLayers(input, 100);
    expect(plan.length).toBeLessThanOrEqual(99);
    expect(plan.flatMap((l) => l.packages.map((p) => p.name)).sort()).toEqual(input.map((p) => p.name).sort());
    // The largest packages are the ones that keep a layer of their own.
    const own = plan.filter((l) => !l.grouped).map((l) => l.packages[0]!.size);
    const grouped = plan.filter((l) => l.grouped).flatMap((l) => l.packages.map((p) => p.size));
    expect(Math.min(...own)).toBeGreaterThanOrEqual(Math.max(...grouped));
  });

  it.each([
    ['a package with its own layer', 'pkg-173'],
    ['a grouped package', 'pkg-150'],
  ])('changes exactly one package layer when %s gets a new version of about the same size', (_what, name) => {
    const before = pkgs(300);
    const plan = planLayers(before, 100);
    const own = plan.some((l) => !l.grouped && l.packages[0]!.name === name);
    expect(own).toBe(name === 'pkg-173');
    const after = before.map((p) => (p.name === name ? { ...p, sha256: 'f'.repeat(64), size: p.size + 3 } : p));
    const key = (l: { packages: { sha256: string }[] }) => l.packages.map((p) => p.sha256).join(',');
    const a = new Set(plan.map(key));
    const changed = planLayers(after, 100).map(key).filter((k) => !a.has(k));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toContain('f'.repeat(64));
  });
});

describe('orderEntries', () => {
  const e = (p: string, type: LayerEntry['type'], linkname?: string): { entry: LayerEntry } => ({
    entry: { path: p, type, mode: 0o755, uid: 0, gid: 0, mtime: 0, size: type === 'file' ? 4 : 0, linkname },
  });

  it('sorts by path and makes the first path of a hardlink set carry the content', () => {
    const out = orderEntries([e('usr/bin/perl5.36.0', 'file'), e('usr/bin/perl', 'hardlink', 'usr/bin/perl5.36.0'), e('usr', 'directory')]);
    expect(out.map((o) => [o.entry.path, o.entry.type, o.entry.linkname])).toEqual([
      ['usr', 'directory', undefined],
      ['usr/bin/perl', 'file', undefined],
      ['usr/bin/perl5.36.0', 'hardlink', 'usr/bin/perl'],
    ]);
  });
});

describe('writeLayer', () => {
  it('writes the same bytes for the same entries, with numeric ids and no user names', async () => {
    const cas = new Cas(path.join(work, 'cas'));
    await cas.init();
    const items = () => [
      { entry: { path: 'etc', type: 'directory' as const, mode: 0o755, uid: 0, gid: 0, mtime: 100, size: 0 } },
      { entry: { path: 'etc/shadow', type: 'file' as const, mode: 0o640, uid: 0, gid: 42, mtime: 2_000_000_000, size: 5 }, content: async () => Buffer.from('root\n') },
      { entry: { path: 'usr/bin/su', type: 'file' as const, mode: 0o4755, uid: 0, gid: 0, mtime: 100, size: 2 }, content: async () => Buffer.from('su') },
    ];
    const a = await writeLayer(cas, items(), { mtimeClamp: 1_000 });
    const b = await writeLayer(cas, items(), { mtimeClamp: 1_000 });
    expect(b).toEqual(a);
    const listing = run('tar', ['--numeric-owner', '-tvzf', cas.blobPath(a.digest)]).stdout;
    expect(listing).toMatch(/^drwxr-xr-x 0\/0\s+0 1970-01-01 00:01 etc\/\n/);
    expect(listing).toMatch(/-rw-r----- 0\/42\s+5 1970-01-01 00:16 etc\/shadow/); // clamped to 1000 s
    expect(listing).toMatch(/-rwsr-xr-x 0\/0\s+2 .* usr\/bin\/su/);
    const verbose = run('tar', ['-tvzf', cas.blobPath(a.digest)]).stdout;
    expect(verbose).not.toMatch(/root/);
  });
});
