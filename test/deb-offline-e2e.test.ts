import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoServer } from './helpers/aptRepo.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';
import { layerpkg, run } from './helpers/cli.js';

/**
 * A complete lock → build → OCI round trip against a signed apt repository served on
 * 127.0.0.1, with packages built by the real dpkg-deb; checked with dpkg, skopeo and umoci.
 */
let repo: TestRepo;
let work: string;
let server: RepoServer;

beforeAll(async () => {
  repo = await createTestRepo();
  work = repo.work;
  server = repo.server;
});

afterAll(async () => {
  await repo?.close();
});

const cacheDir = (name: string) => path.join(work, `cache-${name}`);
const lockPath = () => path.join(work, 'image.lock.json');
const build = (cache: string, out: string, extra: string[] = []) =>
  layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', cache, '-o', out, '--json', ...extra]);

describe('lock', () => {
  it('pins the closure: newest version across repositories, alternatives, virtual packages', async () => {
    const r = await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', cacheDir('a')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lock = JSON.parse(readFileSync(lockPath(), 'utf8'));
    const pkgs = lock.architectures.amd64.packages as { name: string; version: string; repository: string; requiredBy: string[]; sha256: string }[];
    expect(pkgs.map((p) => `${p.name}=${p.version}@${p.repository}`)).toEqual([
      'alt-a=1@stable',
      'alt-b=1@stable',
      'base-tool=1.0-1@stable',
      'libfoo=1.1-1@updates',
      'mta-impl=2@stable',
    ]);
    expect(pkgs.find((p) => p.name === 'mta-impl')!.requiredBy).toEqual(['base-tool']);
    expect(pkgs.find((p) => p.name === 'base-tool')!.requiredBy).toEqual(['(requested)']);
    expect(lock.repositories[0].indexes[0].verifiedBy).toMatch(/^openpgp:[0-9a-f]{40}$/);
    expect(lock.repositories[0].indexes[1]).toMatchObject({ url: `${server.url}/dists/stable/main/binary-amd64/Packages.xz` });
  });

  it('is deterministic: the same inputs give a byte-identical lock', async () => {
    const first = readFileSync(lockPath());
    const again = path.join(work, 'again.lock.json');
    expect((await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', cacheDir('b'), '--lockfile', again])).status).toBe(0);
    expect(readFileSync(again).equals(first)).toBe(true);
  });
});

describe('build', () => {
  let result: {
    manifestDigest: string;
    layers: { packages: string[]; digest: string; diffId: string; size: number; cached: boolean }[];
    downloaded: { packages: number };
    timings: Record<string, number>;
  };
  const out = () => path.join(work, 'out');

  it('writes an OCI layout that skopeo accepts, with config from image.toml', async () => {
    const r = await build(cacheDir('a'), out());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    result = JSON.parse(r.stdout);
    expect(result.layers).toHaveLength(6); // five packages and the final layer
    expect(Object.keys(result.timings)).toEqual(expect.arrayContaining(['fetch', 'unpack', 'final', 'write']));
    const inspect = JSON.parse(run('skopeo', ['inspect', `oci:${out()}:v1`]).stdout);
    expect(inspect.Digest).toBe(result.manifestDigest);
    expect(inspect.Labels).toEqual({ 'org.example.team': 'layerpkg' });
    const config = JSON.parse(run('skopeo', ['inspect', '--config', `oci:${out()}:v1`]).stdout);
    expect(config.config).toMatchObject({ Entrypoint: ['/usr/bin/hello'], Cmd: ['--greet'], User: '0:0', WorkingDir: '/srv' });
    expect(config.config.Env).toContain('GREETING=hi');
    expect(config.rootfs.diff_ids).toEqual(result.layers.map((l) => l.diffId));
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toEqual([
      'layerpkg: alt-a 1',
      'layerpkg: alt-b 1',
      'layerpkg: base-tool 1.0-1',
      'layerpkg: libfoo 1.1-1',
      'layerpkg: mta-impl 2',
      'layerpkg: package database, accounts and links',
    ]);
  });

  it('hardlinks layer blobs from the cache instead of copying them', () => {
    for (const l of result.layers) {
      const hex = l.digest.slice(7);
      const inOut = statSync(path.join(out(), 'blobs/sha256', hex));
      const inCache = statSync(path.join(cacheDir('a'), 'blobs/sha256', hex));
      expect(inOut.ino).toBe(inCache.ino);
    }
  });

  it('unpacks with umoci into a merged-/usr tree that dpkg verifies', () => {
    const bundle = path.join(work, 'bundle');
    run('umoci', ['unpack', '--image', `${out()}:v1`, bundle]);
    const rootfs = path.join(bundle, 'rootfs');
    expect(readlinkSync(path.join(rootfs, 'bin'))).toBe('usr/bin');
    expect(readFileSync(path.join(rootfs, 'usr/bin/hello'), 'utf8')).toContain('echo hello');
    expect(lstatSync(path.join(rootfs, 'usr/bin/su-helper')).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(path.join(rootfs, 'usr/bin/hi'))).toBe('hello');
    // The postinst's setcap and symbolic chmod, on a copy of the packaged file in the final layer.
    expect(lstatSync(path.join(rootfs, 'usr/sbin/mta')).mode & 0o7777).toBe(0o0774);
    expect(run('getcap', [path.join(rootfs, 'usr/sbin/mta')]).stdout).toMatch(/usr\/sbin\/mta cap_net_bind_service=ep$/m);
    expect(readFileSync(path.join(rootfs, 'etc/mta-greeting'), 'utf8')).toBe('shared content\n');
    expect(lstatSync(path.join(rootfs, 'etc/mta-greeting')).mode & 0o7777).toBe(0o644);
    const a = statSync(path.join(rootfs, 'usr/share/doc/base-tool/a'));
    expect(statSync(path.join(rootfs, 'usr/share/doc/base-tool/b')).ino).toBe(a.ino);
    expect(run('dpkg', [`--root=${rootfs}`, '--audit']).stdout).toBe('');
    expect(run('dpkg', [`--root=${rootfs}`, '-V']).stdout).toBe('');
    const listed = run('dpkg-query', [`--root=${rootfs}`, '-W', '-f', '${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n']).stdout;
    expect(listed.trim().split('\n').map((l) => l.trimEnd()).sort()).toEqual([
      'alt-a:amd64 1 ii',
      'alt-b:amd64 1 ii',
      'base-tool:amd64 1.0-1 ii',
      'libfoo:amd64 1.1-1 ii',
      'mta-impl:all 2 ii',
    ]);
    // Multi-Arch: same packages have arch-qualified info files, as dpkg names them.
    expect(existsSync(path.join(rootfs, 'var/lib/dpkg/info/libfoo:amd64.list'))).toBe(true);
    const status = readFileSync(path.join(rootfs, 'var/lib/dpkg/status'), 'utf8');
    expect(status).toMatch(/Package: base-tool\nEssential: yes\nStatus: install ok installed\nPriority: required\n/);
    expect(status).toContain(`Conffiles:\n /etc/base-tool.conf ${createHash('md5').update('setting = 1\n').digest('hex')}\n`);
    expect(run('dpkg', [`--root=${rootfs}`, '-L', 'base-tool']).stdout).toContain('/bin/hello');
  });

  it('downloads nothing and reuses every layer on a second build', async () => {
    const before = server.requests.filter((r) => r.endsWith('.deb')).length;
    const r = await build(cacheDir('a'), path.join(work, 'out2'));
    expect(r.status).toBe(0);
    const again = JSON.parse(r.stdout);
    expect(again.downloaded.packages).toBe(0);
    expect(again.layers.slice(0, -1).every((l: { cached: boolean }) => l.cached)).toBe(true);
    expect(again.manifestDigest).toBe(result.manifestDigest);
    expect(server.requests.filter((r) => r.endsWith('.deb')).length).toBe(before);
  });

  it('answers a no-op rebuild from its record, and rebuilds when the output or inputs changed', async () => {
    const out = path.join(work, 'out-noop');
    const first = JSON.parse((await build(cacheDir('a'), out)).stdout);
    expect(first.upToDate).toBeUndefined();
    const again = JSON.parse((await build(cacheDir('a'), out)).stdout);
    expect(again).toMatchObject({ upToDate: true, manifestDigest: first.manifestDigest, downloaded: { packages: 0 } });
    expect(again.layers.every((l: { cached: boolean }) => l.cached)).toBe(true);
    // A layout that is no longer what the recorded build wrote is rebuilt, not trusted.
    rmSync(path.join(out, 'blobs/sha256', first.layers[0].digest.slice(7)));
    const repaired = JSON.parse((await build(cacheDir('a'), out)).stdout);
    expect(repaired.upToDate).toBeUndefined();
    expect(repaired.manifestDigest).toBe(first.manifestDigest);
    expect(JSON.parse(run('skopeo', ['inspect', `oci:${out}:v1`]).stdout).Digest).toBe(first.manifestDigest);
    // Other inputs: a new timestamp is a new image.
    const r = await layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', cacheDir('a'), '-o', out, '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const other = JSON.parse(r.stdout);
    expect(other.upToDate).toBeUndefined();
    expect(other.manifestDigest).not.toBe(first.manifestDigest);
  });

  it('is reproducible: an empty cache gives the same manifest digest', async () => {
    const r = await build(cacheDir('fresh'), path.join(work, 'out3'));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).manifestDigest).toBe(result.manifestDigest);
  });
});
