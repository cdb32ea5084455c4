import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackPacman } from '../adapters/pacman/unpackPkg.js';
import { Cas } from '../src/cas/cas.js';
import { orderEntries } from '../src/layer/orderEntries.js';
import { StagingArea } from '../src/layer/stageEntries.js';
import { writeLayer } from '../src/layer/writeLayer.js';
import { writeFinalLayer } from '../src/final/finalLayer.js';
import { landingPath } from '../src/final/landingPath.js';
import { readTarFiles } from './helpers/tarFiles.js';
import { buildDeb, makeKey, serveDir, writeAptRepo, type RepoServer } from './helpers/aptRepo.js';
import { layerpkg, run } from './helpers/cli.js';
import { hostileDeb, hostilePacman, type RawEntry } from './helpers/hostilePackages.js';

/**
 * An entry beneath a symlink the same package shipped earlier, against the real installers:
 * dpkg cannot unpack such a package and neither does layerpkg; pacman replaces the symlink with a
 * directory, and the layer layerpkg writes, extracted by GNU tar with its defaults, gives the
 * rootfs pacman gives. Either way no layer entry lies beneath a symlink, so no extractor decides
 * where a file lands.
 */
let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-symlink-paths-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dir = (name: string): RawEntry => ({ name, type: 'directory' });
const DATA: RawEntry[] = [
  dir('usr/'),
  dir('usr/lib/'),
  dir('usr/lib/linky-data/'),
  dir('usr/share/'),
  { name: 'usr/share/linky', type: 'symlink', linkname: '../lib/linky-data' },
  { name: 'usr/share/linky/a.txt', body: Buffer.from('beneath a relative link\n') },
  dir('opt/'),
  { name: 'opt/out', type: 'symlink', linkname: '/etc' },
  { name: 'opt/out/c.txt', body: Buffer.from('beneath an absolute link\n') },
];

/** Every path of a tree with what is there: a file's sha256, a link's target, or "dir" and its mode. */
function listing(root: string, under: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(abs)}`;
    else if (st.isFile()) out[rel] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    else if (st.isDirectory()) {
      out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
      for (const name of readdirSync(abs)) walk(path.join(rel, name));
    }
  };
  for (const u of under) walk(u);
  return out;
}

describe('deb: dpkg cannot unpack it, and layerpkg refuses it', () => {
  let server: RepoServer;
  let deb: string;
  beforeAll(async () => {
    mkdirSync(path.join(work, 'debs'));
    deb = path.join(work, 'debs', 'linky_1.0_amd64.deb');
    writeFileSync(deb, hostileDeb({ name: 'linky', data: DATA.map((e) => ({ ...e, name: `./${String(e.name)}` })) }));
    // Each valid on its own (dpkg-deb builds them); together, paths meet another package's symlink.
    const others = [
      buildDeb(path.join(work, 'debs'), { name: 'alink', version: '1.0', symlinks: { 'opt/x': '/etc' } }),
      buildDeb(path.join(work, 'debs'), { name: 'bfile', version: '1.0', files: { 'opt/x/passwd': { content: 'root::0:0::/:/bin/sh\n' } } }),
      buildDeb(path.join(work, 'debs'), { name: 'cdir', version: '1.0', files: { 'usr/share/thing/data': { content: 'data\n' } } }),
      buildDeb(path.join(work, 'debs'), { name: 'dlink', version: '1.0', symlinks: { 'usr/share/thing': '/tmp' } }),
    ];
    const key = await makeKey();
    await writeAptRepo(path.join(work, 'repo'), 'stable', [deb, ...others], key);
    writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
    server = await serveDir(path.join(work, 'repo'));
  });
  afterAll(async () => server?.close());

  it('the real dpkg --unpack fails on it', () => {
    const root = path.join(work, 'dpkg-root');
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    writeFileSync(path.join(root, 'var/lib/dpkg/available'), '');
    const r = spawnSync('dpkg', [`--root=${root}`, '--force-depends', '--unpack', deb], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unable to create '.*\/usr\/share\/linky\/a\.txt\.dpkg-new' \(while processing '\.\/usr\/share\/linky\/a\.txt'\): No such file or directory/);
  });

  let n = 0;
  async function build(include: string[]): Promise<{ status: number | null; stderr: string }> {
    const image = path.join(work, `image-${++n}.toml`);
    writeFileSync(image, `[image]\nname = "linky"\n\n[[repository]]\nname = "stable"\ntype = "deb"\nurl = "${server.url}"\nsuite = "stable"\ncomponents = ["main"]\nkeyring = "keyring.gpg"\n\n[packages]\ninclude = ${JSON.stringify(include)}\n`);
    const cache = path.join(work, 'cache');
    expect((await layerpkg(['lock', image, '--cache-dir', cache])).status).toBe(0);
    return layerpkg(['build', image, '--cache-dir', cache, '-o', path.join(work, `out-${n}`)]);
  }

  function expectRefused(r: { status: number | null; stderr: string }, message: RegExp): void {
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  }

  it('layerpkg build refuses it in one line, building nothing', async () => {
    expectRefused(await build(['linky']), /linky 1\.0 .*: refusing tar entry "usr\/share\/linky\/a\.txt": it lies beneath "usr\/share\/linky", a symlink the package itself shipped before it/);
  });

  it("a file beneath another package's symlink: refused, naming both (it would land in /etc unseen)", async () => {
    expectRefused(
      await build(['alink', 'bfile']),
      /bfile 1\.0 ships \/opt\/x\/passwd beneath \/opt\/x, a symlink alink 1\.0 ships \(-> \/etc\): where it lands would depend on install order and on the tool that extracts the layers/,
    );
  });

  it("a symlink where another package ships a directory of files: refused, naming both (they would be hidden)", async () => {
    expectRefused(await build(['cdir', 'dlink']), /cdir 1\.0 ships \/usr\/share\/thing\/data beneath \/usr\/share\/thing, a symlink dlink 1\.0 ships \(-> \/tmp\)/);
  });

  it('each of them alone builds', async () => {
    for (const name of ['alink', 'bfile', 'cdir', 'dlink']) {
      const r = await build([name]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('pacman: the layer gives the rootfs pacman -U gives', () => {
  const TREES = ['usr/share', 'usr/lib', 'opt'];
  let pkg: string;
  beforeAll(() => {
    pkg = path.join(work, 'linky-1-1-x86_64.pkg.tar.zst');
    writeFileSync(pkg, hostilePacman(DATA));
  });

  it('pacman replaced each symlink with a directory and wrote into it', () => {
    const root = path.join(work, 'pacman-root');
    mkdirSync(path.join(root, 'var/lib/pacman'), { recursive: true });
    const conf = path.join(work, 'pacman.conf');
    writeFileSync(conf, '[options]\nSigLevel = Never\n');
    run('pacman', ['--config', conf, '--root', root, '--dbpath', path.join(root, 'var/lib/pacman'), '--logfile', path.join(work, 'pacman.log'), '-U', '--noconfirm', '--nodeps', '--nodeps', pkg], {
      env: { ...process.env, LC_ALL: 'C' },
    });
    const theirs = listing(root, TREES);
    expect(theirs['usr/share/linky']).toBe('dir 755');
    expect(theirs['opt/out']).toBe('dir 755');

    const ours = path.join(work, 'layer-root');
    mkdirSync(ours);
    return (async () => {
      const cas = new Cas(path.join(work, 'cas'));
      await cas.init();
      const staging = await StagingArea.create(cas.tempPath('.stage'));
      try {
        const unpacked = unpackPacman(pkg, 'linky 1-1');
        await staging.add(unpacked.entries, 'linky');
        await unpacked.metadata;
        const ordered = orderEntries([...staging.entries.values()]);
        const layer = await writeLayer(cas, ordered.map((s) => ({ entry: s.entry, content: () => staging.read(s) })));
        const tarFile = path.join(work, 'layer.tar');
        writeFileSync(tarFile, gunzipSync(readFileSync(cas.blobPath(layer.digest))));
        const names = run('tar', ['-tf', tarFile]).stdout.split('\n').filter(Boolean);
        // No entry lies beneath a symlink of the layer.
        const links = run('tar', ['-tvf', tarFile]).stdout.split('\n').filter((l) => l.startsWith('l')).map((l) => l.split(/\s+/)[5]!);
        expect(names.filter((n) => links.some((l) => n.startsWith(`${l}/`)))).toEqual([]);
        run('tar', ['-xf', tarFile, '-C', ours, '--numeric-owner']);
      } finally {
        await staging.dispose();
      }
      expect(listing(ours, TREES)).toEqual(theirs);
    })();
  });
});

describe('the final layer writes each entry where it lands', () => {
  it("through its own links (/var/run -> /run) and the packages' ones, never beneath a symlink", async () => {
    const cas = new Cas(path.join(work, 'final-cas'));
    await cas.init();
    const layer = await writeFinalLayer(
      cas,
      [
        { path: 'var/run', type: 'symlink', linkname: '/run' },
        { path: 'run', type: 'directory', mode: 0o755 },
        { path: 'var/run/postgresql', type: 'directory', mode: 0o2775, uid: 0, gid: 0 },
        { path: 'opt/x/app.conf', type: 'file', mode: 0o644, content: Buffer.from('x\n') },
        { path: 'usr/share/doc/a/../../../../../etc/escape', type: 'file', mode: 0o644, content: Buffer.from('y\n') },
      ],
      1700000000,
      new Map([['opt/x', '/etc/app']]),
    );
    const names = (await readTarFiles(gunzipSync(readFileSync(cas.blobPath(layer.digest))))).map((f) => f.name);
    expect(names).toEqual(['etc/app/app.conf', 'etc/escape', 'run/', 'run/postgresql/', 'var/run']);
  });

  it('landingPath: chroot semantics, loops give up', () => {
    const links = new Map([['a', 'b'], ['b', 'a'], ['up', '../../../..'], ['abs', '/x/y']]);
    const at = (p: string) => links.get(p);
    expect(landingPath('up/etc/f', at)).toBe('etc/f');
    expect(landingPath('abs/z/f', at)).toBe('x/y/z/f');
    expect(landingPath('abs', at)).toBe('abs');
    expect(landingPath('a/f', at)).toBeUndefined();
  });
});
