/**
 * pacman repository databases: the fixture databases (PROVENANCE.md in the shared pacman
 * fixtures), copies recompressed with the real zstd/xz/bzip2, databases made by the real
 * repo-add, and pacman's own reading of the same files (`pacman -Si`, `-Sl`, `-Sp`, `-Fl`), all
 * from Debian's pacman-package-manager.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDesc, parsePacmanDb, pacmanField, type PacmanDbEntry } from '../adapters/pacman/syncDb.js';
import { formatPacmanDependency, parsePacmanDependency } from '../adapters/pacman/version.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';
import { userErrorOf } from './helpers/userError.js';

const PACMAN_FIXTURES = path.join(SHARED_FIXTURES, 'pacman');
const AOS = path.join(PACMAN_FIXTURES, 'thirdparty-repo-archimedeos');
const AOS_PACKAGES = [
  'aos-forge-1.0-1-any.pkg.tar.zst',
  'aos-update-1.0-3-any.pkg.tar.zst',
  'arch-shell-1.0-2-any.pkg.tar.zst',
  'archimedeos-keyring-20250612-3-any.pkg.tar.zst',
];

const run = promisify(execFile);
const ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };

async function tool(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  return r.stdout;
}

async function toolBytes(cmd: string, args: string[]): Promise<Buffer> {
  const r = await run(cmd, args, { env: ENV, encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60_000 });
  return r.stdout;
}

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-pacman-db-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function fixture(rel: string): string {
  return path.join(PACMAN_FIXTURES, rel);
}

async function parseFile(file: string): Promise<PacmanDbEntry[]> {
  return parsePacmanDb(readFileSync(file), file);
}

function byName(entries: PacmanDbEntry[], name: string): PacmanDbEntry {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no ${name} among ${entries.map((x) => x.name).join(' ')}`);
  return e;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A database tar made by bsdtar from `files` (path → content), compressed by bsdtar's `-z` etc. */
async function makeDb(files: Record<string, string>, flag = '-z'): Promise<Buffer> {
  const dir = tempDir();
  const root = path.join(dir, 'root');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  const out = path.join(dir, 'test.db');
  const tops = [...new Set(Object.keys(files).map((f) => f.split('/')[0]!))];
  await tool('bsdtar', ['-c', ...(flag ? [flag] : []), '-f', out, '-C', root, ...tops]);
  return readFileSync(out);
}

const DESC_FOO = '%FILENAME%\nfoo-1.0-1-x86_64.pkg.tar.zst\n\n%NAME%\nfoo\n\n%VERSION%\n1.0-1\n\n%DESC%\nFoo\n\n%ARCH%\nx86_64\n\n';

describe('parsePacmanDb on the fixture databases', () => {
  it.each([
    ['official-db/alpm.rs/core.db', 231, 'acl', '2.2.53-1'],
    ['official-db/malr/core.db.tar.gz', 261, 'glibc', '2.36-3'],
    ['official-db/archweb/core.db.tar.gz', 5, 'systemd', '232-8'],
    ['thirdparty-repo-archimedeos/archimedeos.db.tar.gz', 6, 'foundry', '1.2.3.a813a2cee7-1'],
    ['thirdparty-repo-archimedeos/archimedeos.files.tar.gz', 6, 'calamares', '1.0.0-4'],
    ['paru-testrepo/repo.db.tar.gz', 2, 'polybar', '1.0.0-1'],
  ])('%s has %i packages', async (rel, count, name, version) => {
    const entries = await parseFile(fixture(rel));
    expect(entries).toHaveLength(count);
    expect(new Set(entries.map((e) => e.name)).size).toBe(count);
    expect(byName(entries, name).version).toBe(version);
    for (const e of entries) {
      expect(pacmanField(e.fields, 'NAME')).toBe(e.name);
      expect(pacmanField(e.fields, 'VERSION')).toBe(e.version);
      expect(e.directory.endsWith(`${e.name}-${e.version}`)).toBe(true);
      expect(pacmanField(e.fields, 'FILENAME')).toMatch(/\.pkg\.tar\.(gz|xz|zst)$/);
      expect(pacmanField(e.fields, 'SHA256SUM')).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('reads archimedeos-keyring field by field', async () => {
    const e = byName(await parseFile(path.join(AOS, 'archimedeos.db.tar.gz')), 'archimedeos-keyring');
    expect(e.directory).toBe('archimedeos-keyring-20250612-3');
    expect(e.version).toBe('20250612-3');
    expect([...e.fields]).toEqual([
      ['FILENAME', ['archimedeos-keyring-20250612-3-any.pkg.tar.zst']],
      ['NAME', ['archimedeos-keyring']],
      ['BASE', ['archimedeos-keyring']],
      ['VERSION', ['20250612-3']],
      ['DESC', ['ArchimedeOS keyring']],
      ['CSIZE', ['20661']],
      ['ISIZE', ['2679']],
      ['SHA256SUM', ['76e8e5934a37c56cdb4470119fbfaf0d9cea4fe622676a4aee3e8be1ecc279da']],
      ['URL', ['https://archimedeos.org']],
      ['LICENSE', ['GPL3']],
      ['ARCH', ['any']],
      ['BUILDDATE', ['1751555957']],
      ['PACKAGER', ['Killian Prin-abeil <killian@archimedeos.org>']],
    ]);
  });

  it('reads every list field of a 2022 core package, PGPSIG included', async () => {
    const glibc = byName(await parseFile(fixture('official-db/malr/core.db.tar.gz')), 'glibc');
    expect(glibc.fields.get('DEPENDS')).toEqual(['linux-api-headers>=4.10', 'tzdata', 'filesystem']);
    expect(glibc.fields.get('OPTDEPENDS')).toEqual(['gd: for memusagestat', 'perl: for mtrace']);
    expect(glibc.fields.get('LICENSE')).toEqual(['GPL', 'LGPL']);
    expect(glibc.fields.get('MAKEDEPENDS')?.length).toBeGreaterThan(3);
    expect(pacmanField(glibc.fields, 'PGPSIG')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(pacmanField(glibc.fields, 'MD5SUM')).toMatch(/^[0-9a-f]{32}$/);
    const acl = byName(await parseFile(fixture('official-db/malr/core.db.tar.gz')), 'acl');
    expect(acl.fields.get('REPLACES')).toEqual(['xfsacl']);
    expect(acl.fields.get('CONFLICTS')).toEqual(['xfsacl']);
  });

  it('reads the .files database: desc as in the .db, plus FILES as repo-add listed the package', async () => {
    const db = await parseFile(path.join(AOS, 'archimedeos.db.tar.gz'));
    const files = await parseFile(path.join(AOS, 'archimedeos.files.tar.gz'));
    expect(files.map((e) => e.name)).toEqual(db.map((e) => e.name));
    for (const e of files) {
      const withoutFiles = new Map([...e.fields].filter(([k]) => k !== 'FILES'));
      expect(withoutFiles).toEqual(byName(db, e.name).fields);
      expect(e.fields.get('FILES')?.length).toBeGreaterThan(0);
    }
    // repo-add lists `bsdtar -tf` of the package without its dot-files, sorted.
    for (const pkg of AOS_PACKAGES) {
      const listed = (await tool('bsdtar', ['-tf', path.join(AOS, pkg)])).split('\n').filter((l) => l !== '' && !l.startsWith('.'));
      const name = pkg.replace(/-[^-]+-[^-]+-any\.pkg\.tar\.zst$/, '');
      expect(byName(files, name).fields.get('FILES')).toEqual([...listed].sort());
    }
  });
});

// ---------------------------------------------------------------------------------------------
// pacman's own reading of the same databases

interface PacmanInfo {
  labels: Map<string, string[]>;
}

/** `pacman -Si` blocks: label → lines (continuation lines of Optional Deps included). */
function parseSi(text: string): PacmanInfo[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((block) => {
      const labels = new Map<string, string[]>();
      let last: string[] | undefined;
      for (const line of block.split('\n')) {
        const m = /^(\S[^:]*?)\s+: (.*)$/.exec(line);
        if (m) labels.set(m[1]!, (last = [m[2]!]));
        else if (/^\s+\S/.test(line) && last) last.push(line.trim());
        else throw new Error(`unexpected pacman -Si line ${JSON.stringify(line)}`);
      }
      return { labels };
    });
}

/** A pacman config and dbpath holding `dbFile` as repository `repo` (and `.files` if given). */
function pacmanSetup(repo: string, dbFile: string, filesFile?: string): string[] {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'db', 'sync'), { recursive: true });
  copyFileSync(dbFile, path.join(dir, 'db', 'sync', `${repo}.db`));
  if (filesFile) copyFileSync(filesFile, path.join(dir, 'db', 'sync', `${repo}.files`));
  const conf = path.join(dir, 'pacman.conf');
  writeFileSync(conf, `[options]\nArchitecture = auto\nSigLevel = Never\n\n[${repo}]\nServer = file:///srv/repo\n`);
  return ['--config', conf, '--dbpath', path.join(dir, 'db'), '--noconfirm', '--color', 'never'];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A BUILDDATE as pacman -Si prints it in UTC ("%a %b %e %H:%M:%S %Y"). */
function ctime(seconds: string): string {
  const d = new Date(Number(seconds) * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** What pacman -Si would print for our entry, for the labels compared. */
function expectedSi(e: PacmanDbEntry): Record<string, string[]> {
  const one = (key: string, none = 'None'): string[] => [pacmanField(e.fields, key) ?? none];
  const list = (key: string): string[] => [e.fields.get(key)?.join('  ') || 'None'];
  const deps = (key: string): string[] => [(e.fields.get(key) ?? []).map((d) => formatPacmanDependency(parsePacmanDependency(d, 'test'))).join('  ') || 'None'];
  const optdepends = e.fields.get('OPTDEPENDS') ?? [];
  const validated = [['MD5SUM', 'MD5 Sum'], ['SHA256SUM', 'SHA-256 Sum'], ['PGPSIG', 'Signature']].filter(([k]) => e.fields.has(k!)).map(([, l]) => l);
  return {
    Name: [e.name],
    Version: [e.version],
    Description: one('DESC'),
    Architecture: one('ARCH'),
    URL: one('URL'),
    Licenses: list('LICENSE'),
    Groups: list('GROUPS'),
    Provides: deps('PROVIDES'),
    'Depends On': deps('DEPENDS'),
    'Optional Deps': optdepends.length ? optdepends.map((d) => formatPacmanDependency(parsePacmanDependency(d, 'test'))) : ['None'],
    'Conflicts With': deps('CONFLICTS'),
    Replaces: deps('REPLACES'),
    Packager: one('PACKAGER'),
    'Build Date': [ctime(pacmanField(e.fields, 'BUILDDATE') ?? '0')],
    'Validated By': [validated.join('  ') || 'None'],
  };
}

async function checkAgainstPacman(dbFile: string, bytes?: Buffer): Promise<number> {
  const entries = await parsePacmanDb(bytes ?? readFileSync(dbFile), dbFile);
  const args = pacmanSetup('test', dbFile);

  const listed = (await tool('pacman', [...args, '-Sl', 'test'])).split('\n').filter((l) => l !== '');
  expect(listed.sort()).toEqual(entries.map((e) => `test ${e.name} ${e.version}`).sort());

  const infos = parseSi(await tool('pacman', [...args, '-Si']));
  expect(infos).toHaveLength(entries.length);
  for (const info of infos) {
    const e = byName(entries, info.labels.get('Name')![0]!);
    const expected = expectedSi(e);
    const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, info.labels.get(k)]));
    expect(actual, e.name).toEqual(expected);
  }

  // CSIZE and FILENAME, as pacman would download them.
  const printed = await tool('pacman', [...args, '-Sddp', '--print-format', '%n %v %s %l', ...entries.map((e) => `test/${e.name}`)]);
  expect(printed.split('\n').filter((l) => l !== '').sort()).toEqual(
    entries.map((e) => `${e.name} ${e.version} ${pacmanField(e.fields, 'CSIZE')} file:///srv/repo/${pacmanField(e.fields, 'FILENAME')}`).sort(),
  );
  return entries.length;
}

describe('agreement with pacman', () => {
  it.each([
    'official-db/alpm.rs/core.db',
    'official-db/malr/core.db.tar.gz',
    'thirdparty-repo-archimedeos/archimedeos.db.tar.gz',
    'paru-testrepo/repo.db.tar.gz',
  ])('%s: pacman -Sl, -Si and -Sp see what we read', async (rel) => {
    expect(await checkAgainstPacman(fixture(rel))).toBeGreaterThan(0);
  }, 60_000);

  it('pacman -Fl lists the FILES we read from the .files database', async () => {
    const args = pacmanSetup('test', path.join(AOS, 'archimedeos.db.tar.gz'), path.join(AOS, 'archimedeos.files.tar.gz'));
    const entries = await parseFile(path.join(AOS, 'archimedeos.files.tar.gz'));
    const out = await tool('pacman', [...args, '-Fl', ...entries.map((e) => e.name)]);
    const expected = entries.flatMap((e) => (e.fields.get('FILES') ?? []).map((f) => `${e.name} ${f}`));
    expect(out.split('\n').filter((l) => l !== '').sort()).toEqual(expected.sort());
  }, 60_000);

  it('archweb keeps its packages under core.db/: we read them, pacman refuses the layout', async () => {
    const file = fixture('official-db/archweb/core.db.tar.gz');
    const entries = await parseFile(file);
    expect(entries.map((e) => e.directory).sort()).toEqual(['coreutils-8.27-1', 'glibc-2.25-5', 'linux-4.11.7-1', 'pacman-5.0.2-1', 'systemd-232-8']);
    const r = await run('pacman', [...pacmanSetup('test', file), '-Sl', 'test'], { env: ENV, encoding: 'utf8' }).catch((e: { stderr: string }) => e);
    expect(r.stderr).toMatch(/invalid name for database entry 'core\.db\/systemd-232-8\/desc'/);
  }, 60_000);

  it('reads the pre-4.1 layout (desc + depends) as pacman does', async () => {
    const depends = '%DEPENDS%\nbar>=1.0\nbaz\n\n%CONFLICTS%\nqux<2\n\n%PROVIDES%\nlibfoo.so=1-64\n\n%OPTDEPENDS%\npython: for scripts\n\n';
    const bytes = await makeDb({ 'foo-1.0-1/desc': DESC_FOO + '%CSIZE%\n123\n\n%SHA256SUM%\n' + '0'.repeat(64) + '\n\n', 'foo-1.0-1/depends': depends });
    const [foo] = await parsePacmanDb(bytes, 'old.db');
    expect(foo?.fields.get('DEPENDS')).toEqual(['bar>=1.0', 'baz']);
    expect(foo?.fields.get('OPTDEPENDS')).toEqual(['python: for scripts']);
    expect(pacmanField(foo!.fields, 'DESC')).toBe('Foo');
    const dir = tempDir();
    writeFileSync(path.join(dir, 'old.db'), bytes);
    expect(await checkAgainstPacman(path.join(dir, 'old.db'))).toBe(1);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Compression

describe('compression', () => {
  const gz = fixture('official-db/malr/core.db.tar.gz');

  it('reads zstd, xz, re-gzipped and uncompressed copies of a database exactly alike', async () => {
    const reference = await parseFile(gz);
    const tar = gunzipSync(readFileSync(gz));
    const dir = tempDir();
    const tarFile = path.join(dir, 'core.db.tar');
    writeFileSync(tarFile, tar);
    const copies: [string, Buffer][] = [
      ['uncompressed', tar],
      ['zstd', await toolBytes('zstd', ['-q', '-c', '-19', tarFile])],
      ['xz', await toolBytes('xz', ['-c', tarFile])],
      ['gzip', await toolBytes('gzip', ['-c', '-9', tarFile])],
    ];
    for (const [kind, bytes] of copies) {
      expect(await parsePacmanDb(bytes, `core.db (${kind})`), kind).toEqual(reference);
    }
  }, 60_000);

  it('refuses bzip2 with a message saying what to do', async () => {
    const dir = tempDir();
    const tarFile = path.join(dir, 'repo.db.tar');
    writeFileSync(tarFile, gunzipSync(readFileSync(fixture('paru-testrepo/repo.db.tar.gz'))));
    const bz = await toolBytes('bzip2', ['-c', tarFile]);
    const e = await userErrorOf(parsePacmanDb(bz, 'https://example.org/repo/x86_64/repo.db'));
    expect(e.message).toMatch(/^https:\/\/example\.org\/repo\/x86_64\/repo\.db is compressed with bzip2, which layerpkg cannot read: use .*zstd, gzip or xz/);
  });

  it('reads an empty database', async () => {
    const dir = tempDir();
    await tool('bsdtar', ['-czf', path.join(dir, 'empty.db'), '-T', '/dev/null']);
    expect(await parseFile(path.join(dir, 'empty.db'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Databases made by repo-add

describe('a database made by the real repo-add', () => {
  it('lists each package with the SHA256SUM, MD5SUM, CSIZE and FILENAME of its file', async () => {
    const dir = tempDir();
    for (const pkg of AOS_PACKAGES) copyFileSync(path.join(AOS, pkg), path.join(dir, pkg));
    await tool('repo-add', ['-q', 'test.db.tar.zst', ...AOS_PACKAGES], dir);
    const db = await parseFile(path.join(dir, 'test.db'));
    expect(readFileSync(path.join(dir, 'test.db')).subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    expect(db.map((e) => pacmanField(e.fields, 'FILENAME')).sort()).toEqual([...AOS_PACKAGES].sort());
    const fixtureDb = await parseFile(path.join(AOS, 'archimedeos.db.tar.gz'));
    for (const pkg of AOS_PACKAGES) {
      const e = db.find((x) => pacmanField(x.fields, 'FILENAME') === pkg)!;
      const file = path.join(AOS, pkg);
      expect(pacmanField(e.fields, 'SHA256SUM')).toBe(sha256(file));
      expect(pacmanField(e.fields, 'MD5SUM')).toBe(createHash('md5').update(readFileSync(file)).digest('hex'));
      expect(Number(pacmanField(e.fields, 'CSIZE'))).toBe(readFileSync(file).length);
      // The same fields as the published database, which a newer repo-add wrote without MD5SUM.
      const withoutMd5 = new Map([...e.fields].filter(([k]) => k !== 'MD5SUM'));
      expect(withoutMd5).toEqual(byName(fixtureDb, e.name).fields);
    }
    // The .files database repo-add wrote beside it has the same FILES as the published one.
    const files = await parseFile(path.join(dir, 'test.files'));
    const fixtureFiles = await parseFile(path.join(AOS, 'archimedeos.files.tar.gz'));
    for (const e of files) expect(e.fields.get('FILES')).toEqual(byName(fixtureFiles, e.name).fields.get('FILES'));
    expect(await checkAgainstPacman(path.join(dir, 'test.db'))).toBe(4);
  }, 60_000);

  it('reads repo-add xz and gzip databases too', async () => {
    const dir = tempDir();
    for (const pkg of AOS_PACKAGES.slice(0, 2)) copyFileSync(path.join(AOS, pkg), path.join(dir, pkg));
    await tool('repo-add', ['-q', 'x.db.tar.xz', ...AOS_PACKAGES.slice(0, 2)], dir);
    await tool('repo-add', ['-q', 'g.db.tar.gz', ...AOS_PACKAGES.slice(0, 2)], dir);
    const x = await parseFile(path.join(dir, 'x.db'));
    const g = await parseFile(path.join(dir, 'g.db'));
    expect(x.map((e) => e.name)).toEqual(['aos-forge', 'aos-update']);
    expect(x).toEqual(g);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Bad input

describe('refusing damaged databases', () => {
  const gzFile = fixture('thirdparty-repo-archimedeos/archimedeos.db.tar.gz');
  const SRC = 'https://repo.example.org/x86_64/archimedeos.db';

  it('refuses a truncated gzip database', async () => {
    const bytes = readFileSync(gzFile);
    for (const cut of [20, Math.floor(bytes.length / 2), bytes.length - 4]) {
      const e = await userErrorOf(parsePacmanDb(bytes.subarray(0, cut), SRC));
      expect(e.message).toMatch(/^https:\/\/repo\.example\.org\/x86_64\/archimedeos\.db is truncated or corrupt \(gzip: .*\): download it again$/);
    }
  });

  it('refuses a corrupt gzip database', async () => {
    const bytes = Buffer.from(readFileSync(gzFile));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x55;
    const e = await userErrorOf(parsePacmanDb(bytes, SRC));
    expect(e.message).toMatch(/is truncated or corrupt \(gzip: .*\): download it again$/);
    expect(e.message).toContain(SRC);
  });

  it('refuses truncated zstd and xz databases', async () => {
    const dir = tempDir();
    const tarFile = path.join(dir, 'a.tar');
    writeFileSync(tarFile, gunzipSync(readFileSync(gzFile)));
    for (const [kind, bytes] of [
      ['zstd', await toolBytes('zstd', ['-q', '-c', tarFile])],
      ['xz', await toolBytes('xz', ['-c', tarFile])],
    ] as const) {
      const e = await userErrorOf(parsePacmanDb(bytes.subarray(0, bytes.length - 10), SRC));
      expect(e.message).toMatch(new RegExp(`is truncated or corrupt \\(${kind}: .*\\): download it again$`));
    }
  });

  it('refuses an uncompressed database cut at a block boundary, mid-entry, or with a bad header', async () => {
    const tar = gunzipSync(readFileSync(gzFile));
    let end = tar.length;
    while (end >= 512 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    const atBoundary = await userErrorOf(parsePacmanDb(tar.subarray(0, end), SRC));
    expect(atBoundary.message).toMatch(/is not a readable pacman database \(the tar ends without its end-of-archive block: it is truncated\): download it again/);
    const midEntry = await userErrorOf(parsePacmanDb(tar.subarray(0, 1024 + 100), SRC));
    expect(midEntry.message).toMatch(/the tar is truncated/);
    const bad = Buffer.from(tar);
    // The first entry is a directory (no body), so the second header is the second block.
    expect(bad[156]).toBe('5'.charCodeAt(0));
    bad[512 + 10]! ^= 0x01;
    expect((await userErrorOf(parsePacmanDb(bad, SRC))).message).toMatch(/bad tar header checksum at byte 512 \(not a tar, or corrupt\)/);
  });

  it('refuses what is not a database at all', async () => {
    const html = Buffer.from('<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n');
    expect((await userErrorOf(parsePacmanDb(html, SRC))).message).toBe(
      `${SRC} is not a pacman repository database: it is neither a tar nor gzip, zstd or xz compressed (it starts with "<!DOCTYPE html>\\n<html><body>404 Not Foun"); check the repository URL`,
    );
    expect((await userErrorOf(parsePacmanDb(Buffer.alloc(0), SRC))).message).toBe(`${SRC} is empty: download it again, or check the repository URL`);
    const notTar = await toolBytes('gzip', ['-c', fixture('local-db/local/acl-2.2.53-1/desc')]);
    expect((await userErrorOf(parsePacmanDb(notTar, SRC))).message).toMatch(/is not a readable pacman database \(.*(checksum|truncated).*\)/);
  });

  it('refuses inconsistent or malformed entries, naming the entry', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'foo-1.0-1/desc': DESC_FOO + 'garbage\n' }, /\(foo-1\.0-1\/desc\): line \d+ is "garbage" where a %FIELD% line was expected/],
      [{ 'foo-1.0-1/desc': DESC_FOO.replace('%DESC%\nFoo\n', '%DESC%\nFoo\nmore\n') }, /line 12 is "more" where a %FIELD% line/],
      [{ 'foo-1.0-1/desc': DESC_FOO + '%NAME%\nfoo\n' }, /gives %NAME% a second time/],
      [{ 'foo-1.0-1/desc': DESC_FOO, 'foo-1.0-1/depends': '%DESC%\nagain\n' }, /gives %DESC% again \(another file of foo-1\.0-1 has it\)/],
      [{ 'foo-1.0-1/desc': DESC_FOO.replace('%NAME%\nfoo', '%NAME%\nbar') }, /package foo-1\.0-1 has %NAME% "bar": the database is inconsistent/],
      [{ 'foo-1.0-1/desc': DESC_FOO.replace('%VERSION%\n1.0-1', '%VERSION%\n1.0-2') }, /package foo-1\.0-1 has %VERSION% "1\.0-2"/],
      [{ 'foo-1.0-1/desc': DESC_FOO.replace('foo-1.0-1-x86_64.pkg.tar.zst', '../../etc/passwd') }, /has the illegal %FILENAME% "\.\.\/\.\.\/etc\/passwd"/],
      [{ 'foo-1.0-1/desc': DESC_FOO.replace('foo-1.0-1-x86_64.pkg.tar.zst', '.hidden.pkg.tar.zst') }, /illegal %FILENAME%/],
      [{ 'foo-1.0-1/desc': DESC_FOO, 'foo-1.0-2/desc': DESC_FOO.replace('%VERSION%\n1.0-1', '%VERSION%\n1.0-2') }, /lists package "foo" twice \(foo-1\.0-1 and foo-1\.0-2\)/],
      [{ 'foo/desc': '%NAME%\nfoo\n' }, /"foo" is not a package directory name \(<name>-<pkgver>-<pkgrel>\)/],
      [{ 'foo-1/desc': '%NAME%\nfoo\n' }, /"foo-1" is not a package directory name/],
      [{ 'foo-1.0-1/desc': 'x\0y' }, /contains a NUL byte/],
      [{ '.foo-1.0-1/desc': '%DESC%\nx\n' }, /package \.foo-1\.0-1 has the invalid package name "\.foo"/],
      [{ 'f$o-1.0-1/desc': '%DESC%\nx\n' }, /has the invalid package name "f\$o"/],
    ];
    for (const [files, why] of cases) {
      const e = await userErrorOf(parsePacmanDb(await makeDb(files), SRC));
      expect(e.message, JSON.stringify(files)).toMatch(why);
      expect(e.message).toContain(SRC);
    }
  }, 60_000);

  it('ignores what pacman ignores: other files, files outside a directory, "./" prefixes', async () => {
    const bytes = await makeDb({ 'foo-1.0-1/desc': DESC_FOO, 'foo-1.0-1/mtree': 'whatever', README: 'hello' });
    const entries = await parsePacmanDb(bytes, 'x.db');
    expect(entries.map((e) => [e.name, e.version, e.directory])).toEqual([['foo', '1.0-1', 'foo-1.0-1']]);
    const dir = tempDir();
    mkdirSync(path.join(dir, 'root', 'foo-1.0-1'), { recursive: true });
    writeFileSync(path.join(dir, 'root', 'foo-1.0-1', 'desc'), DESC_FOO);
    await tool('bsdtar', ['-czf', path.join(dir, 'dot.db'), '-C', path.join(dir, 'root'), '.']);
    expect(await tool('bsdtar', ['-tf', path.join(dir, 'dot.db')])).toContain('./foo-1.0-1/desc');
    expect((await parseFile(path.join(dir, 'dot.db'))).map((e) => e.directory)).toEqual(['foo-1.0-1']);
  });

  it('reads long names through PAX headers', async () => {
    const long = `${'x'.repeat(150)}-1.0-1`;
    // bsdtar's default format: the name goes into a PAX header (compressed, then not).
    for (const flag of ['-z', '']) {
      const entries = await parsePacmanDb(await makeDb({ [`${long}/desc`]: `%NAME%\n${'x'.repeat(150)}\n` }, flag), 'x.db');
      expect(entries.map((e) => e.directory)).toEqual([long]);
    }
    // GNU tar's format: a ././@LongLink entry.
    const dir = tempDir();
    mkdirSync(path.join(dir, 'root', long), { recursive: true });
    writeFileSync(path.join(dir, 'root', long, 'desc'), '%DESC%\nd\n');
    await tool('bsdtar', ['--format', 'gnutar', '-cf', path.join(dir, 'g.db'), '-C', path.join(dir, 'root'), long]);
    expect((await parseFile(path.join(dir, 'g.db'))).map((e) => e.directory)).toEqual([long]);
  });
});

// ---------------------------------------------------------------------------------------------
// The %FIELD% format

describe('parseDesc', () => {
  const local = fixture('local-db/local');

  it('reads a local database desc', () => {
    const file = path.join(local, 'pacman-5.1.3-1', 'desc');
    const f = parseDesc(readFileSync(file, 'utf8'), file);
    expect(pacmanField(f, 'NAME')).toBe('pacman');
    expect(pacmanField(f, 'VERSION')).toBe('5.1.3-1');
    expect(pacmanField(f, 'INSTALLDATE')).toBe('1553684925');
    expect(pacmanField(f, 'SIZE')).toBe('4825088');
    expect(f.get('GROUPS')).toEqual(['base', 'base-devel']);
    expect(f.get('VALIDATION')).toEqual(['pgp']);
    expect(f.get('DEPENDS')).toEqual(['bash', 'glibc', 'libarchive', 'curl', 'gpgme', 'pacman-mirrorlist', 'archlinux-keyring']);
    expect(f.get('OPTDEPENDS')).toEqual(['perl-locale-gettext: translation support in makepkg-template', 'xdelta3: delta support in repo-add']);
    const keyring = path.join(local, 'archlinux-keyring-20190123-2', 'desc');
    expect(pacmanField(parseDesc(readFileSync(keyring, 'utf8'), keyring), 'REASON')).toBe('1');
  });

  it('reads a local database files file', () => {
    const file = path.join(local, 'pacman-5.1.3-1', 'files');
    const f = parseDesc(readFileSync(file, 'utf8'), file);
    expect([...f.keys()]).toEqual(['FILES', 'BACKUP']);
    expect(f.get('FILES')?.length).toBeGreaterThan(300);
    expect(f.get('FILES')?.[0]).toBe('etc/');
    expect(f.get('BACKUP')).toEqual(['etc/pacman.conf\t(null)', 'etc/makepkg.conf\t(null)']);
  });

  it('takes exactly one line for single-value keys, as libalpm does', () => {
    expect(parseDesc('%DESC%\n\n%URL%\nhttps://x\n', 's')).toEqual(new Map([['DESC', ['']], ['URL', ['https://x']]]));
    expect(parseDesc('%NAME%\nfoo\n%VERSION%\n1-1', 's')).toEqual(new Map([['NAME', ['foo']], ['VERSION', ['1-1']]]));
    expect(parseDesc('%DESC%', 's')).toEqual(new Map([['DESC', ['']]]));
  });

  it('runs list fields to a blank line or the end of the text, keeping unknown keys', () => {
    expect(parseDesc('%GROUPS%\n\n%DEPENDS%\na\nb', 's')).toEqual(new Map([['GROUPS', []], ['DEPENDS', ['a', 'b']]]));
    expect(parseDesc('%XDATA%\npkgtype=pkg\n\n%FUTURE%\none\ntwo\n\n', 's')).toEqual(new Map([['XDATA', ['pkgtype=pkg']], ['FUTURE', ['one', 'two']]]));
    expect(parseDesc('', 's')).toEqual(new Map());
    expect(parseDesc('\n\n%DESC%\nx\n\n\n', 's')).toEqual(new Map([['DESC', ['x']]]));
  });

  it('splits at \\n only: a \\r stays in a value, and a key line with one is refused', () => {
    expect(parseDesc('%DESC%\nfoo\r\n', 's').get('DESC')).toEqual(['foo\r']);
    expect(() => parseDesc('%DESC%\r\nfoo\r\n', 'some/desc')).toThrow(/^some\/desc: line 1 is "%DESC%\\r" where a %FIELD% line was expected/);
  });
});
