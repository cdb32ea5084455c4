import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDebianVersions } from '../adapters/deb/version.js';
import { layerpkg, ROOT, run, runAsync } from './helpers/cli.js';
import { podmanRun, removeImage, storageRef } from './helpers/podman.js';

/**
 * The bundled example, built from its committed lock against the live Debian mirror, checked
 * the way a user would: podman runs it, dpkg audits it, skopeo and umoci read it.
 */
const EXAMPLE = path.join(ROOT, 'examples/debian-bookworm/image.toml');
const LOCK = path.join(ROOT, 'lockfiles/debian-bookworm.lock.json');

interface Layer {
  packages: string[];
  digest: string;
  diffId: string;
  size: number;
  cached: boolean;
}
interface Result {
  manifestDigest: string;
  layers: Layer[];
  downloaded: { packages: number };
}

let work: string;
let first: Result;
const lock = JSON.parse(readFileSync(LOCK, 'utf8')) as { architectures: { amd64: { packages: { name: string; version: string }[] } } };
const locked = lock.architectures.amd64.packages;

async function build(image: string, cache: string, out: string, lockfile = LOCK): Promise<Result> {
  const r = await layerpkg(['build', image, '--lockfile', lockfile, '--cache-dir', cache, '-o', out, '--json']);
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-live-'));
  first = await build(EXAMPLE, path.join(work, 'cache-1'), path.join(work, 'out'));
});

afterAll(async () => {
  // Asynchronous: removing a 100-layer image takes a moment; never block the test worker on it.
  await removeImage('localhost/layerpkg-live-test:latest');
  await rm(work, { recursive: true, force: true });
});

describe('bundled bookworm example', () => {
  it('stays within the layer budget with every locked package in exactly one layer', () => {
    expect(first.layers.length).toBeLessThanOrEqual(100);
    const inLayers = first.layers.flatMap((l) => l.packages).sort();
    expect(inLayers).toEqual(locked.map((p) => `${p.name}=${p.version}`).sort());
    expect(first.downloaded.packages).toBe(locked.length);
  });

  it('has a config skopeo reads: diff_ids, and a history entry per layer naming its packages', () => {
    const config = JSON.parse(run('skopeo', ['inspect', '--config', `oci:${path.join(work, 'out')}:latest`]).stdout);
    expect(config.rootfs.diff_ids).toEqual(first.layers.map((l) => l.diffId));
    expect(config.history).toHaveLength(first.layers.length);
    const bash = locked.find((p) => p.name === 'bash')!;
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toContain(`layerpkg: bash ${bash.version}`);
    expect(config.config.Cmd).toEqual(['/bin/bash']);
    expect(config.config.Labels['org.opencontainers.image.title']).toMatch(/bookworm/);
  });

  it('runs under podman: dpkg, awk, accounts and python3 TLS defaults work', async () => {
    const out = path.join(work, 'out');
    await runAsync('skopeo', ['copy', `oci:${out}:latest`, storageRef('localhost/layerpkg-live-test:latest')]);
    const script = [
      'echo "ii=$(dpkg -l | grep -c ^ii)"',
      `echo "awk=$(awk 'BEGIN{print 7*6}')"`,
      'echo "nobody=$(id -u nobody)"',
      `python3 -c 'import ssl, os; p = ssl.get_default_verify_paths().openssl_cafile; print("cafile=%s %d" % (p, os.path.getsize(p)))'`,
    ].join('; ');
    const r = await podmanRun('localhost/layerpkg-live-test:latest', ['sh', '-c', script]);
    const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
    expect(Number(got.ii)).toBe(locked.length);
    expect(got.awk).toBe('42');
    expect(got.nobody).toBe('65534');
    const [cafile, size] = got.cafile!.split(' ');
    expect(cafile).toBe('/usr/lib/ssl/cert.pem');
    expect(Number(size)).toBeGreaterThan(100_000);
  });

  it('unpacks with umoci into a root dpkg audits and verifies clean', () => {
    const bundle = path.join(work, 'bundle');
    run('umoci', ['unpack', '--image', `${path.join(work, 'out')}:latest`, bundle]);
    const rootfs = path.join(bundle, 'rootfs');
    expect(run('dpkg', [`--root=${rootfs}`, '--audit']).stdout).toBe('');
    expect(run('dpkg', [`--root=${rootfs}`, '-V']).stdout).toBe('');
    expect(readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:root:\/root:\/bin\/bash\n/);
    expect(readFileSync(path.join(rootfs, 'var/lib/dpkg/alternatives/awk'), 'utf8')).toMatch(/^auto\n\/usr\/bin\/awk\n/);
  });

  it('is reproducible: a second empty cache gives the same manifest digest', async () => {
    const again = await build(EXAMPLE, path.join(work, 'cache-2'), path.join(work, 'out-2'));
    expect(again.manifestDigest).toBe(first.manifestDigest);
  });

  it('rebuilds from the cache without downloading or unpacking anything', async () => {
    const again = await build(EXAMPLE, path.join(work, 'cache-1'), path.join(work, 'out-3'));
    expect(again.downloaded.packages).toBe(0);
    expect(again.layers.slice(0, -1).every((l) => l.cached)).toBe(true);
    expect(again.manifestDigest).toBe(first.manifestDigest);
  });

  it('shares layers with another image: a package with its own layer in both has one digest', async () => {
    const small = path.join(ROOT, 'fixtures/deb/images/small.toml');
    const smallLock = path.join(work, 'small.lock.json');
    const l = await layerpkg(['lock', small, '--lockfile', smallLock, '--cache-dir', path.join(work, 'cache-1')]);
    expect(l.stderr).toBe('');
    const other = await build(small, path.join(work, 'cache-small'), path.join(work, 'out-small'), smallLock);
    const own = (r: Result) => new Map(r.layers.filter((x) => x.packages.length === 1).map((x) => [x.packages[0]!, x.digest]));
    const a = own(first);
    const b = own(other);
    const common = [...a.keys()].filter((k) => b.has(k));
    expect(common.length).toBeGreaterThanOrEqual(10);
    for (const k of common) expect(b.get(k), k).toBe(a.get(k));
  });
});

describe('several repositories (bookworm, -updates, -security), locked live', () => {
  it('takes the newest version across them and builds an image dpkg accepts', async () => {
    const image = path.join(ROOT, 'fixtures/deb/images/security.toml');
    const lockfile = path.join(work, 'security.lock.json');
    const r = await layerpkg(['lock', image, '--lockfile', lockfile, '--cache-dir', path.join(work, 'cache-1')]);
    expect(r.stderr).toBe('');
    const pkgs = JSON.parse(readFileSync(lockfile, 'utf8')).architectures.amd64.packages as { name: string; version: string; repository: string }[];
    const fromSecurity = pkgs.filter((p) => p.repository === 'bookworm-security');
    expect(fromSecurity.length).toBeGreaterThan(0);
    // The committed lock is bookworm alone: every package security updated must be newer there.
    const base = new Map(locked.map((p) => [p.name, p.version]));
    const updated = fromSecurity.filter((p) => base.has(p.name));
    expect(updated.length).toBeGreaterThan(0);
    for (const p of updated) expect(compareDebianVersions(p.version, base.get(p.name)!), p.name).toBeGreaterThan(0);
    const built = await build(image, path.join(work, 'cache-1'), path.join(work, 'out-security'), lockfile);
    const bundle = path.join(work, 'bundle-security');
    run('umoci', ['unpack', '--image', `${path.join(work, 'out-security')}:latest`, bundle]);
    expect(run('dpkg', [`--root=${path.join(bundle, 'rootfs')}`, '--audit']).stdout).toBe('');
    const status = run('dpkg-query', [`--root=${path.join(bundle, 'rootfs')}`, '-W', '-f', '${Package} ${Version}\n']).stdout;
    for (const p of fromSecurity) expect(status).toContain(`${p.name} ${p.version}\n`);
    expect(built.layers.length).toBeLessThanOrEqual(100);
  });
});
