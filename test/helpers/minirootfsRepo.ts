/**
 * The 14 packages of the real Alpine 3.16.9 minirootfs, repackaged as apk v2 files: each
 * package's files come from the rootfs tarball, assigned by the real installed database (F:/R:),
 * its metadata from its real installed record, its scripts from the real scripts.tar and its
 * trigger paths from the real triggers file. Only the signatures and the gzip bytes are new.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApkSpec, ApkSpecFile } from './apkRepo.js';
import { readTarFiles } from './tarFiles.js';
import { CHANGED_AFTER_APK, MINIROOTFS_DB, pkginfoFrom, readMinirootfs, type InstalledRecord, type RootfsEntry } from './minirootfs.js';

export interface MinirootfsPackages {
  specs: ApkSpec[];
  records: InstalledRecord[];
  entries: RootfsEntry[];
}

export async function minirootfsPackages(): Promise<MinirootfsPackages> {
  const { entries, records } = await readMinirootfs();
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const scripts = await readScripts(path.join(MINIROOTFS_DB, 'scripts.tar'));
  const triggers = (await readFile(path.join(MINIROOTFS_DB, 'triggers'), 'utf8')).split('\n');
  const specs = records.map((record): ApkSpec => {
    const header = new Map(record.header);
    const checksum = header.get('C')!;
    const pkginfo = pkginfoFrom(header);
    const trigger = triggers.find((l) => l.startsWith(`${checksum} `));
    if (trigger) pkginfo.push(['triggers', trigger.slice(checksum.length + 1)]);
    const prefix = `${header.get('P')}-${header.get('V')}.${checksum}.`;
    const own = Object.fromEntries([...scripts].filter(([n]) => n.startsWith(prefix)).map(([n, body]) => [`.${n.slice(prefix.length)}`, body]));
    return { pkginfo, scripts: own, files: filesOf(record, byPath) };
  });
  specs.push(releaseSpec(byPath));
  return { specs, records, entries };
}

/**
 * /etc/alpine-release, os-release, issue and secfixes.d/alpine are in the minirootfs but in none
 * of its 14 packages (the image build wrote them). Alpine ≥ 3.17 ships exactly these files as the
 * alpine-release package; this makes that package of them, so the example can include it.
 */
export const RELEASE_FILES = ['etc/alpine-release', 'etc/issue', 'etc/os-release', 'etc/secfixes.d', 'etc/secfixes.d/alpine'];

function releaseSpec(byPath: Map<string, RootfsEntry>): ApkSpec {
  const files: ApkSpecFile[] = [{ path: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: byPath.get('etc')!.mtime }];
  for (const p of RELEASE_FILES) {
    const e = byPath.get(p)!;
    files.push({ path: p, type: e.type === 'directory' ? 'directory' : 'file', mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, ...(e.content ? { content: e.content } : {}) });
  }
  const size = files.reduce((n, f) => n + (f.content?.length ?? 0), 0);
  return {
    pkginfo: [
      ['pkgname', 'alpine-release'],
      ['pkgver', '3.16.9-r0'],
      ['pkgdesc', 'Alpine release data'],
      ['url', 'https://alpinelinux.org'],
      ['builddate', String(byPath.get('etc/alpine-release')!.mtime)],
      ['size', String(size)],
      ['arch', 'x86_64'],
      ['origin', 'alpine-base'],
      ['license', 'MIT'],
    ],
    files,
  };
}

/** The package's data entries in apk's recorded order, with their modes and owners from the DB. */
function filesOf(record: InstalledRecord, byPath: Map<string, RootfsEntry>): ApkSpecFile[] {
  const files: ApkSpecFile[] = [];
  for (const dir of record.files) {
    const changed = CHANGED_AFTER_APK.includes(dir.dir);
    // /dev/pts and /dev/shm were removed after apk ran: their parent's mtime stands in.
    const e = byPath.get(dir.dir) ?? (changed ? byPath.get(path.dirname(dir.dir)) : undefined);
    if (!e) throw new Error(`minirootfs has no ${dir.dir}`);
    const [uid, gid, mode] = aclOf(dir.dirAcl, 0o755);
    // /proc was made 0555 after apk ran; the package's own mode is what its record says.
    files.push({ path: dir.dir, type: 'directory', mode: changed ? mode : e.mode, uid, gid, mtime: e.mtime });
    for (const f of dir.files) {
      const p = dir.dir === '' ? f.name : `${dir.dir}/${f.name}`;
      const fe = byPath.get(p);
      if (!fe) throw new Error(`minirootfs has no ${p}`);
      const [fuid, fgid] = aclOf(f.acl, 0o644);
      const file: ApkSpecFile = { path: p, type: fe.type === 'hardlink' ? 'hardlink' : fe.type === 'symlink' ? 'symlink' : 'file', mode: fe.mode, uid: fuid, gid: fgid, mtime: fe.mtime };
      if (fe.linkname !== undefined) file.linkname = fe.linkname;
      if (fe.content !== undefined) file.content = fe.content;
      files.push(file);
    }
  }
  return files;
}

/** `a:`/`M:` "uid:gid:mode", or root:root with the default mode apk leaves unrecorded. */
function aclOf(acl: string | undefined, defaultMode: number): [number, number, number] {
  if (acl === undefined) return [0, 0, defaultMode];
  const [uid, gid, mode] = acl.split(':');
  return [Number(uid), Number(gid), parseInt(mode!, 8)];
}

async function readScripts(file: string): Promise<Map<string, Buffer>> {
  return new Map((await readTarFiles(await readFile(file))).map((f) => [f.name, f.body]));
}
