import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, makeKey, serveDir, sha256, writeAptRepo, type RepoServer } from './helpers/aptRepo.js';
import { layerpkg, type CliResult } from './helpers/cli.js';
import { hostileDeb } from './helpers/hostilePackages.js';

/**
 * A hostile package served from a signed apt repository, built as a user would: one line naming
 * the package, the entry and why, exit 1, the right advice, and nothing cached as a layer, nothing
 * left in tmp/, no output written.
 */
let work: string;
let server: RepoServer;
const debs: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-hostile-build-'));
  const pool = path.join(work, 'debs');
  mkdirSync(pool);
  const hostile = (name: string, bytes: Buffer) => {
    const file = path.join(pool, `${name}_1.0_amd64.deb`);
    writeFileSync(file, bytes);
    return file;
  };
  debs.good = buildDeb(pool, { name: 'good', version: '1.0', files: { 'usr/share/good/big': { content: 'g'.repeat(3 * 1024 * 1024) } }, fields: { 'Installed-Size': '3072' } });
  debs.link = hostile('evil-link', hostileDeb({ name: 'evil-link', data: [{ name: './usr/', type: 'directory' }, { name: './usr/x', type: 'symlink', linkname: '/etc' }, { name: './usr/x/evil', body: Buffer.from('owned\n') }] }));
  debs.bomb = hostile('evil-bomb', hostileDeb({ name: 'evil-bomb', data: [{ name: './usr/', type: 'directory' }, { name: './usr/bomb', body: Buffer.alloc(64 * 1024 * 1024, 0x41) }] }));
  const key = await makeKey();
  await writeAptRepo(path.join(work, 'repo'), 'stable', Object.values(debs), key);
  writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
  server = await serveDir(path.join(work, 'repo'));
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function image(include: string[], extra = ''): string {
  const file = path.join(work, `image-${++n}.toml`);
  writeFileSync(
    file,
    `[image]\nname = "hostile"\n\n[[repository]]\nname = "stable"\ntype = "deb"\nurl = "${server.url}"\nsuite = "stable"\ncomponents = ["main"]\nkeyring = "keyring.gpg"\n\n[packages]\ninclude = ${JSON.stringify(include)}\n${extra}`,
  );
  return file;
}

function expectOneLine(r: CliResult, ...fragments: RegExp[]): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^layerpkg: error: /);
  for (const f of fragments) expect(lines[0]).toMatch(f);
}

/** Nothing of the hostile package is a layer; no temp file or staging file is left. */
function expectNothingCached(cache: string, deb: string): void {
  expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
  const db = new Database(path.join(cache, 'index.db'), { readonly: true });
  try {
    const keys = (db.prepare('SELECT key FROM layers').all() as { key: string }[]).map((r) => r.key);
    expect(keys.filter((k) => k.includes(sha256(readFileSync(deb))))).toEqual([]);
  } finally {
    db.close();
  }
}

async function lockAndBuild(include: string[], extra = '', flags: string[] = []): Promise<{ r: CliResult; cache: string; out: string }> {
  const file = image(include, extra);
  const cache = path.join(work, `cache-${n}`);
  const out = path.join(work, `out-${n}`);
  const locked = await layerpkg(['lock', file, '--cache-dir', cache]);
  expect(locked.stderr).toBe('');
  expect(locked.status).toBe(0);
  const r = await layerpkg(['build', file, '--cache-dir', cache, '-o', out, ...flags]);
  return { r, cache, out };
}

describe('a hostile package in a real build', () => {
  it('a file beneath a symlink the package shipped: refused, with advice that fits a verified file', async () => {
    const { r, cache, out } = await lockAndBuild(['good', 'evil-link']);
    expectOneLine(
      r,
      /evil-link 1\.0 \(http:\/\/127\.0\.0\.1:\d+\/pool\/main\/evil-link_1\.0_amd64\.deb\): refusing tar entry "usr\/x\/evil": it lies beneath "usr\/x", a symlink the package itself shipped before it/,
      /the file matches the sha256 its lock pins, so the package itself is malformed or hostile: nothing was cached/,
    );
    expect(r.stderr).not.toMatch(/download it again|delete .* to download/);
    expectNothingCached(cache, debs.link!);
    expect(existsSync(out)).toBe(false);
  });

  it('a decompression bomb: stopped near its declared size, nothing left in tmp/', async () => {
    const { r, cache, out } = await lockAndBuild(['evil-bomb']);
    expectOneLine(r, /evil-bomb 1\.0 .*: its payload unpacks to more than [\d.]+ MiB, far beyond the 4 KiB its Installed-Size \(4 KiB\) declares: the package is malformed or hostile/);
    expectNothingCached(cache, debs.bomb!);
    expect(existsSync(out)).toBe(false);
  });

  it('--max-unpacked-size below a real package: refused, naming the limit and how to raise it', async () => {
    const { r, cache } = await lockAndBuild(['good'], '', ['--max-unpacked-size', '1M']);
    expectOneLine(r, /good 1\.0 .*: its payload unpacks to more than 1 MiB, the limit \(\[limits\] max_unpacked_size in image\.toml, or --max-unpacked-size\): raise it/);
    expectNothingCached(cache, debs.good!);
  });

  it('[limits] in image.toml, and the flag over it', async () => {
    const limited = await lockAndBuild(['good'], '\n[limits]\nmax_unpacked_size = "2M"\n');
    expectOneLine(limited.r, /more than 2 MiB, the limit/);
    const file = path.join(work, `image-${n}.toml`);
    const raised = await layerpkg(['build', file, '--cache-dir', limited.cache, '-o', limited.out, '--max-unpacked-size', '8M', '--json']);
    expect(raised.stderr).toBe('');
    expect(raised.status).toBe(0);
  });
});

describe('bad limits', () => {
  it.each([
    ['max_unpacked_size = "lots"', /\[limits\]\.max_unpacked_size: "lots" is not a size: write bytes, or a number with K, M, G or T/],
    ['max_files = 0', /\[limits\]\.max_files: Number must be greater than or equal to 1/],
    ['max_size = 3', /unknown field "max_size" in \[limits\]/],
  ])('image.toml: %s', async (line, message) => {
    const r = await layerpkg(['build', image(['good'], `\n[limits]\n${line}\n`), '--cache-dir', path.join(work, 'unused')]);
    expectOneLine(r, message);
  });

  it.each([
    [['--max-unpacked-size', '12 parsecs'], /--max-unpacked-size "12 parsecs" is not a size/],
    [['--max-files', '-3'], /--max-files "-3" is not a positive whole number/],
  ])('flag %j', async (flags, message) => {
    const r = await layerpkg(['build', image(['good']), '--cache-dir', path.join(work, 'unused'), ...flags]);
    expectOneLine(r, message);
  });
});
