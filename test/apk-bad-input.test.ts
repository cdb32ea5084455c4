import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApk, makeApkSigningKey, simpleApkSpec as spec, writeApkRepository, type ApkSigningKey, type ApkSpec } from './helpers/apkRepo.js';
import { layerpkg, run } from './helpers/cli.js';
import { ALPINE_FIXTURES } from './helpers/sharedFixtures.js';

/**
 * Bad apk input, end to end through the CLI: each case is one clear error, exit 1, no lock
 * written for a bad index, and no package file in the cache for a bad package.
 */
let work: string;
let key: ApkSigningKey;

/** A repository directory with an image.toml beside it; returns the image file. */
async function repoWith(name: string, packages: ApkSpec[], include: string[], signer: ApkSigningKey | null = key): Promise<{ image: string; dir: string; files: Record<string, string> }> {
  const dir = path.join(work, name);
  const repo = await writeApkRepository(path.join(dir, 'repo'), 'x86_64', packages, signer);
  if (!signer) {
    // An unsigned repository still needs a keys directory to be configured at all.
    writeFileSync(path.join(repo.keysDir, key.keyName), key.publicKeyPem);
  }
  const image = path.join(dir, 'image.toml');
  writeFileSync(
    image,
    `[image]\nname = "bad"\narchitectures = ["x86_64"]\n\n[[repository]]\nname = "main"\ntype = "apk"\nurl = "repo"\nkeys = "repo/keys"\n\n[packages]\ninclude = ${JSON.stringify(include)}\n`,
  );
  return { image, dir, files: repo.files };
}

const cli = (args: string[], dir: string) => layerpkg([...args, '--cache-dir', path.join(dir, 'cache'), '-q']);

function cachedBlobs(dir: string): Set<string> {
  const blobs = path.join(dir, 'cache/blobs/sha256');
  return new Set(existsSync(blobs) ? readdirSync(blobs) : []);
}

/** override-conf ships base-conf's file and says so with `replaces`. */
function simpleReplacing(): ApkSpec {
  const override = spec('override-conf', { files: { 'etc/app.conf': 'override\n' } });
  return { ...override, pkginfo: [...override.pkginfo, ['replaces', 'base-conf']] };
}

/** The image's rootfs, unpacked by umoci. */
function unpackImage(dir: string): string {
  const bundle = path.join(dir, 'bundle');
  run('umoci', ['unpack', '--image', `${path.join(dir, 'out')}:latest`, bundle]);
  return path.join(bundle, 'rootfs');
}

/** The package whose installed-database record lists `dir`/`name`. */
function ownerOf(root: string, dir: string, name: string): string | undefined {
  for (const record of readFileSync(path.join(root, 'lib/apk/db/installed'), 'utf8').split('\n\n')) {
    const lines = record.split('\n');
    const at = lines.indexOf(`F:${dir}`);
    if (at >= 0 && lines.slice(at + 1).findIndex((l) => l === `R:${name}`) >= 0) {
      const next = lines.slice(at + 1).findIndex((l) => l.startsWith('F:'));
      const rIndex = lines.slice(at + 1).indexOf(`R:${name}`);
      if (next < 0 || rIndex < next) return lines.find((l) => l.startsWith('P:'))!.slice(2);
    }
  }
  return undefined;
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-apk-bad-'));
  key = makeApkSigningKey();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('apk bad input', () => {
  it('an unsigned index: refused, no lock', async () => {
    const { image, dir } = await repoWith('unsigned-index', [spec('a')], ['a'], null);
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/APKINDEX\.tar\.gz has no signature stream/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'image.lock.json'))).toBe(false);
  });

  it('a missing dependency: the chain is shown', async () => {
    const { image, dir } = await repoWith('missing-dep', [spec('app', { depend: ['mid'] }), spec('mid', { depend: ['so:libgone.so.1'] })], ['app']);
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unsatisfiable dependency: app → mid → so:libgone\.so\.1: no repository has a package that provides it/);
    expectOneLine(r.stderr);
  });

  it('a dependency on a virtual name two providers offer without a version or provider_priority: the user chooses', async () => {
    const { image, dir } = await repoWith(
      'ambiguous-virtual',
      [spec('app', { depend: ['virt'] }), spec('p1', { provides: ['virt'] }), spec('p2', { provides: ['virt'] })],
      ['app'],
    );
    const r = await cli(['lock', image], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"virt" \(from a dependency\) is a virtual package provided by p1, p2; name the one you want in packages\.include/);
    expectOneLine(r.stderr);
    const chosen = await repoWith(
      'chosen-virtual',
      [spec('app', { depend: ['virt'] }), spec('p1', { provides: ['virt'] }), spec('p2', { provides: ['virt'] })],
      ['app', 'p2'],
    );
    expect((await cli(['lock', chosen.image], chosen.dir)).stderr).toBe('');
  });

  it('a file owned by two packages of different origins: both named', async () => {
    const { image, dir } = await repoWith(
      'file-clash',
      [spec('one', { files: { 'etc/clash.conf': 'one\n' } }), spec('two', { files: { 'etc/clash.conf': 'two\n' } })],
      ['one', 'two'],
    );
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/file conflict: \/etc\/clash\.conf is shipped by both one 1\.0-r0 and two 1\.0-r0/);
    expectOneLine(r.stderr);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('packages of one origin may share a file (apk allows it), the later one wins', async () => {
    const { image, dir } = await repoWith(
      'same-origin',
      [spec('one', { files: { 'etc/shared.conf': 'one\n' }, origin: 'src' }), spec('two', { files: { 'etc/shared.conf': 'two\n' }, origin: 'src' })],
      ['one', 'two'],
    );
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const root = unpackImage(dir);
    expect(readFileSync(path.join(root, 'etc/shared.conf'), 'utf8')).toBe('two\n');
    expect(ownerOf(root, 'etc', 'shared.conf')).toBe('two');
  });

  it('a package that replaces (r:) another may overwrite its file', async () => {
    const override = simpleReplacing();
    const { image, dir } = await repoWith('replaces', [spec('base-conf', { files: { 'etc/app.conf': 'base\n' } }), override], ['base-conf', 'override-conf']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const root = unpackImage(dir);
    expect(readFileSync(path.join(root, 'etc/app.conf'), 'utf8')).toBe('override\n');
    expect(ownerOf(root, 'etc', 'app.conf')).toBe('override-conf');
  });

  it('a replacing package that comes first in layer order: refused with the reason, not built wrong', async () => {
    const first = spec('a-override', { files: { 'etc/app.conf': 'override\n' } });
    const replacing = { ...first, pkginfo: [...first.pkginfo, ['replaces', 'z-base'] as [string, string]] };
    const { image, dir } = await repoWith('replaces-reversed', [spec('z-base', { files: { 'etc/app.conf': 'base\n' } }), replacing], ['a-override', 'z-base']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/file conflict: \/etc\/app\.conf is shipped by both a-override 1\.0-r0 and z-base 1\.0-r0 \(the first may replace the second, but comes before it in layer order\)/);
    expectOneLine(r.stderr);
  });

  it('a cached package damaged after it was verified: removed, named, and downloaded again by the next build', async () => {
    const { image, dir } = await repoWith('damaged-cache', [spec('a')], ['a']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    expect((await cli(['build', image, '-o', path.join(dir, 'out')], dir)).status).toBe(0);
    const db = new Database(path.join(dir, 'cache/index.db'));
    const { digest } = db.prepare('SELECT digest FROM pinned_files').get() as { digest: string };
    db.prepare('DELETE FROM layers').run(); // so that the package is unpacked again
    db.close();
    const blob = path.join(dir, 'cache/blobs/sha256', digest.replace(/^sha256:/, ''));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 20]! ^= 0xff;
    chmodSync(blob, 0o644);
    writeFileSync(blob, bytes);
    const r = await cli(['build', image, '-o', path.join(dir, 'out2')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the cached copy ${blob} was damaged since it was verified and has been removed: run the build again to download it`);
    expectOneLine(r.stderr);
    expect(existsSync(blob)).toBe(false);
    expect((await cli(['build', image, '-o', path.join(dir, 'out2')], dir)).status).toBe(0);
  });

  /** Build after replacing one package file in the repository; nothing of it may be cached. */
  async function buildWithBrokenPackage(name: string, breakIt: (file: string) => void): Promise<{ stderr: string; status: number | null; dir: string; file: string }> {
    const { image, dir, files } = await repoWith(name, [spec('a'), spec('b')], ['a', 'b']);
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const file = files['a-1.0-r0']!;
    breakIt(file);
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(cachedBlobs(dir).has(sha256Of(file))).toBe(false);
    expect(readdirSync(path.join(dir, 'cache/tmp'))).toEqual([]);
    const db = new Database(path.join(dir, 'cache/index.db'), { readonly: true });
    const pinned = db.prepare('SELECT pin FROM pinned_files').all() as { pin: string }[];
    db.close();
    // b was fetched and verified (its row is there); broken a never got one.
    expect(pinned).toHaveLength(1);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
    expectOneLine(r.stderr);
    return { ...r, dir, file };
  }

  it('a package signed by a key that is not trusted: refused, not cached', async () => {
    const other = makeApkSigningKey();
    const r = await buildWithBrokenPackage('untrusted-package', (file) => {
      // Re-sign the same control stream with another key: same C:, untrusted signature.
      writeFileSync(file, makeApk(spec('a'), other).bytes);
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is signed by "layerpkg-test-[0-9a-f]+\.rsa\.pub", which is not among the trusted keys/);
  });

  it('an unsigned package: refused, not cached', async () => {
    const r = await buildWithBrokenPackage('unsigned-package', (file) => {
      writeFileSync(file, makeApk(spec('a'), null).bytes);
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not signed/);
  });

  it('a size mismatch (bytes appended): refused, not cached', async () => {
    const r = await buildWithBrokenPackage('size', (file) => writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('junk')])));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is \d+ bytes but the index pins \d+/);
  });

  it('a datahash mismatch (data stream altered, control and signature intact): refused, not cached', async () => {
    const r = await buildWithBrokenPackage('datahash', (file) => {
      const bytes = readFileSync(file);
      bytes[bytes.length - 20]! ^= 0xff; // inside the data stream's compressed bytes
      writeFileSync(file, bytes);
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/datahash/);
  });

  it('the real curl-7.83.1-r1.apk served where the v3.16 index pins r4: a lock mismatch, not cached', async () => {
    const dir = path.join(work, 'curl-r1');
    mkdirSync(path.join(dir, 'mirror/x86_64'), { recursive: true });
    copyFileSync(path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/APKINDEX.tar.gz'), path.join(dir, 'mirror/x86_64/APKINDEX.tar.gz'));
    const image = path.join(dir, 'image.toml');
    writeFileSync(
      image,
      `[image]\nname = "curl"\narchitectures = ["x86_64"]\n\n[[repository]]\nname = "main"\ntype = "apk"\nurl = "mirror"\nkeys = "${path.join(ALPINE_FIXTURES, 'keys')}"\n\n[packages]\ninclude = ["curl"]\n`,
    );
    expect((await cli(['lock', image], dir)).status).toBe(0);
    const lock = JSON.parse(readFileSync(path.join(dir, 'image.lock.json'), 'utf8'));
    const curl = lock.architectures.x86_64.packages.find((p: { name: string }) => p.name === 'curl');
    expect(curl.version).toBe('7.83.1-r4');
    const served = path.join(dir, 'mirror/x86_64/curl-7.83.1-r4.apk');
    copyFileSync(path.join(ALPINE_FIXTURES, 'v3.16-main-x86_64/curl-7.83.1-r1.apk'), served);
    // Only curl is served, so build it alone: the other packages would be "no longer served".
    lock.architectures.x86_64.packages = [curl];
    writeFileSync(path.join(dir, 'image.lock.json'), JSON.stringify(lock));
    const r = await cli(['build', image, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/package curl 7\.83\.1-r4: file:\S+curl-7\.83\.1-r4\.apk has control checksum Q1\S+ \(it is curl 7\.83\.1-r1\) but the index pins Q1\S+/);
    expectOneLine(r.stderr);
    expect(cachedBlobs(dir).has(sha256Of(served))).toBe(false);
  });
});
