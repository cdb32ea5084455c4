import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerpkg, ROOT, run, runAsync } from './helpers/cli.js';
import { podmanRun, removeImage, storageRef } from './helpers/podman.js';
import { makePacmanKey, makepkg, repoAdd, runTool } from './helpers/pacmanRepo.js';

/**
 * End to end, offline, with the real tools: packages built by makepkg (as nobody), a database
 * made by repo-add, everything signed by gpg; examples/arch-local/image.toml locks and builds;
 * the real pacman reads the image's database, and the image runs under podman.
 */
const IMAGE_REF = 'localhost/layerpkg-arch-test:latest';

const PKGBUILD = `pkgbase=demo
pkgname=(busybox hello hello-docs)
pkgver=1.35.0
pkgrel=1
arch=(x86_64)
license=(GPL2)
url="https://busybox.net"

package_busybox() {
  pkgdesc="static busybox from Debian's busybox-static"
  provides=(sh)
  groups=(demo-base)
  install -Dm755 /bin/busybox "$pkgdir/usr/bin/busybox"
  ln -s busybox "$pkgdir/usr/bin/sh"
}

package_hello() {
  pkgdesc="says hello"
  arch=(any)
  depends=('busybox>=1.30' sh)
  optdepends=('hello-docs: the manual')
  backup=(etc/hello.conf)
  groups=(demo-base)
  install=hello.install
  install -Dm644 /dev/stdin "$pkgdir/etc/hello.conf" <<<"greeting=hello"
  install -Dm755 /dev/stdin "$pkgdir/usr/bin/hello" <<<'#!/usr/bin/sh
echo "hello from arch-local"'
  install -d -m1777 "$pkgdir/var/tmp/hello"
}

package_hello-docs() {
  pkgdesc="the hello manual"
  arch=(any)
  install -Dm644 /dev/stdin "$pkgdir/usr/share/doc/hello/README" <<<"read me"
}
`;

const INSTALL = `post_install() {
  useradd -r -s /usr/bin/nologin hello
  echo "hello installed"
}

post_upgrade() {
  post_install
}
`;

interface BuildJson {
  manifestDigest: string;
  layers: { packages: string[] }[];
  untranslated: { package: string; items: string[] }[];
  optional: { package: string; items: string[] }[];
}

let work: string;
let built: BuildJson;
let rootfs: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-arch-'));
  const key = await makePacmanKey(work);
  const packages = await makepkg(path.join(work, 'built'), PKGBUILD, { 'hello.install': INSTALL });
  await repoAdd(path.join(work, 'repo'), 'demo', packages, key);
  copyFileSync(key.keyringFile, path.join(work, 'repo/keyring.gpg'));
  copyFileSync(path.join(ROOT, 'examples/arch-local/image.toml'), path.join(work, 'image.toml'));
  const locked = await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', path.join(work, 'cache'), '-q']);
  if (locked.status !== 0) throw new Error(`lock failed: ${locked.stderr}`);
  const r = await layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', path.join(work, 'cache'), '-o', path.join(work, 'out'), '--json']);
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = JSON.parse(r.stdout) as BuildJson;
  run('umoci', ['unpack', '--image', `${path.join(work, 'out')}:latest`, path.join(work, 'bundle')]);
  rootfs = path.join(work, 'bundle/rootfs');
}, 240_000);

afterAll(async () => {
  await removeImage(IMAGE_REF);
  rmSync(work, { recursive: true, force: true });
});

describe('examples/arch-local from a makepkg + repo-add repository', () => {
  it('locks the closure with the db signature verified; optdepends are not installed', () => {
    const lock = JSON.parse(readFileSync(path.join(work, 'image.lock.json'), 'utf8'));
    const pkgs = lock.architectures.x86_64.packages as { name: string; version: string; sha256: string; requiredBy: string[]; optional?: string[] }[];
    expect(pkgs.map((p) => `${p.name}=${p.version}`)).toEqual(['busybox=1.35.0-1', 'hello=1.35.0-1']);
    expect(pkgs.find((p) => p.name === 'busybox')!.requiredBy).toEqual(['hello']);
    expect(lock.repositories[0].indexes[0].verifiedBy).toMatch(/^openpgp:[0-9a-f]{40}$/);
    expect(pkgs.find((p) => p.name === 'hello')!).toMatchObject({ optional: ['hello-docs: the manual'] });
    expect(built.optional).toEqual([{ package: 'hello', items: ['hello-docs: the manual'] }]);
  });

  it('writes a local database the real pacman reads: -Q lists every package, -Qk finds no missing file', async () => {
    const q = await runTool('pacman', ['-r', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', '/dev/null', '-Q']);
    expect(q.stdout.trim().split('\n')).toEqual(['busybox 1.35.0-1', 'hello 1.35.0-1']);
    const qk = await runTool('pacman', ['-r', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', '/dev/null', '-Qk']);
    expect(qk.stdout).toMatch(/busybox: \d+ total files, 0 missing files/);
    expect(qk.stdout).toMatch(/hello: \d+ total files, 0 missing files/);
    const qi = await runTool('pacman', ['-r', rootfs, '--dbpath', path.join(rootfs, 'var/lib/pacman'), '--config', '/dev/null', '-Qi', 'busybox']);
    expect(qi.stdout).toMatch(/Install Reason\s*: Installed as a dependency for another package/);
  });

  it('keeps .PKGINFO, .MTREE, .BUILDINFO and .INSTALL out of the rootfs and reads the .INSTALL without running it', () => {
    expect(() => readFileSync(path.join(rootfs, '.PKGINFO'))).toThrow();
    expect(() => readFileSync(path.join(rootfs, '.INSTALL'))).toThrow();
    expect(() => readFileSync(path.join(rootfs, '.MTREE'))).toThrow();
    expect(() => readFileSync(path.join(rootfs, '.BUILDINFO'))).toThrow();
    expect(readFileSync(path.join(rootfs, 'var/lib/pacman/local/hello-1.35.0-1/install'), 'utf8')).toBe(INSTALL);
    const hello = built.untranslated.find((u) => u.package === 'hello')!;
    // useradd is understood, but this image has no account files (no filesystem package): the
    // real useradd would fail, so nothing is created and that is reported.
    expect(hello.items).toEqual([
      "user hello: the image has no /etc/passwd or /etc/group (no package ships them), so the script's command would fail; not created",
    ]);
    expect(() => readFileSync(path.join(rootfs, 'etc/passwd'))).toThrow();
  });

  it('runs under podman', async () => {
    await runAsync('skopeo', ['copy', `oci:${path.join(work, 'out')}:latest`, storageRef(IMAGE_REF)]);
    const r = await podmanRun(IMAGE_REF, []);
    expect(r.stdout.trim()).toBe('hello from arch-local');
    const echo = await podmanRun(IMAGE_REF, ['/usr/bin/busybox', 'echo', 'ok']);
    expect(echo.stdout.trim()).toBe('ok');
  });
});
