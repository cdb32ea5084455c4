import { copyFileSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApkSigningKey, writeApkRepository } from './helpers/apkRepo.js';
import { layerpkg, ROOT, run, runAsync } from './helpers/cli.js';
import { podmanRun, removeImage, storageRef } from './helpers/podman.js';
import { parseInstalledDb, type RootfsEntry } from './helpers/minirootfs.js';
import { minirootfsPackages, type MinirootfsPackages } from './helpers/minirootfsRepo.js';

/**
 * End to end, offline, on real data: the 14 packages of the real alpine-minirootfs-3.16.9 are
 * repackaged into a signed apk repository, examples/alpine/image.toml locks and builds from it,
 * and the image is compared with the real minirootfs and run under podman.
 */
const IMAGE_REF = 'localhost/layerpkg-alpine-test:latest';

/**
 * Where our image differs from the real minirootfs on purpose (README, "Alpine"): docker-alpine
 * edited /etc/shadow and made /proc 0555 after apk ran, and emptied /dev; apk-tools itself
 * created /etc/apk/protected_paths.d, /var/cache/misc and /var/lib/apk.
 */
const EXPECTED_DIFFERENCES = new Set(['proc', 'dev/pts', 'dev/shm', 'etc/apk/protected_paths.d', 'var/cache/misc', 'var/lib/apk']);

interface BuildJson {
  manifestDigest: string;
  downloaded: { packages: number };
  layers: { packages: string[]; cached: boolean }[];
  untranslated: { package: string; items: string[] }[];
}

let work: string;
let mini: MinirootfsPackages;
let built: BuildJson;
let rootfs: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'layerpkg-alpine-'));
  mini = await minirootfsPackages();
  await writeApkRepository(path.join(work, 'repo'), 'x86_64', mini.specs, makeApkSigningKey());
  copyFileSync(path.join(ROOT, 'examples/alpine/image.toml'), path.join(work, 'image.toml'));
  const locked = await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', path.join(work, 'cache'), '-q']);
  if (locked.status !== 0) throw new Error(`lock failed: ${locked.stderr}`);
  const r = await layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', path.join(work, 'cache'), '-o', path.join(work, 'out'), '--json']);
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = JSON.parse(r.stdout) as BuildJson;
  rootfs = path.join(work, 'bundle/rootfs');
  run('umoci', ['unpack', '--image', `${path.join(work, 'out')}:latest`, path.join(work, 'bundle')]);
}, 180_000);

afterAll(async () => {
  await removeImage(IMAGE_REF);
  rmSync(work, { recursive: true, force: true });
});

describe('examples/alpine from the repackaged minirootfs', () => {
  it('locks the 14 packages of the minirootfs (+ alpine-release) from its world names', () => {
    const lock = JSON.parse(readFileSync(path.join(work, 'image.lock.json'), 'utf8'));
    const pkgs = lock.architectures.x86_64.packages as { name: string; version: string; checksum: string; requiredBy: string[] }[];
    const expected = [...mini.records.map((r) => `${new Map(r.header).get('P')}=${new Map(r.header).get('V')}`), 'alpine-release=3.16.9-r0'].sort();
    expect(pkgs.map((p) => `${p.name}=${p.version}`).sort()).toEqual(expected);
    // ssl_client comes from its install_if (busybox + libssl1.1), as apk adds it.
    expect(pkgs.find((p) => p.name === 'ssl_client')!.requiredBy).toEqual(['(install_if)']);
    expect(built.layers.flatMap((l) => l.packages)).toHaveLength(15);
  });

  it('has the minirootfs tree: paths, types, modes, owners and link targets', () => {
    const ours = walk(rootfs);
    const real = new Map(mini.entries.map((e) => [e.path, e]));
    const problems: string[] = [];
    for (const [p, e] of real) {
      if (EXPECTED_DIFFERENCES.has(p)) continue;
      const o = ours.get(p);
      if (!o) problems.push(`missing ${p}`);
      else if (describe_(o) !== describe_(e)) problems.push(`${p}: ours ${describe_(o)}, real ${describe_(e)}`);
    }
    // The key that signs the test repository is trusted inside the image too.
    for (const p of ours.keys()) if (!real.has(p) && !EXPECTED_DIFFERENCES.has(p) && !/^etc\/apk\/keys\/layerpkg-test-/.test(p)) problems.push(`extra ${p}`);
    expect(problems).toEqual([]);
  });

  it('makes busybox --install -s links without running it, translates the rest or lists it', () => {
    expect(readlinkSync(path.join(rootfs, 'bin/ash'))).toBe('/bin/busybox');
    expect(readlinkSync(path.join(rootfs, 'usr/bin/wget'))).toBe('/bin/busybox');
    const busybox = built.untranslated.find((u) => u.package === 'busybox')!.items;
    expect(busybox).not.toContain('.post-install: exec /bin/busybox --install -s');
    expect(busybox).not.toContain('.trigger: /bin/busybox --install -s');
    // What is left is listed, e.g. the trigger's depmod branch.
    expect(busybox).toContain('.trigger: /bin/busybox depmod ${i#/lib/modules/}');
    // addgroup finds shadow in the shipped /etc/group; the chown and chmod of the packaged
    // /etc/shadow apply to a copy of it in the final layer, as in the real minirootfs.
    expect(built.untranslated.find((u) => u.package === 'alpine-baselayout')).toBeUndefined();
    const shadow = lstatSync(path.join(rootfs, 'etc/shadow'));
    const shadowGid = /^shadow:x:(\d+):/m.exec(readFileSync(path.join(rootfs, 'etc/group'), 'utf8'))?.[1];
    expect([shadow.mode & 0o7777, shadow.uid, String(shadow.gid)]).toEqual([0o640, 0, shadowGid]);
  });

  it('writes the installed database apk wrote, record by record (C: and S: are the repackaged files\')', () => {
    const ours = parseInstalledDb(readFileSync(path.join(rootfs, 'lib/apk/db/installed'), 'utf8')).filter((r) => new Map(r.header).get('P') !== 'alpine-release');
    const real = mini.records;
    expect(ours.map((r) => new Map(r.header).get('P'))).toEqual(real.map((r) => new Map(r.header).get('P')));
    for (let i = 0; i < real.length; i++) {
      const strip = (text: string) => withoutEditedShadowZ(text.split('\n')).filter((l) => !/^[CS]:/.test(l));
      expect(strip(ours[i]!.text)).toEqual(strip(real[i]!.text));
    }
    expect(readFileSync(path.join(rootfs, 'etc/apk/world'), 'utf8')).toBe('alpine-baselayout\nalpine-keys\nalpine-release\napk-tools\nbusybox\nlibc-utils\n');
    expect(readFileSync(path.join(rootfs, 'etc/apk/arch'), 'utf8')).toBe('x86_64\n');
  });

  it('runs under podman; the real apk inside reads its database and audits every file clean', async () => {
    await runAsync('skopeo', ['copy', `oci:${path.join(work, 'out')}:latest`, storageRef(IMAGE_REF)]);
    const script = '/bin/busybox echo ok; cat /etc/alpine-release; apk info -v 2>/dev/null | sort | tr "\\n" " "; echo; apk audit --system --check-permissions; echo "audit=$?"';
    const r = await podmanRun(IMAGE_REF, ['/bin/sh', '-c', script]);
    const [ok, release, apkInfo, ...audit] = r.stdout.trim().split('\n');
    expect(ok).toBe('ok');
    expect(release).toBe('3.16.9');
    const expected = [...mini.records.map((rec) => `${new Map(rec.header).get('P')}-${new Map(rec.header).get('V')}`), 'alpine-release-3.16.9-r0'].sort();
    expect(apkInfo!.trim().split(' ')).toEqual(expected);
    // apk's own audit of every file it owns (checksums, modes, owners) finds nothing but the
    // kernel filesystems podman mounts over /proc, /sys and /dev/shm at run time.
    expect(audit.pop()).toBe('audit=0');
    expect(audit.filter((l) => !['m proc/', 'm sys/', 'm dev/shm/'].includes(l))).toEqual([]);
  });
});

describe('examples/alpine rebuilds', () => {
  const build = async (cache: string, out: string) => {
    const r = await layerpkg(['build', path.join(work, 'image.toml'), '--cache-dir', path.join(work, cache), '-o', path.join(work, out), '--json']);
    if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as BuildJson;
  };

  it('from a warm cache: nothing downloaded or unpacked, the same manifest', async () => {
    const again = await build('cache', 'out-warm');
    expect(again.downloaded.packages).toBe(0);
    expect(again.layers.every((l) => l.cached)).toBe(true);
    expect(again.manifestDigest).toBe(built.manifestDigest);
  });

  it('from an empty cache: the same manifest digest (reproducible)', async () => {
    const fresh = await build('cache-fresh', 'out-fresh');
    expect(fresh.downloaded.packages).toBe(15);
    expect(fresh.manifestDigest).toBe(built.manifestDigest);
  });
});

/** /etc/shadow was edited after apk ran: its Z: cannot match the repackaged content. */
function withoutEditedShadowZ(lines: string[]): string[] {
  let file = '';
  return lines.filter((l) => {
    if (l.startsWith('R:')) file = l;
    return !(l.startsWith('Z:') && file === 'R:shadow');
  });
}

interface Node_ {
  type: RootfsEntry['type'];
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
}

function describe_(n: Node_): string {
  const mode = n.type === 'symlink' ? '' : ` ${n.mode.toString(8)}`;
  const type = n.type === 'hardlink' ? 'file' : n.type; // umoci unpacks a hardlink as a file with another name
  return `${type}${mode} ${n.uid}:${n.gid}${n.linkname !== undefined && n.type === 'symlink' ? ` -> ${n.linkname}` : ''}`;
}

function walk(root: string): Map<string, Node_> {
  const out = new Map<string, Node_>();
  const visit = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path.join(root, p));
      const type: RootfsEntry['type'] = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : 'fifo';
      const n: Node_ = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (type === 'symlink') n.linkname = readlinkSync(path.join(root, p));
      out.set(p, n);
      if (type === 'directory') visit(p);
    }
  };
  visit('');
  return out;
}
