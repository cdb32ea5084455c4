import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerpkg, run } from './helpers/cli.js';
import { makePacmanKey, makepkg, repoAdd, runTool, type PacmanTestKey } from './helpers/pacmanRepo.js';

/**
 * Resolution and bad input for pacman repositories, through the CLI, with packages from the real
 * makepkg and databases from the real repo-add: one clear error each, exit 1, no lock for a bad
 * database, nothing in the cache for a bad package.
 */
const PKGBUILD = `pkgbase=cases
pkgname=(base alt needs-missing clash-a clash-b foo-provider needs-foo bar-provider needs-bar1 anti-foo)
pkgver=1.0
pkgrel=1
arch=(any)
license=(MIT)
package_base() { groups=(cases-group); install -Dm644 /dev/stdin "$pkgdir/usr/share/base/README" <<<"base"; }
package_alt() { conflicts=(base); groups=(cases-group-alt); install -Dm644 /dev/stdin "$pkgdir/usr/share/alt/README" <<<"alt"; }
package_needs-missing() { depends=(base 'libgone>=2'); install -Dm644 /dev/stdin "$pkgdir/usr/share/nm/README" <<<"nm"; }
package_clash-a() { groups=(cases-group); install -Dm644 /dev/stdin "$pkgdir/etc/clash.conf" <<<"a"; }
package_clash-b() { install -Dm644 /dev/stdin "$pkgdir/etc/clash.conf" <<<"b"; }
package_foo-provider() { provides=('libfoo=2'); install -Dm644 /dev/stdin "$pkgdir/usr/share/foo/README" <<<"foo"; }
package_needs-foo() { depends=('libfoo>=2'); install -Dm644 /dev/stdin "$pkgdir/usr/share/needs-foo/README" <<<"nf"; }
package_bar-provider() { provides=(libbar); install -Dm644 /dev/stdin "$pkgdir/usr/share/bar/README" <<<"bar"; }
package_needs-bar1() { depends=('libbar>=1'); install -Dm644 /dev/stdin "$pkgdir/usr/share/needs-bar/README" <<<"nb"; }
package_anti-foo() { conflicts=(libfoo); install -Dm644 /dev/stdin "$pkgdir/usr/share/anti-foo/README" <<<"af"; }
`;

/** base again, newer, for a second repository. */
const NEWER_BASE = `pkgname=base
pkgver=2.0
pkgrel=1
arch=(any)
license=(MIT)
package() { install -Dm644 /dev/stdin "$pkgdir/usr/share/base/README" <<<"base 2"; }
`;

let work: string;
let key: PacmanTestKey;
let built: string[];
let newer: string[];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-pacman-bad-'));
  key = await makePacmanKey(work);
  built = await makepkg(path.join(work, 'built'), PKGBUILD);
  newer = await makepkg(path.join(work, 'newer'), NEWER_BASE);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A signed repository of all the built packages (and, with `secondRepo`, a second one listed
 * after it with base 2.0), and an image.toml beside it.
 */
async function repoWith(
  name: string,
  packages: string[],
  opts: { seed?: string; siglevel?: string; keyring?: string; secondRepo?: boolean } = {},
): Promise<{ image: string; dir: string; repo: string }> {
  const dir = path.join(work, name);
  const repo = path.join(dir, 'repo');
  await repoAdd(repo, 'cases', built, key);
  if (opts.secondRepo) await repoAdd(path.join(dir, 'repo2'), 'newer', newer, key);
  copyFileSync(opts.keyring ?? key.keyringFile, path.join(dir, 'keyring.gpg'));
  const section = (repoName: string, url: string) =>
    `[[repository]]\nname = "${repoName}"\ntype = "pacman"\nurl = "${url}"\nkeyring = "keyring.gpg"\n` + (opts.siglevel ? `siglevel = "${opts.siglevel}"\n` : '') + '\n';
  const image = path.join(dir, 'image.toml');
  writeFileSync(
    image,
    `[image]\nname = "cases"\narchitectures = ["x86_64"]\n\n${section('cases', 'repo')}${opts.secondRepo ? section('newer', 'repo2') : ''}` +
      `[packages]\ninclude = ${JSON.stringify(packages)}\n${opts.seed ? `seed = "${opts.seed}"\n` : ''}`,
  );
  return { image, dir, repo };
}

function lockedNames(dir: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(dir, 'image.lock.json'), 'utf8'));
  return lock.architectures.x86_64.packages.map((p: { name: string; version: string }) => `${p.name}=${p.version}`);
}

const cli = (args: string[], dir: string) => layerpkg([...args, '--cache-dir', path.join(dir, 'cache'), '-q']);
const file = (repo: string, pkg: string) => path.join(repo, `${pkg}-1.0-1-any.pkg.tar.zst`);

function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

function cachedBlobs(dir: string): Set<string> {
  const blobs = path.join(dir, 'cache/blobs/sha256');
  return new Set(existsSync(blobs) ? readdirSync(blobs) : []);
}

describe('pacman resolution', () => {
  it('a group as seed selects its members, installed as explicitly as pacman -S <group> does; a conflict names both packages', async () => {
    const { image, dir } = await repoWith('group', [], { seed: 'cases-group' });
    const r = await cli(['lock', image], dir);
    expect(r.stderr).toBe('');
    expect(lockedNames(dir)).toEqual(['base=1.0-1', 'clash-a=1.0-1']);
    expect((await cli(['build', image, '-o', path.join(dir, 'out')], dir)).status).toBe(0);
    run('umoci', ['unpack', '--image', `${path.join(dir, 'out')}:latest`, path.join(dir, 'bundle')]);
    const root = path.join(dir, 'bundle/rootfs');
    const explicit = await runTool('pacman', ['-r', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--config', '/dev/null', '-Qe']);
    expect(explicit.stdout.trim().split('\n')).toEqual(['base 1.0-1', 'clash-a 1.0-1']);

    const c = await repoWith('conflict', ['base', 'alt']);
    const rc = await cli(['lock', c.image], c.dir);
    expect(rc.status).toBe(1);
    expect(rc.stderr).toMatch(/conflicting packages: alt 1\.0-1 conflicts with base 1\.0-1 \(base\)/);
    expectOneLine(rc.stderr);
  });
});

describe('pacman dependencies', () => {
  it('a versioned dependency is met by a versioned provide, not by an unversioned one', async () => {
    const { image, dir } = await repoWith('provides', ['needs-foo']);
    expect((await cli(['lock', image], dir)).stderr).toBe('');
    expect(lockedNames(dir)).toEqual(['foo-provider=1.0-1', 'needs-foo=1.0-1']);
    const unversioned = await repoWith('provides-unversioned', ['needs-bar1']);
    const r = await cli(['lock', unversioned.image], unversioned.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unsatisfiable dependency: needs-bar1 → libbar>=1: no repository has a package that provides it/);
  });

  it('a conflict through a provided name is refused', async () => {
    const { image, dir } = await repoWith('conflict-provide', ['needs-foo', 'anti-foo']);
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/conflicting packages: anti-foo 1\.0-1 conflicts with foo-provider 1\.0-1 \(libfoo\)/);
    expectOneLine(r.stderr);
  });

  it('the first repository that has a name wins, as in pacman.conf order, even over a newer version', async () => {
    const { image, dir } = await repoWith('repo-order', ['base'], { secondRepo: true });
    expect((await cli(['lock', image], dir)).stderr).toBe('');
    expect(lockedNames(dir)).toEqual(['base=1.0-1']);
  });
});

describe('pacman signatures', () => {
  it('siglevel optional on a local repository: an unsigned db is taken, and the lock says so', async () => {
    const { image, dir, repo } = await repoWith('optional', ['base'], { siglevel: 'optional' });
    rmSync(path.join(repo, 'cases.db.tar.gz.sig'));
    expect((await cli(['lock', image], dir)).stderr).toBe('');
    const lock = JSON.parse(readFileSync(path.join(dir, 'image.lock.json'), 'utf8'));
    expect(lock.repositories[0].indexes[0].verifiedBy).toBe('unsigned (siglevel optional)');
  });

  it('a missing db signature under the default siglevel: refused, no lock', async () => {
    const { image, dir, repo } = await repoWith('no-db-sig', ['base']);
    rmSync(path.join(repo, 'cases.db.tar.gz.sig'));
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cases\.db has no signature \(\S+cases\.db\.sig not found\): repository "cases" requires one/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'image.lock.json'))).toBe(false);
  });

  it('a db signed by a key that is not in the keyring: refused naming the key, no lock', async () => {
    const stranger = await makePacmanKey(path.join(work, 'stranger'), 'stranger');
    const { image, dir } = await repoWith('unknown-key', ['base'], { keyring: stranger.keyringFile });
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cases\.db is signed by key ID [0-9A-F]{16} \(fingerprint [0-9A-F]{40}\), which is not in keyring\.gpg/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'image.lock.json'))).toBe(false);
  });

  it('a missing package signature under the default siglevel: refused, not cached', async () => {
    const { image, dir, repo } = await repoWith('no-pkg-sig', ['base']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    rmSync(`${file(repo, 'base')}.sig`);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/package base 1\.0-1: \S+base-1\.0-1-any\.pkg\.tar\.zst has no signature/);
    expectOneLine(r.stderr);
    expect(cachedBlobs(dir).size).toBe(0);
  });
});

describe('pacman bad input', () => {
  it('a missing dependency: the chain is shown, no lock', async () => {
    const { image, dir } = await repoWith('missing', ['needs-missing']);
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unsatisfiable dependency: needs-missing → libgone>=2: no repository has a package that provides it/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'image.lock.json'))).toBe(false);
  });

  it('a corrupt database: a signed one fails its signature, an unsigned local one fails to parse; no lock', async () => {
    const signed = await repoWith('corrupt-signed', ['base']);
    const db = path.join(signed.repo, 'cases.db.tar.gz');
    const bytes = readFileSync(db);
    bytes[bytes.length - 30]! ^= 0xff;
    writeFileSync(db, bytes);
    const r = await cli(['lock', signed.image], signed.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cases\.db: its signature does not match its content/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(signed.dir, 'image.lock.json'))).toBe(false);

    const unsigned = await repoWith('corrupt-unsigned', ['base'], { siglevel: 'never' });
    const udb = path.join(unsigned.repo, 'cases.db.tar.gz');
    writeFileSync(udb, readFileSync(udb).subarray(0, 200));
    const u = await cli(['lock', unsigned.image], unsigned.dir);
    expect(u.status).toBe(1);
    expect(u.stderr).toMatch(/cases\.db.*(corrupt|truncated)/);
    expectOneLine(u.stderr);
    expect(existsSync(path.join(unsigned.dir, 'image.lock.json'))).toBe(false);
  });

  it('a package whose sha256 no longer matches the lock: refused, not cached', async () => {
    const { image, dir, repo } = await repoWith('sha256', ['base']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    // Another real, validly signed package served under base's name.
    copyFileSync(file(repo, 'alt'), file(repo, 'base'));
    copyFileSync(`${file(repo, 'alt')}.sig`, `${file(repo, 'base')}.sig`);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/package base 1\.0-1: .*base-1\.0-1-any\.pkg\.tar\.zst: sha256 [0-9a-f]{64} \(size \d+\) does not match the expected [0-9a-f]{64}/);
    expectOneLine(r.stderr);
    const served = createHash('sha256').update(readFileSync(file(repo, 'base'))).digest('hex');
    expect(cachedBlobs(dir).has(served)).toBe(false);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a package whose signature does not match: refused, not cached', async () => {
    const { image, dir, repo } = await repoWith('signature', ['base']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    copyFileSync(`${file(repo, 'alt')}.sig`, `${file(repo, 'base')}.sig`);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/package base 1\.0-1: \S+base-1\.0-1-any\.pkg\.tar\.zst: its signature does not match its content/);
    expectOneLine(r.stderr);
    const served = createHash('sha256').update(readFileSync(file(repo, 'base'))).digest('hex');
    expect(cachedBlobs(dir).has(served)).toBe(false);
    expect(readdirSync(path.join(dir, 'cache/tmp'))).toEqual([]);
  });

  it('two packages shipping one file: both named, nothing written', async () => {
    const { image, dir } = await repoWith('clash', ['clash-a', 'clash-b']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/file conflict: \/etc\/clash\.conf is shipped by both clash-a 1\.0-1 and clash-b 1\.0-1/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('a remote repository may not relax signatures', async () => {
    const dir = path.join(work, 'remote-never');
    mkdirSync(dir, { recursive: true });
    const image = path.join(dir, 'image.toml');
    writeFileSync(image, '[image]\nname = "x"\narchitectures = ["x86_64"]\n\n[[repository]]\nname = "core"\ntype = "pacman"\nurl = "https://example.invalid/core/os/x86_64"\nsiglevel = "never"\n\n[packages]\ninclude = ["base"]\n');
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/siglevel "never" is only allowed for a local repository/);
    expectOneLine(r.stderr);
  });
});
