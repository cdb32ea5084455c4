import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerpkg } from './helpers/cli.js';
import { makePacmanKey, makepkg, repoAdd, type PacmanTestKey } from './helpers/pacmanRepo.js';

/**
 * Resolution and bad input for pacman repositories, through the CLI, with packages from the real
 * makepkg and databases from the real repo-add: one clear error each, exit 1, no lock for a bad
 * database, nothing in the cache for a bad package.
 */
const PKGBUILD = `pkgbase=cases
pkgname=(base alt needs-missing clash-a clash-b)
pkgver=1.0
pkgrel=1
arch=(any)
license=(MIT)
package_base() { groups=(cases-group); install -Dm644 /dev/stdin "$pkgdir/usr/share/base/README" <<<"base"; }
package_alt() { conflicts=(base); groups=(cases-group-alt); install -Dm644 /dev/stdin "$pkgdir/usr/share/alt/README" <<<"alt"; }
package_needs-missing() { depends=(base 'libgone>=2'); install -Dm644 /dev/stdin "$pkgdir/usr/share/nm/README" <<<"nm"; }
package_clash-a() { groups=(cases-group); install -Dm644 /dev/stdin "$pkgdir/etc/clash.conf" <<<"a"; }
package_clash-b() { install -Dm644 /dev/stdin "$pkgdir/etc/clash.conf" <<<"b"; }
`;

let work: string;
let key: PacmanTestKey;
let built: string[];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-pacman-bad-'));
  key = await makePacmanKey(work);
  built = await makepkg(path.join(work, 'built'), PKGBUILD);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A signed repository of all the built packages, and an image.toml beside it. */
async function repoWith(name: string, packages: string[], opts: { seed?: string; siglevel?: string } = {}): Promise<{ image: string; dir: string; repo: string }> {
  const dir = path.join(work, name);
  const repo = path.join(dir, 'repo');
  await repoAdd(repo, 'cases', built, key);
  copyFileSync(key.keyringFile, path.join(dir, 'keyring.gpg'));
  const image = path.join(dir, 'image.toml');
  writeFileSync(
    image,
    `[image]\nname = "cases"\narchitectures = ["x86_64"]\n\n[[repository]]\nname = "cases"\ntype = "pacman"\nurl = "repo"\nkeyring = "keyring.gpg"\n` +
      (opts.siglevel ? `siglevel = "${opts.siglevel}"\n` : '') +
      `\n[packages]\ninclude = ${JSON.stringify(packages)}\n${opts.seed ? `seed = "${opts.seed}"\n` : ''}`,
  );
  return { image, dir, repo };
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
  it('a group as seed selects its members; a conflict names both packages', async () => {
    const { image, dir } = await repoWith('group', [], { seed: 'cases-group' });
    const r = await cli(['lock', image], dir);
    expect(r.stderr).toBe('');
    const lock = JSON.parse(readFileSync(path.join(dir, 'image.lock.json'), 'utf8'));
    expect(lock.architectures.x86_64.packages.map((p: { name: string }) => p.name)).toEqual(['base', 'clash-a']);

    const c = await repoWith('conflict', ['base', 'alt']);
    const rc = await cli(['lock', c.image], c.dir);
    expect(rc.status).toBe(1);
    expect(rc.stderr).toMatch(/conflicting packages: alt 1\.0-1 conflicts with base 1\.0-1 \(base\)/);
    expectOneLine(rc.stderr);
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
