import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, statSync, lstatSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, makeKey, serveDir, writeAptRepo, type RepoServer } from './helpers/aptRepo.js';
import { layerpkg, run } from './helpers/cli.js';

/**
 * A complete lock → build → OCI round trip against a signed apt repository served on
 * 127.0.0.1, with packages built by the real dpkg-deb; checked with dpkg, skopeo and umoci.
 */
let work: string;
let server: RepoServer;
let gone = new Set<string>();
let corrupt = new Map<string, Buffer>();

const imageToml = (include: string[], url: string, extra = '') => `
[image]
name = "offline"
tag = "v1"
architectures = ["amd64"]

[[repository]]
name = "stable"
type = "deb"
url = "${url}"
suite = "stable"
components = ["main"]
keyring = "keyring.gpg"

[[repository]]
name = "updates"
type = "deb"
url = "${url}"
suite = "updates"
keyring = "keyring.gpg"

[packages]
seed = "required"
include = ${JSON.stringify(include)}

[config]
entrypoint = ["/usr/bin/hello"]
cmd = ["--greet"]
user = "0:0"
workdir = "/srv"
env = { GREETING = "hi" }
labels = { "org.example.team" = "layerpkg" }
${extra}`;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-offline-'));
  const debs = path.join(work, 'debs');
  const key = await makeKey();
  const deb = (spec: Parameters<typeof buildDeb>[1]) => buildDeb(debs, spec);
  const stable = [
    deb({
      name: 'base-tool',
      version: '1.0-1',
      fields: { Essential: 'yes', Priority: 'required', Depends: 'libfoo (>= 1.1), virt-mta', 'Multi-Arch': 'foreign' },
      files: {
        'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 },
        'usr/bin/su-helper': { content: 'setuid helper\n', mode: 0o4755 },
        'usr/share/doc/base-tool/a': { content: 'shared content\n' },
        'etc/base-tool.conf': { content: 'setting = 1\n' },
      },
      hardlinks: { 'usr/share/doc/base-tool/b': 'usr/share/doc/base-tool/a' },
      symlinks: { 'usr/bin/hi': 'hello' },
      conffiles: ['/etc/base-tool.conf'],
    }),
    deb({ name: 'libfoo', version: '1.0-1', fields: { 'Multi-Arch': 'same', Priority: 'optional' }, files: { 'usr/lib/x86_64-linux-gnu/libfoo.so.1': { content: 'v1.0' } } }),
    deb({ name: 'mta-impl', version: '2', arch: 'all', fields: { Provides: 'virt-mta' }, files: { 'usr/sbin/mta': { content: 'mta', mode: 0o755 } } }),
    deb({ name: 'alt-a', version: '1', fields: { Depends: 'missing-pkg | alt-b (>= 1)' }, files: { 'usr/share/alt-a': { content: 'a' } } }),
    deb({ name: 'alt-b', version: '1', files: { 'usr/share/alt-b': { content: 'b' } } }),
    deb({ name: 'unused', version: '1', files: { 'usr/share/unused': { content: 'u' } } }),
    deb({ name: 'needs-new', version: '1', fields: { Depends: 'alt-a, libfoo (>= 9)' } }),
    deb({ name: 'clash-a', version: '1', fields: { Conflicts: 'clash-b' } }),
    deb({ name: 'clash-b', version: '1' }),
    deb({ name: 'overlap-a', version: '1', files: { 'usr/share/overlap': { content: 'a' } } }),
    deb({ name: 'overlap-b', version: '1', files: { 'usr/share/overlap': { content: 'b' } } }),
  ];
  const updates = [
    deb({ name: 'libfoo', version: '1.1-1', fields: { 'Multi-Arch': 'same', Priority: 'optional' }, files: { 'usr/lib/x86_64-linux-gnu/libfoo.so.1': { content: 'v1.1' } } }),
  ];
  const repo = path.join(work, 'repo');
  await writeAptRepo(repo, 'stable', stable, key);
  await writeAptRepo(repo, 'updates', updates, key);
  writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
  server = await serveDir(repo, (p) => (gone.has(p) ? 404 : corrupt.get(p)));
  writeFileSync(path.join(work, 'image.toml'), imageToml(['alt-a'], server.url));
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
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

  it('is reproducible: an empty cache gives the same manifest digest', async () => {
    const r = await build(cacheDir('fresh'), path.join(work, 'out3'));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).manifestDigest).toBe(result.manifestDigest);
  });
});
