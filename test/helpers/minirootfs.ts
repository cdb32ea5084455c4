/**
 * The real Alpine 3.16.9 x86_64 minirootfs (made by apk-tools 2.12.9) as test data: its entries
 * with their contents, and its /lib/apk/db/installed parsed into per-package records. Tests build
 * package metadata from it and compare what layerpkg writes with what apk wrote.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TAR_TYPES } from '../../adapters/tarEntries.js';
import type { LayerEntry } from '../../adapters/types.js';
import { ALPINE_FIXTURES } from './sharedFixtures.js';
import { readTarFiles } from './tarFiles.js';

export const MINIROOTFS_TARBALL = path.join(ALPINE_FIXTURES, 'rootfs/alpine-minirootfs-3.16.9-x86_64.tar.gz');
/** lib/apk/db and etc/apk files copied out of the tarball (see PROVENANCE.md). */
export const MINIROOTFS_DB = path.join(ALPINE_FIXTURES, 'installed-db/alpine-minirootfs-3.16.9-x86_64');

/** One entry of the rootfs tarball. The root ("./") itself is left out. */
export interface RootfsEntry {
  /** Relative, without "./" and without a trailing "/" ("usr/bin/wget"). */
  path: string;
  type: LayerEntry['type'];
  /** Permission bits only (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Symlink target, or the hardlink's target path (relative, like `path`). */
  linkname?: string;
  /** Regular files only. */
  content?: Buffer;
}

/** One file line group of an installed record: `R:` and its optional `a:` and `Z:`. */
export interface InstalledFile {
  name: string;
  /** The `a:` value ("0:0:777"), when apk wrote one. */
  acl?: string;
  /** The `Z:` value ("Q1..."), when apk wrote one. */
  sha1Q?: string;
}

/** One `F:` group: the directory, its optional `M:` value and its files in recorded order. */
export interface InstalledDir {
  dir: string;
  dirAcl?: string;
  files: InstalledFile[];
}

/** One package's record in lib/apk/db/installed. */
export interface InstalledRecord {
  /** Every line that is not part of the file tree (C P V ... D p i r q ...), in file order. */
  header: [string, string][];
  files: InstalledDir[];
  /** The record's lines as written, each ending in "\n", without the blank separator line. */
  text: string;
}


function relative(name: string): string {
  return name.replace(/^\.\//, '').replace(/\/$/, '');
}

export async function readRootfsEntries(tarball = MINIROOTFS_TARBALL): Promise<RootfsEntry[]> {
  const entries: RootfsEntry[] = [];
  for (const f of await readTarFiles(gunzipSync(await readFile(tarball)))) {
    const p = relative(f.name);
    if (p === '' || p === '.') continue;
    const type = TAR_TYPES[f.type];
    if (!type) throw new Error(`${tarball}: unexpected tar entry type ${f.type} for ${f.name}`);
    const entry: RootfsEntry = { path: p, type, mode: f.mode & 0o7777, uid: f.uid, gid: f.gid, mtime: Math.floor(f.mtime) };
    if (f.linkname) entry.linkname = type === 'hardlink' ? relative(f.linkname) : f.linkname;
    if (type === 'file') entry.content = f.body;
    entries.push(entry);
  }
  return entries;
}

const FILE_TREE_LETTERS = new Set(['F', 'M', 'R', 'a', 'Z']);

/** Parse installed-database text into records; throws on a line that is not "X:value". */
export function parseInstalledDb(text: string): InstalledRecord[] {
  const records: InstalledRecord[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const record: InstalledRecord = { header: [], files: [], text: `${block}\n` };
    let dir: InstalledDir | undefined;
    let file: InstalledFile | undefined;
    for (const line of block.split('\n')) {
      if (line[1] !== ':') throw new Error(`installed db: not an "X:value" line: ${JSON.stringify(line)}`);
      const letter = line[0]!;
      const value = line.slice(2);
      if (!FILE_TREE_LETTERS.has(letter)) record.header.push([letter, value]);
      else if (letter === 'F') record.files.push((dir = { dir: value, files: [] }));
      else if (letter === 'M') dir!.dirAcl = value;
      else if (letter === 'R') dir!.files.push((file = { name: value }));
      else if (letter === 'a') file!.acl = value;
      else file!.sha1Q = value;
    }
    records.push(record);
  }
  return records;
}

/** The minirootfs: its tarball's entries and the records of its installed database, in apk's order. */
export async function readMinirootfs(): Promise<{ entries: RootfsEntry[]; records: InstalledRecord[] }> {
  const entries = await readRootfsEntries();
  const installed = entries.find((e) => e.path === 'lib/apk/db/installed')?.content;
  if (!installed) throw new Error(`${MINIROOTFS_TARBALL} has no lib/apk/db/installed`);
  return { entries, records: parseInstalledDb(installed.toString('utf8')) };
}

/** APKINDEX / installed-header letter → .PKGINFO key (apk-tools package.c read_info_line, database.c). */
export const PKGINFO_KEY: Record<string, string> = {
  P: 'pkgname',
  V: 'pkgver',
  T: 'pkgdesc',
  U: 'url',
  t: 'builddate',
  I: 'size',
  A: 'arch',
  o: 'origin',
  c: 'commit',
  m: 'maintainer',
  k: 'provider_priority',
  L: 'license',
  r: 'replaces',
  q: 'replaces_priority',
  D: 'depend',
  p: 'provides',
  i: 'install_if',
};
/** abuild writes one `depend`/`provides`/... line per atom; apk joins them back with spaces. */
const ONE_LINE_PER_ATOM = new Set(['D', 'p', 'i', 'r']);
/** abuild's .PKGINFO order, which differs from apk's record order on purpose of this test. */
const PKGINFO_ORDER = ['P', 'V', 'T', 'U', 't', 'I', 'A', 'o', 'c', 'm', 'k', 'L', 'r', 'q', 'D', 'p', 'i'];
/**
 * Where the minirootfs differs from what apk installed, because docker-alpine's build changed it
 * afterwards: /etc/shadow edited (root's password), /proc made 0555, /dev emptied. For these
 * paths the package's own data comes from the installed record (the only record of it left).
 */
export const CHANGED_AFTER_APK = ['etc/shadow', 'proc', 'dev/pts', 'dev/shm'];

/** .PKGINFO pairs, as abuild writes them, from index or installed-record fields. */
export function pkginfoFrom(fields: Map<string, string>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const letter of PKGINFO_ORDER) {
    const value = fields.get(letter);
    if (value === undefined) continue;
    const key = PKGINFO_KEY[letter]!;
    for (const v of ONE_LINE_PER_ATOM.has(letter) ? value.split(' ') : [value]) pairs.push([key, v]);
  }
  return pairs;
}

export function hexOfQ1(q: string): string {
  return Buffer.from(q.slice(2), 'base64').toString('hex');
}

