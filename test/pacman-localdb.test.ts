/**
 * The pacman local database writer against pacman itself:
 * - real packages (the signed third-party repository, rebuilderd, paru's empty polybar) read with
 *   bsdtar into PacmanMetadata; the same packages installed by the real `pacman -U` into one root
 *   and written by us into another, their databases compared file by file;
 * - the real pacman reading our database (-Q, -Qi, -Qk, -Qkk) over the packages' data extracted
 *   by bsdtar;
 * - the real /var/lib/pacman/local sample of alpm.rs rebuilt byte for byte from its own content.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  explicitlyInstalled,
  LOCAL_DB,
  localDbDesc,
  localDbFiles,
  metadataFileTimes,
  packageSignaturesRequired,
  pacmanLocalDb,
  pacmanValidation,
  validationFromRepositories,
  type PacmanDbEntry,
  type PacmanValidation,
} from '../adapters/pacman/localDb.js';
import type { PacmanFile, PacmanMetadata } from '../adapters/pacman/pacmanMetadata.js';
import type { FinalContext, FinalEntry, RepositoryConfig } from '../adapters/types.js';
import { SHARED_FIXTURES } from './helpers/sharedFixtures.js';
import { userError } from './helpers/userError.js';
import { readTarFiles } from './helpers/tarFiles.js';
import { parsePkginfo } from '../adapters/pacman/unpackPkg.js';

const FIXTURES = path.join(SHARED_FIXTURES, 'pacman');
const ARCHIMEDEOS = path.join(FIXTURES, 'thirdparty-repo-archimedeos');
const PACKAGE_FILES = [
  path.join(ARCHIMEDEOS, 'aos-forge-1.0-1-any.pkg.tar.zst'),
  path.join(ARCHIMEDEOS, 'aos-update-1.0-3-any.pkg.tar.zst'),
  path.join(ARCHIMEDEOS, 'arch-shell-1.0-2-any.pkg.tar.zst'),
  path.join(ARCHIMEDEOS, 'archimedeos-keyring-20250612-3-any.pkg.tar.zst'),
  path.join(FIXTURES, 'official-pkg-oversize/rebuilderd-0.18.1-1-x86_64.pkg.tar.zst'),
  path.join(FIXTURES, 'paru-testrepo/polybar-1.0.0-1-x86_64.pkg.tar.zst'),
];
const REQUESTED = ['aos-forge', 'rebuilderd', 'polybar'];
const SOURCE_DATE_EPOCH = 1700000000;
const LOCAL_SAMPLE = path.join(FIXTURES, 'local-db/local');

const TYPES: Record<string, PacmanFile['type']> = { file: 'file', directory: 'directory', symlink: 'symlink', link: 'hardlink' };

/**
 * A package file as the future reader must describe it, read here with bsdtar (re-archived
 * uncompressed, parsed with tar-stream): .PKGINFO pairs, .MTREE and .INSTALL bytes, the data
 * entries in archive order, the md5 of each backup file's content.
 */
async function readPackage(file: string): Promise<PacmanMetadata> {
  const bytes = execFileSync('bsdtar', ['-cf', '-', '--format', 'pax', `@${file}`], { maxBuffer: 1 << 30 });
  const entries = await readTarFiles(bytes);
  const dot = (name: string) => entries.find((e) => e.name === name)?.body;
  const pkginfo = parsePkginfo(dot('.PKGINFO')!.toString());
  const value = (key: string) => pkginfo.find(([k]) => k === key)![1];
  const data = entries.filter((e) => !e.name.startsWith('.'));
  const files = data.map((e): PacmanFile => {
    const f: PacmanFile = { path: e.name.replace(/\/+$/, ''), type: TYPES[e.type]!, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid };
    if (e.linkname !== undefined) f.linkname = e.linkname;
    return f;
  });
  const backup = pkginfo
    .filter(([k]) => k === 'backup')
    .map(([, p]) => {
      const e = data.find((d) => d.name === p && d.type === 'file');
      return { path: p, md5: e ? createHash('md5').update(e.body).digest('hex') : '' };
    });
  const meta: PacmanMetadata = { name: value('pkgname'), version: value('pkgver'), arch: value('arch'), pkginfo, files, backup };
  const mtree = dot('.MTREE');
  if (mtree) meta.mtree = mtree.toString('base64');
  const install = dot('.INSTALL');
  if (install) meta.install = install.toString('base64');
  return meta;
}

function repo(options: Record<string, unknown> = {}): RepositoryConfig {
  return { name: 'archimedeos', type: 'pacman', url: 'https://example.org/$arch', options, baseDir: '/' };
}

function context(requested: string[], sourceDateEpoch = SOURCE_DATE_EPOCH, repositories = [repo({ siglevel: 'required' })]): FinalContext {
  return { arch: 'x86_64', requested, explicit: requested, sourceDateEpoch, repositories, applied: { alternatives: [], statOverrides: [], diversions: [] } };
}

function byPath(entries: PacmanDbEntry[]): Map<string, PacmanDbEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

function content(entries: Map<string, FinalEntry>, p: string): Buffer {
  const e = entries.get(p);
  if (e?.type !== 'file') throw new Error(`no file ${p} among the entries`);
  return e.content;
}

/**
 * The entries as a root tree (run as root: owners are the default root:root), each file with
 * the mtime it carries or else SOURCE_DATE_EPOCH, as the final layer would stamp it.
 */
function writeEntries(root: string, entries: PacmanDbEntry[]): void {
  for (const e of entries) {
    const target = path.join(root, e.path);
    mkdirSync(path.dirname(target), { recursive: true });
    if (e.type === 'directory') {
      mkdirSync(target, { recursive: true });
      chmodSync(target, e.mode);
    } else if (e.type === 'file') {
      writeFileSync(target, e.content);
      chmodSync(target, e.mode);
      utimesSync(target, e.mtime ?? SOURCE_DATE_EPOCH, e.mtime ?? SOURCE_DATE_EPOCH);
    } else {
      symlinkSync(e.linkname, target);
    }
  }
}

let tmp: string;
let pacmanConf: string;
let metas: PacmanMetadata[];

/** pacman on `root` with its database there, a config of our own, messages in English. */
function pacman(root: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(
    'pacman',
    ['--config', pacmanConf, '--root', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--logfile', path.join(tmp, 'pacman.log'), ...args],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' } },
  );
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** "Key : value" lines of pacman -Qi (-Qii with `twice`), continuation lines joined. */
function queryInfo(root: string, name: string, twice = false): Map<string, string> {
  const r = pacman(root, twice ? '-Qii' : '-Qi', name);
  expect(r.status, r.stderr).toBe(0);
  const fields = new Map<string, string>();
  let key = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S[^:]*?)\s+:(?: (.*))?$/.exec(line);
    if (m) {
      key = m[1]!;
      fields.set(key, m[2] ?? '');
    } else if (line.trim() !== '' && key) {
      fields.set(key, `${fields.get(key)}\n${line.trim()}`);
    }
  }
  return fields;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-pacman-localdb-'));
  pacmanConf = path.join(tmp, 'pacman.conf');
  writeFileSync(pacmanConf, '[options]\nSigLevel = Never\n');
  metas = await Promise.all(PACKAGE_FILES.map(readPackage));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('against the real pacman -U', () => {
  let realRoot: string;
  let ours: Map<string, PacmanDbEntry>;

  beforeAll(() => {
    realRoot = path.join(tmp, 'pacman-root');
    mkdirSync(path.join(realRoot, 'var/lib/pacman'), { recursive: true });
    // Dependencies first, as dependencies; then the requested ones, explicitly (pacman -U's
    // default). -dd: their dependencies are not in this set; --noscriptlet: there is no shell.
    const common = ['--noconfirm', '-Udd', '--noscriptlet', '--cachedir', path.join(tmp, 'cache'), '--hookdir', path.join(tmp, 'hooks')];
    const deps = PACKAGE_FILES.filter((_, i) => !REQUESTED.includes(metas[i]!.name));
    const explicit = PACKAGE_FILES.filter((_, i) => REQUESTED.includes(metas[i]!.name));
    for (const [files, extra] of [
      [deps, ['--asdeps']],
      [explicit, []],
    ] as const) {
      const r = pacman(realRoot, ...common, ...extra, ...files);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
    // pacman -U validates a package file with SigLevel = Never: no sha256 from a database, no signature.
    ours = byPath(pacmanLocalDb(metas, context(REQUESTED), { validationOf: () => ['none'] }));
  });

  function realDb(...parts: string[]): string {
    return path.join(realRoot, LOCAL_DB, ...parts);
  }

  it('has the same package directories and files in each', () => {
    const realDirs = readdirSync(realDb()).sort();
    expect(realDirs).toEqual(['ALPM_DB_VERSION', 'aos-forge-1.0-1', 'aos-update-1.0-3', 'arch-shell-1.0-2', 'archimedeos-keyring-20250612-3', 'polybar-1.0.0-1', 'rebuilderd-0.18.1-1']);
    for (const dir of realDirs.filter((d) => d !== 'ALPM_DB_VERSION')) {
      const oursIn = [...ours.keys()].filter((p) => p.startsWith(`${LOCAL_DB}/${dir}/`)).map((p) => p.slice(`${LOCAL_DB}/${dir}/`.length));
      expect(oursIn.sort(), dir).toEqual(readdirSync(realDb(dir)).sort());
    }
    expect(content(ours, `${LOCAL_DB}/ALPM_DB_VERSION`)).toEqual(readFileSync(realDb('ALPM_DB_VERSION')));
  });

  it('writes desc as pacman does, but for the install date and the xdata pacman 6.0 does not know yet', () => {
    for (const meta of metas) {
      const dir = `${meta.name}-${meta.version}`;
      const real = readFileSync(realDb(dir, 'desc'), 'utf8').replace(/^%INSTALLDATE%\n\d+\n/m, `%INSTALLDATE%\n${SOURCE_DATE_EPOCH}\n`);
      const mine = content(ours, `${LOCAL_DB}/${dir}/desc`).toString();
      // pacman 7 writes .PKGINFO's xdata as the last section (be_local.c); the installed 6.0.2 predates it.
      const xdata = meta.pkginfo.filter(([k]) => k === 'xdata').map(([, v]) => v);
      const tail = xdata.length > 0 ? `%XDATA%\n${xdata.map((x) => `${x}\n`).join('')}\n` : '';
      expect(mine.endsWith(tail), dir).toBe(true);
      expect(mine.slice(0, mine.length - tail.length), dir).toBe(real);
    }
    // makepkg 6.0.1-89 and 7 wrote xdata = pkgtype=pkg; rebuilderd's makepkg 6.0.1 did not.
    expect(metas.filter((m) => !m.pkginfo.some(([k]) => k === 'xdata')).map((m) => m.name)).toEqual(['rebuilderd']);
  });

  it('writes files, mtree and install byte for byte', () => {
    for (const meta of metas) {
      const dir = `${meta.name}-${meta.version}`;
      for (const name of readdirSync(realDb(dir)).filter((n) => n !== 'desc')) {
        expect(content(ours, `${LOCAL_DB}/${dir}/${name}`).equals(readFileSync(realDb(dir, name))), `${dir}/${name}`).toBe(true);
      }
    }
    // The cases in the set: backup md5s in .PKGINFO order, a package without files, an install script.
    expect(readFileSync(realDb('rebuilderd-0.18.1-1', 'files'), 'utf8')).toContain('%BACKUP%\netc/rebuilderd.conf\tf7ca8771d4377be656c308e3bc7e88c1\n');
    expect(readFileSync(realDb('polybar-1.0.0-1', 'files'))).toHaveLength(0);
    expect(readdirSync(realDb('archimedeos-keyring-20250612-3'))).toContain('install');
  });

  it('gives files and directories the modes pacman gives them, and install its archive time', () => {
    for (const [p, e] of ours) {
      if ((p !== LOCAL_DB && !p.startsWith(`${LOCAL_DB}/`)) || e.type === 'symlink') continue;
      const st = statSync(path.join(realRoot, p));
      expect(st.mode & 0o7777, p).toBe(e.mode);
      expect(st.isDirectory(), p).toBe(e.type === 'directory');
      expect([st.uid, st.gid], p).toEqual([0, 0]);
      if (e.mtime !== undefined) expect(Math.floor(st.mtimeMs / 1000), p).toBe(e.mtime);
    }
    expect([...ours.values()].filter((e) => e.mtime !== undefined).map((e) => e.path)).toEqual([`${LOCAL_DB}/archimedeos-keyring-20250612-3/install`]);
  });
});

describe('the real pacman reading our database', () => {
  let root: string;
  let entries: PacmanDbEntry[];
  const validation: Record<string, PacmanValidation[]> = {
    // From the signed repository without %PGPSIG%: the db's sha256, then the detached .sig.
    'aos-forge': pacmanValidation({ checksSignatures: true, hasSignature: true, signatureInDatabase: false, databaseHasSha256: true }),
    // paru's unsigned repository.
    polybar: pacmanValidation({ checksSignatures: false, hasSignature: false, signatureInDatabase: false, databaseHasSha256: true }),
  };

  beforeAll(() => {
    root = path.join(tmp, 'our-root');
    mkdirSync(root);
    entries = pacmanLocalDb(metas, context(REQUESTED), { validationOf: (m) => validation[m.name] ?? validationFromRepositories([repo({ siglevel: 'required' })]) });
    writeEntries(root, entries);
    for (const file of PACKAGE_FILES) execFileSync('bsdtar', ['-xpf', file, '-C', root, '--exclude', '.*']);
  });

  it('-Q lists every package with its version', () => {
    const r = pacman(root, '-Q');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${metas.map((m) => `${m.name} ${m.version}`).sort().join('\n')}\n`);
  });

  it('-Qi reads name, version, dependencies, install reason and validation', () => {
    const forge = queryInfo(root, 'aos-forge');
    expect(forge.get('Name')).toBe('aos-forge');
    expect(forge.get('Version')).toBe('1.0-1');
    expect(forge.get('Depends On')).toBe('bash  pacman');
    expect(forge.get('Optional Deps')).toBe('yay: Support pour la mise à jour des paquets AUR\nparu: Support alternatif pour la mise à jour des paquets AUR');
    expect(forge.get('Install Reason')).toBe('Explicitly installed');
    expect(forge.get('Validated By')).toBe('SHA-256 Sum  Signature');
    expect(forge.get('Install Date')).toBe('Tue Nov 14 22:13:20 2023'); // SOURCE_DATE_EPOCH, in UTC

    const keyring = queryInfo(root, 'archimedeos-keyring');
    expect(keyring.get('Install Reason')).toBe('Installed as a dependency for another package');
    expect(keyring.get('Install Script')).toBe('Yes');
    expect(keyring.get('Depends On')).toBe('None');
    expect(keyring.get('Validated By')).toBe('Signature');

    const polybar = queryInfo(root, 'polybar');
    expect(polybar.get('Validated By')).toBe('SHA-256 Sum');
    expect(polybar.get('URL')).toBe('None');
    expect(polybar.get('Conflicts With')).toBe('polybar-git');
    expect(polybar.get('Installed Size')).toBe('0.00 B');

    // -Qii compares each backup file with its recorded md5: UNMODIFIED.
    const rebuilderd = queryInfo(root, 'rebuilderd', true);
    expect(rebuilderd.get('Install Reason')).toBe('Explicitly installed');
    expect(rebuilderd.get('Depends On')).toBe('rebuilderd-tools  sqlite  archlinux-repro');
    expect(rebuilderd.get('Backup Files')).toBe(
      ['', 'rebuilderd.conf', 'rebuilderd-sync.conf', 'rebuilderd-worker.conf'].map((f) => (f ? `UNMODIFIED\t${root}/etc/${f}` : '')).join('\n'),
    );
  });

  it('-Qk finds every listed file', () => {
    const r = pacman(root, '-Qk');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const counts = Object.fromEntries(metas.map((m) => [m.name, m.files.length]));
    expect(r.stdout).toBe(`${Object.keys(counts).sort().map((n) => `${n}: ${counts[n]} total files, 0 missing files`).join('\n')}\n`);
  });

  it('-Qkk (the mtree check) says of our root exactly what it says of a root pacman installed', () => {
    const ourCheck = pacman(root, '-Qkk');
    const realCheck = pacman(path.join(tmp, 'pacman-root'), '-Qkk');
    const norm = (s: string, r: string) => s.split(r).join('<root>');
    expect(norm(ourCheck.stdout, root)).toBe(norm(realCheck.stdout, path.join(tmp, 'pacman-root')));
    expect(norm(ourCheck.stderr, root)).toBe(norm(realCheck.stderr, path.join(tmp, 'pacman-root')));
    expect(ourCheck.status).toBe(realCheck.status);
    // Packages whose .MTREE has md5 digests (makepkg 6) check clean: modes, owners (gid 212
    // included), sizes, times, link targets and contents of what bsdtar extracted as root.
    expect(ourCheck.stdout).toContain('rebuilderd: 33 total files, 0 altered files\n');
    expect(ourCheck.stdout).toContain('polybar: 0 total files, 0 altered files\n');
    // makepkg 7 writes sha256 digests only, which pacman 6.0.2's -Qkk does not read: it calls
    // every regular file (and keyring's .INSTALL, compared to local/<pkg>/install) an MD5
    // mismatch, ours and its own install alike. Nothing else is flagged.
    const warnings = ourCheck.stderr.split('\n').filter((l) => l !== '');
    expect(warnings.every((w) => w.endsWith('(MD5 checksum mismatch)')), ourCheck.stderr).toBe(true);
    expect(warnings).toContain(`warning: archimedeos-keyring: ${root}/${LOCAL_DB}/archimedeos-keyring-20250612-3/install (MD5 checksum mismatch)`);
  });

  it('gives local/<pkg>/install the time of .INSTALL in the .MTREE, which -Qkk checks', () => {
    const keyring = metas.find((m) => m.name === 'archimedeos-keyring')!;
    expect(metadataFileTimes(keyring)).toEqual(new Map([['.INSTALL', 1751555957]]));
    const install = entries.find((e) => e.path.endsWith('archimedeos-keyring-20250612-3/install'))!;
    expect(install.mtime).toBe(1751555957);
    // Without it (the final layer stamping SOURCE_DATE_EPOCH on every file), -Qkk complains.
    const target = path.join(root, install.path);
    utimesSync(target, SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH);
    try {
      expect(pacman(root, '-Qkk', 'archimedeos-keyring').stderr).toContain(`${target} (Modification time mismatch)`);
    } finally {
      utimesSync(target, install.mtime!, install.mtime!);
    }
  });
});

/** The sections of a desc file, in order. */
function descSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const block of text.split(/\n\n(?=%[A-Z0-9]+%\n)/)) {
    const [key, ...values] = block.replace(/\n+$/, '').split('\n');
    sections.set(key!.slice(1, -1), values.length === 1 && values[0] === '' ? [''] : values);
  }
  return sections;
}

/** desc section → .PKGINFO key, listed in makepkg's .PKGINFO order (not desc's). */
const PKGINFO_KEYS: [string, string][] = [
  ['NAME', 'pkgname'],
  ['BASE', 'pkgbase'],
  ['XDATA', 'xdata'],
  ['VERSION', 'pkgver'],
  ['DESC', 'pkgdesc'],
  ['URL', 'url'],
  ['BUILDDATE', 'builddate'],
  ['PACKAGER', 'packager'],
  ['SIZE', 'size'],
  ['ARCH', 'arch'],
  ['LICENSE', 'license'],
  ['REPLACES', 'replaces'],
  ['GROUPS', 'group'],
  ['CONFLICTS', 'conflict'],
  ['PROVIDES', 'provides'],
  ['DEPENDS', 'depend'],
  ['OPTDEPENDS', 'optdepend'],
];

/** Data entries from an mtree (the package's own .MTREE pacman kept), in its order. */
function mtreeFiles(mtreeFile: string): PacmanFile[] {
  const text = execFileSync('bsdtar', ['-cf', '-', '--format=mtree', '--options', '!all,type', `@${mtreeFile}`], { cwd: tmp, encoding: 'utf8' });
  const types: Record<string, PacmanFile['type']> = { dir: 'directory', file: 'file', link: 'symlink' };
  return text
    .split('\n')
    .filter((l) => l.startsWith('./') && !l.startsWith('./.'))
    .map((l) => {
      const [p, type] = l.split(' ');
      return { path: p!.slice(2), type: types[type!.slice('type='.length)]!, mode: 0o644, uid: 0, gid: 0 };
    });
}

describe('the real local database sample of alpm.rs, rebuilt from its own content', () => {
  const samples = ['acl-2.2.53-1', 'archlinux-keyring-20190123-2', 'filesystem-2019.05-2', 'pacman-5.1.3-1'];

  for (const dir of samples) {
    it(`${dir}: desc, files, mtree and install are reproduced byte for byte`, () => {
      const real = (name: string) => readFileSync(path.join(LOCAL_SAMPLE, dir, name));
      const desc = descSections(real('desc').toString());
      const pkginfo: [string, string][] = PKGINFO_KEYS.flatMap(([section, key]) => (desc.get(section) ?? []).map((v): [string, string] => [key, v]));
      const realFiles = real('files').toString();
      const backupNames = (/%BACKUP%\n([\s\S]*?)\n\n/.exec(realFiles)?.[1] ?? '').split('\n').filter((l) => l !== '');
      for (const line of backupNames) pkginfo.push(['backup', line.split('\t')[0]!]);
      const name = desc.get('NAME')![0]!;
      const version = desc.get('VERSION')![0]!;
      const meta: PacmanMetadata = {
        name,
        version,
        arch: desc.get('ARCH')![0]!,
        pkginfo,
        files: mtreeFiles(path.join(LOCAL_SAMPLE, dir, 'mtree')),
        // These were recorded without hashes ("(null)"): as pacman --dbonly leaves them.
        backup: backupNames.map((l) => ({ path: l.split('\t')[0]!, md5: '' })),
        mtree: real('mtree').toString('base64'),
      };
      const names = readdirSync(path.join(LOCAL_SAMPLE, dir));
      if (names.includes('install')) meta.install = real('install').toString('base64');

      const reason = desc.get('REASON')?.[0] ?? '0';
      const validation = (desc.get('VALIDATION') ?? []) as PacmanValidation[];
      const ctx = context(reason === '0' ? [name] : [], Number(desc.get('INSTALLDATE')![0]));
      const entries = byPath(pacmanLocalDb([meta], ctx, { validationOf: () => validation }));
      for (const file of names) {
        expect(content(entries, `${LOCAL_DB}/${dir}/${file}`).toString('latin1'), file).toBe(real(file).toString('latin1'));
      }
      expect([...entries.keys()].filter((p) => p.startsWith(`${LOCAL_DB}/${dir}/`)).length).toBe(names.length);
    });
  }

  it('the sample covers: no %REASON% for an explicit package, %GROUPS% of two, no %DEPENDS%, an install file', () => {
    const pacmanDesc = readFileSync(path.join(LOCAL_SAMPLE, 'pacman-5.1.3-1/desc'), 'utf8');
    expect(pacmanDesc).not.toContain('%REASON%');
    expect(pacmanDesc).toContain('%GROUPS%\nbase\nbase-devel\n\n');
    expect(readFileSync(path.join(LOCAL_SAMPLE, 'archlinux-keyring-20190123-2/desc'), 'utf8')).not.toContain('%DEPENDS%');
  });
});

function meta(pkginfo: [string, string][], files: PacmanFile[] = [], backup: { path: string; md5: string }[] = []): PacmanMetadata {
  const get = (k: string) => pkginfo.filter(([key]) => key === k).at(-1)?.[1] ?? '';
  return { name: get('pkgname'), version: get('pkgver'), arch: get('arch') || 'any', pkginfo, files, backup };
}

const DESC = { installDate: 0, explicit: true, validation: [] as PacmanValidation[] };

describe('format rules', () => {
  it('writes scalars present in .PKGINFO even when empty, numbers only when non-zero, the last of a repeated scalar', () => {
    const m = meta([
      ['pkgname', 'a'],
      ['pkgver', '1-1'],
      ['url', ''],
      ['pkgdesc', 'first'],
      ['pkgdesc', 'second'],
      ['size', '0'],
      ['builddate', 'yesterday'],
    ]);
    expect(localDbDesc(m, DESC)).toBe('%NAME%\na\n\n%VERSION%\n1-1\n\n%DESC%\nsecond\n\n%URL%\n\n\n');
    const odd = meta([
      ['pkgname', 'a'],
      ['pkgver', '1-1'],
      ['size', '12k'],
      ['builddate', ' +0042'],
    ]);
    expect(localDbDesc(odd, { installDate: 5, explicit: false, validation: ['pgp', 'sha256', 'pgp'] })).toBe(
      '%NAME%\na\n\n%VERSION%\n1-1\n\n%BUILDDATE%\n42\n\n%INSTALLDATE%\n5\n\n%SIZE%\n-1\n\n%REASON%\n1\n\n%VALIDATION%\nsha256\npgp\n\n',
    );
  });

  it('lists files in strcmp order with a "/" after directories, leaving dot-files out', () => {
    const f = (p: string, type: PacmanFile['type']): PacmanFile => ({ path: p, type, mode: 0o755, uid: 0, gid: 0 });
    const m = meta([['pkgname', 'a'], ['pkgver', '1-1']], [f('usr', 'directory'), f('usr/lib', 'directory'), f('usr/lib-x', 'file'), f('usr/Z', 'symlink'), f('.BUILDINFO', 'file'), f('usr/é', 'file')]);
    expect(localDbFiles(m)).toBe('%FILES%\nusr/\nusr/Z\nusr/lib-x\nusr/lib/\nusr/é\n\n');
  });

  it('writes "(null)" for a backup path without a hash and for a repeated one', () => {
    const m = meta(
      [['pkgname', 'a'], ['pkgver', '1-1'], ['backup', 'etc/b'], ['backup', 'etc/a'], ['backup', 'etc/b'], ['backup', 'etc/missing']],
      [{ path: 'etc/a', type: 'file', mode: 0o644, uid: 0, gid: 0 }],
      [{ path: 'etc/b', md5: 'bb' }, { path: 'etc/a', md5: 'aa' }, { path: 'etc/b', md5: 'bb' }, { path: 'etc/missing', md5: '' }],
    );
    expect(localDbFiles(m)).toBe('%FILES%\netc/a\n\n%BACKUP%\netc/b\tbb\netc/a\taa\netc/b\t(null)\netc/missing\t(null)\n\n');
  });

  it('refuses what pacman refuses to install', () => {
    const ctx = context([]);
    const named = (name: string, version: string, extra: [string, string][] = []) => meta([['pkgname', name], ['pkgver', version], ...extra]);
    expect(userError(() => pacmanLocalDb([named('a', '1-1/../x')], ctx)).message).toMatch(/"\/"/);
    expect(userError(() => pacmanLocalDb([named('a', '1')], ctx)).message).toMatch(/no "-pkgrel"/);
    expect(userError(() => pacmanLocalDb([named('-a', '1-1')], ctx)).message).toMatch(/starts with/);
    expect(userError(() => pacmanLocalDb([named('a b', '1-1')], ctx)).message).toMatch(/characters/);
    expect(userError(() => pacmanLocalDb([named('a', '1-1'), named('a', '2-1')], ctx)).message).toMatch(/a came twice/);
    expect(userError(() => pacmanLocalDb([named('a', '1-1', [['xdata', 'pkgtype']])], ctx)).message).toMatch(/not key=value/);
  });

  it('writes the directories pacman and its package make, leaving to a package the ones it ships', () => {
    const plain = pacmanLocalDb([meta([['pkgname', 'a'], ['pkgver', '1-1']])], context(['a']));
    const dirs = plain.filter((e) => e.type === 'directory').map((e) => [e.path, (e as { mode: number }).mode]);
    expect(dirs).toEqual([
      ['var/lib/pacman', 0o755],
      ['var/cache/pacman', 0o755],
      ['var/cache/pacman/pkg', 0o755],
      ['var/lib/pacman/local', 0o755],
      ['var/lib/pacman/sync', 0o755],
      ['var/lib/pacman/local/a-1-1', 0o755],
    ]);
    const d = (p: string): PacmanFile => ({ path: p, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    const withPacman = pacmanLocalDb([meta([['pkgname', 'pacman'], ['pkgver', '7.0.0-1']], [d('var/lib/pacman'), d('var/cache/pacman'), d('var/cache/pacman/pkg')])], context([]));
    expect(withPacman.filter((e) => e.type === 'directory').map((e) => e.path)).toEqual(['var/lib/pacman/local', 'var/lib/pacman/sync', 'var/lib/pacman/local/pacman-7.0.0-1']);
  });
});

describe('install reason and validation', () => {
  it('treats requested names, with or without a version constraint, and the provider of a requested virtual name as explicit', () => {
    const sh = meta([['pkgname', 'bash'], ['pkgver', '5-1'], ['provides', 'sh']]);
    const lib = meta([['pkgname', 'readline'], ['pkgver', '8-1'], ['provides', 'libreadline.so=8-64']]);
    const ncurses = meta([['pkgname', 'ncurses'], ['pkgver', '6-1']]);
    const explicit = explicitlyInstalled([sh, lib, ncurses], ['sh', 'ncurses>=6']);
    expect([...explicit].map((m) => m.name)).toEqual(['bash', 'ncurses']);
  });

  it('reads the repositories siglevel: required (the default) gives pgp, anything else sha256', () => {
    expect(packageSignaturesRequired(undefined)).toBe(true);
    expect(packageSignaturesRequired('required')).toBe(true);
    expect(packageSignaturesRequired('optional')).toBe(false);
    expect(packageSignaturesRequired('never')).toBe(false);
    expect(packageSignaturesRequired('packages')).toBe(true);
    expect(validationFromRepositories([repo(), repo({ siglevel: 'required' })])).toEqual(['pgp']);
    expect(validationFromRepositories([repo(), repo({ siglevel: 'never' })])).toEqual(['sha256']);
  });

  it('follows _alpm_pkg_validate_internal', () => {
    const v = (checksSignatures: boolean, hasSignature: boolean, signatureInDatabase: boolean, databaseHasSha256: boolean) =>
      pacmanValidation({ checksSignatures, hasSignature, signatureInDatabase, databaseHasSha256 });
    expect(v(true, true, true, true)).toEqual(['pgp']); // %PGPSIG% checked instead of the sha256
    expect(v(true, true, false, true)).toEqual(['sha256', 'pgp']); // detached .sig
    expect(v(true, false, false, true)).toEqual(['sha256']); // Optional, unsigned
    expect(v(false, true, true, true)).toEqual(['sha256']); // Never
    expect(v(false, false, false, false)).toEqual(['none']);
  });
});
