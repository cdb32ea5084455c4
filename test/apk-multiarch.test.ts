import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApkSigningKey, simpleApkSpec, writeApkRepository } from './helpers/apkRepo.js';
import { layerpkg, run } from './helpers/cli.js';

/**
 * One image.toml, two architectures: one package set per architecture in the lock, one manifest
 * per architecture under an OCI image index, each with its own /etc/apk/arch. No emulation: no
 * package is ever run.
 */
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-apk-multi-'));
  const key = makeApkSigningKey();
  for (const arch of ['x86_64', 'aarch64']) {
    await writeApkRepository(
      path.join(work, 'repo'),
      arch,
      [
        simpleApkSpec('hello', { arch, depend: ['so:libhello.so.1'], files: { 'usr/bin/hello': `hello for ${arch}\n` } }),
        // The library only on x86_64 is named differently on aarch64: resolution is per architecture.
        simpleApkSpec(arch === 'x86_64' ? 'libhello' : 'libhello-arm', { arch, provides: ['so:libhello.so.1=1'], files: { 'usr/lib/libhello.so.1': arch } }),
      ],
      key,
    );
  }
  writeFileSync(
    path.join(work, 'image.toml'),
    '[image]\nname = "multi"\narchitectures = ["x86_64", "aarch64"]\n\n[[repository]]\nname = "main"\ntype = "apk"\nurl = "repo"\nkeys = "repo/keys"\n\n[packages]\ninclude = ["hello"]\n',
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('apk multi-architecture', () => {
  it('locks one package set per architecture and builds an image index skopeo and umoci read', async () => {
    const cache = path.join(work, 'cache');
    const locked = await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', cache, '-q']);
    expect(locked.stderr).toBe('');
    const lock = JSON.parse(readFileSync(path.join(work, 'image.lock.json'), 'utf8'));
    expect(lock.architectures.x86_64.packages.map((p: { name: string }) => p.name)).toEqual(['hello', 'libhello']);
    expect(lock.architectures.aarch64.packages.map((p: { name: string }) => p.name)).toEqual(['hello', 'libhello-arm']);

    const out = path.join(work, 'out');
    const r = await layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', cache, '-o', out, '--json']);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { indexDigest?: string; architectures: Record<string, { manifestDigest: string }> };
    expect(result.indexDigest).toMatch(/^sha256:/);

    const index = JSON.parse(run('skopeo', ['inspect', '--raw', `oci:${out}:latest`]).stdout) as { manifests: { digest: string; platform: { architecture: string; variant?: string } }[] };
    expect(index.manifests.map((m) => `${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}`)).toEqual(['amd64', 'arm64/v8']);
    expect(index.manifests.map((m) => m.digest)).toEqual([result.architectures.x86_64!.manifestDigest, result.architectures.aarch64!.manifestDigest]);
    for (const [arch, oci] of [['x86_64', 'amd64'], ['aarch64', 'arm64']] as const) {
      const config = JSON.parse(run('skopeo', ['--override-arch', oci, 'inspect', '--config', `oci:${out}:latest`]).stdout);
      expect(config.architecture).toBe(oci);
      // umoci reads one manifest: skopeo picks the architecture's out of the index first.
      const single = path.join(work, `single-${arch}`);
      run('skopeo', ['--override-arch', oci, 'copy', `oci:${out}:latest`, `oci:${single}:latest`]);
      const bundle = path.join(work, `bundle-${arch}`);
      run('umoci', ['unpack', '--image', `${single}:latest`, bundle]);
      expect(readFileSync(path.join(bundle, 'rootfs/etc/apk/arch'), 'utf8')).toBe(`${arch}\n`);
      expect(readFileSync(path.join(bundle, 'rootfs/usr/bin/hello'), 'utf8')).toBe(`hello for ${arch}\n`);
    }
  });
});
