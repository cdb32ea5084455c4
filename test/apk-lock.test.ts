import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAndParseApkIndex, readApkKeysSync } from '../adapters/apk/apkIndex.js';
import { layerpkg } from './helpers/cli.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';

/**
 * Locking against the real Alpine indexes in ../shared/fixtures, laid out as a mirror:
 * <repo>/x86_64/APKINDEX.tar.gz (v3.16 main) and <repo>/aarch64/APKINDEX.tar.gz (v3.17 main).
 * No package is downloaded to lock: apk pins each package by its index `C:` and `S:`.
 */
let work: string;
const X86 = path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz');
const ARM = path.join(ALPINE_FIXTURES, 'v3.17-main-aarch64/APKINDEX.tar.gz');

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-apk-lock-'));
  mkdirSync(path.join(work, 'mirror/x86_64'), { recursive: true });
  mkdirSync(path.join(work, 'mirror/aarch64'), { recursive: true });
  copyFileSync(X86, path.join(work, 'mirror/x86_64/APKINDEX.tar.gz'));
  copyFileSync(ARM, path.join(work, 'mirror/aarch64/APKINDEX.tar.gz'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function image(file: string, include: string[], arches = ['x86_64'], keys = path.join(ALPINE_FIXTURES, 'keys'), mirror = 'mirror'): string {
  const p = path.join(work, file);
  writeFileSync(
    p,
    `[image]\nname = "alpine-lock"\narchitectures = ${JSON.stringify(arches)}\n\n` +
      `[[repository]]\nname = "main"\ntype = "apk"\nurl = "${mirror}"\nkeys = "${keys}"\n\n` +
      `[packages]\ninclude = ${JSON.stringify(include)}\n`,
  );
  return p;
}

interface Locked {
  name: string;
  version: string;
  arch: string;
  url: string;
  checksum?: string;
  sha256?: string;
  size: number;
  requiredBy: string[];
}

async function lock(file: string): Promise<{ status: number | null; stderr: string; lock?: { architectures: Record<string, { packages: Locked[] }>; repositories: { indexes: { url: string; verifiedBy: string }[] }[] } }> {
  const r = await layerpkg(['lock', file, '--cache-dir', path.join(work, 'cache'), '-q']);
  const lockFile = file.replace(/\.toml$/, '.lock.json');
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(lockFile, 'utf8'));
  } catch {
    parsed = undefined;
  }
  return { status: r.status, stderr: r.stderr, lock: parsed };
}

describe('apk lock on the real v3.16 / v3.17 indexes', () => {
  it('resolves curl on v3.16 x86_64 to a closed set with musl and ca-certificates, pinned by C: and S:', async () => {
    const r = await lock(image('curl.toml', ['curl']));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pkgs = r.lock!.architectures.x86_64!.packages;
    const names = pkgs.map((p) => p.name);
    // ca-certificates needs /bin/sh (busybox provides it); ssl_client has i:busybox=… libssl1.1.
    expect(names).toEqual([
      'brotli-libs', 'busybox', 'ca-certificates', 'curl', 'libcrypto1.1', 'libcurl', 'libssl1.1', 'musl', 'nghttp2-libs', 'ssl_client', 'zlib',
    ]);
    expect(pkgs.find((p) => p.name === 'ssl_client')!.requiredBy).toEqual(['(install_if)']);
    expect(pkgs.find((p) => p.name === 'busybox')!.requiredBy).toEqual(['ca-certificates']);
    // Every pin equals the index record, field for field.
    const index = verifyAndParseApkIndex(readFileSync(X86), readApkKeysSync(path.join(ALPINE_FIXTURES, 'keys')), 'x');
    for (const p of pkgs) {
      const rec = index.records.find((x) => x.fields.get('P') === p.name)!;
      expect(p.checksum).toBe(rec.fields.get('C'));
      expect(p.size).toBe(Number(rec.fields.get('S')));
      expect(p.version).toBe(rec.fields.get('V'));
      expect(p.sha256).toBeUndefined();
      expect(p.url.endsWith(`/mirror/x86_64/${p.name}-${p.version}.apk`)).toBe(true);
    }
    // so: dependencies were met by providers: curl needs so:libcurl.so.4 from libcurl.
    expect(pkgs.find((p) => p.name === 'libcurl')!.requiredBy).toContain('curl');
    expect(pkgs.find((p) => p.name === 'musl')!.requiredBy.length).toBeGreaterThan(3);
    expect(r.lock!.repositories[0]!.indexes[0]!.verifiedBy).toBe('rsa:alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub');
  });

  it('locks one image.toml for x86_64 and aarch64 from the two indexes, one package set each', async () => {
    const r = await lock(image('multi.toml', ['busybox', 'curl'], ['x86_64', 'aarch64']));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const x86 = r.lock!.architectures.x86_64!.packages;
    const arm = r.lock!.architectures.aarch64!.packages;
    expect(x86.every((p) => p.arch === 'x86_64' || p.arch === 'noarch')).toBe(true);
    expect(arm.every((p) => p.arch === 'aarch64' || p.arch === 'noarch')).toBe(true);
    expect(arm.find((p) => p.name === 'curl')!.url).toMatch(/\/mirror\/aarch64\/curl-.*\.apk$/);
    // Different Alpine branches: v3.17 has OpenSSL 3 where v3.16 has 1.1.
    expect(x86.map((p) => p.name)).toContain('libssl1.1');
    expect(arm.map((p) => p.name)).toContain('libssl3');
    expect(r.lock!.repositories[0]!.indexes.map((i) => i.verifiedBy)).toEqual([
      'rsa:alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub',
      'rsa:alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub',
    ]);
  });

  it('picks the provider with the highest provider_priority (k:)', async () => {
    // v3.17: /bin/sh is provided by busybox-binsh (k:100), dash-binsh (k:60) and yash-binsh (k:50).
    const r = await lock(image('sh.toml', ['/bin/sh'], ['aarch64']));
    expect(r.stderr).toBe('');
    const names = r.lock!.architectures.aarch64!.packages.map((p) => p.name);
    expect(names).toContain('busybox-binsh');
    expect(names).not.toContain('dash-binsh');
    expect(names).not.toContain('yash-binsh');
  });

  it('picks the provider with the highest provided version first, as apk-tools compares providers', async () => {
    // v3.17: gcc needs so:libisl.so.23, which isl24 provides at 23.1.0 and isl25 at 23.2.0.
    const r = await lock(image('gcc.toml', ['gcc'], ['aarch64']));
    expect(r.stderr).toBe('');
    const names = r.lock!.architectures.aarch64!.packages.map((p) => p.name);
    expect(names).toContain('isl25');
    expect(names).not.toContain('isl24');
  });

  it('skips an install_if package that conflicts with the selection, as apk does', async () => {
    // v3.16: dhcp-server-vanilla has i:dhcp=… and D:!dhcp-server-ldap.
    const vanilla = await lock(image('dhcp.toml', ['dhcp']));
    expect(vanilla.lock!.architectures.x86_64!.packages.find((p) => p.name === 'dhcp-server-vanilla')?.requiredBy).toEqual(['(install_if)']);
    const ldap = await lock(image('dhcp-ldap.toml', ['dhcp', 'dhcp-server-ldap']));
    expect(ldap.stderr).toBe('');
    const names = ldap.lock!.architectures.x86_64!.packages.map((p) => p.name);
    expect(names).toContain('dhcp-server-ldap');
    expect(names).not.toContain('dhcp-server-vanilla');
  });

  it('adds an install_if (i:) package once all its conditions are selected, and only then', async () => {
    // v3.16: git-zsh-completion has i:zsh=5.8.1-r4 git.
    const both = await lock(image('git-zsh.toml', ['git', 'zsh']));
    expect(both.stderr).toBe('');
    const completion = both.lock!.architectures.x86_64!.packages.find((p) => p.name === 'git-zsh-completion');
    expect(completion?.requiredBy).toEqual(['(install_if)']);
    const gitOnly = await lock(image('git.toml', ['git']));
    expect(gitOnly.lock!.architectures.x86_64!.packages.map((p) => p.name)).not.toContain('git-zsh-completion');
  });

  it('refuses a conflict (!pkg) with both packages named', async () => {
    // v3.16: dropbear-ssh has D:!openssh-client.
    const r = await lock(image('conflict.toml', ['dropbear-ssh', 'openssh-client']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/conflicting packages: dropbear-ssh \S+ conflicts with openssh-client(-default)? \S+ \(!openssh-client\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names an unknown package with close names', async () => {
    const r = await lock(image('missing.toml', ['curll']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown package "curll".*did you mean "curl"/);
  });

  it('refuses an index signed by a key not in the keys directory; nothing is locked', async () => {
    const keys = path.join(work, 'only-317-key');
    mkdirSync(keys, { recursive: true });
    copyFileSync(path.join(ALPINE_FIXTURES, 'keys/alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub'), path.join(keys, 'alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub'));
    const file = image('unknown-key.toml', ['curl'], ['x86_64'], keys);
    const r = await lock(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/signed by "alpine-devel@lists\.alpinelinux\.org-6165ee59\.rsa\.pub", which is not among the trusted keys/);
    expect(r.lock).toBeUndefined();
  });

  it('refuses a tampered and a truncated index; nothing is locked', async () => {
    const bytes = readFileSync(X86);
    for (const [name, broken] of [
      ['tampered', Buffer.concat([bytes.subarray(0, 2000), Buffer.from([bytes[2000]! ^ 0xff]), bytes.subarray(2001)])],
      ['truncated', bytes.subarray(0, bytes.length - 5000)],
    ] as const) {
      mkdirSync(path.join(work, `${name}/x86_64`), { recursive: true });
      writeFileSync(path.join(work, `${name}/x86_64/APKINDEX.tar.gz`), broken);
      const r = await lock(image(`${name}.toml`, ['curl'], ['x86_64'], path.join(ALPINE_FIXTURES, 'keys'), name));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/APKINDEX\.tar\.gz (does not verify|is corrupt|is truncated|has a malformed)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.lock).toBeUndefined();
    }
  });

  it('refuses an apk architecture it does not know, naming the apk spelling', async () => {
    const r = await lock(image('amd64.toml', ['curl'], ['amd64']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"amd64" is not an apk architecture .*x86_64/);
  });
});
