/**
 * One package's record in /lib/apk/db/installed, byte for byte as apk-tools 2.12 writes it
 * (database.c apk_db_write_fdb, package.c apk_pkg_write_index_entry): the index fields, the
 * fields only an installed package has (r: q: f:), then its file tree (F: M: R: a: Z:).
 */
import { parseApkDependencies, formatApkDependency } from './dependency.js';
import { pkginfoValues, type ApkFile, type ApkMetadata } from './apkMetadata.js';

export interface InstalledRecordOptions {
  /**
   * Paths (relative, like `ApkFile.path`) a later package overwrote: apk moves their ownership
   * to that package, so they drop out of this record (their directory's F: line stays).
   */
  overwrittenLater?: ReadonlySet<string>;
}

/** The record's lines, each ending in "\n"; apk writes one blank line after each record. */
export function installedRecord(meta: ApkMetadata, options: InstalledRecordOptions = {}): string {
  const header = headerLines(meta);
  if (!apkUnpacks(meta)) return lines(header);
  const tree = fileTree(meta);
  const source = `.PKGINFO of ${meta.name}-${meta.version}`;
  const replaces = pkginfoValues(meta, 'replaces').flatMap((v) => parseApkDependencies(v, source, { lenient: true }));
  if (replaces.length > 0) header.push(`r:${replaces.map(formatApkDependency).join(' ')}`);
  const replacesPriority = lastUint(meta, 'replaces_priority');
  if (replacesPriority) header.push(`q:${replacesPriority}`);
  if (tree.broken) header.push('f:f');
  return lines([...header, ...treeLines(tree.dirs, options.overwrittenLater ?? new Set())]);
}

function lines(list: string[]): string {
  return list.map((l) => `${l}\n`).join('');
}

function last(meta: ApkMetadata, key: string): string | undefined {
  return pkginfoValues(meta, key).at(-1);
}

/** apk reads numbers with apk_blob_pull_uint: leading decimal digits, 0 when there are none. */
function lastUint(meta: ApkMetadata, key: string): number {
  const digits = /^\d*/.exec(last(meta, key) ?? '')![0];
  return digits === '' ? 0 : Number(digits);
}

function installedSize(meta: ApkMetadata): number {
  return lastUint(meta, 'size');
}

/**
 * Whether apk opens the package file at all: it skips one whose installed size is 0, so nothing
 * of the file (replaces, triggers, scripts, files) ends up in its database.
 */
export function apkUnpacks(meta: ApkMetadata): boolean {
  return installedSize(meta) !== 0;
}

/**
 * apk_pkg_write_index_entry: C P V A S I T U L always (A when known), o m c when the package has
 * them, t k when non-zero; then D p i, every `depend`/`provides`/`install_if` line's atoms joined
 * by one space, in apk's canonical spelling and without repository tags (it writes them with no
 * database at hand).
 */
function headerLines(meta: ApkMetadata): string[] {
  const out = [
    `C:${meta.checksum}`,
    `P:${last(meta, 'pkgname') ?? meta.name}`,
    `V:${last(meta, 'pkgver') ?? meta.version}`,
  ];
  const arch = last(meta, 'arch') ?? meta.arch;
  if (arch) out.push(`A:${arch}`);
  out.push(`S:${meta.fileSize}`, `I:${installedSize(meta)}`);
  out.push(`T:${last(meta, 'pkgdesc') ?? ''}`, `U:${last(meta, 'url') ?? ''}`, `L:${last(meta, 'license') ?? ''}`);
  const optional = (letter: string, key: string) => {
    const value = last(meta, key);
    if (value !== undefined) out.push(`${letter}:${value}`);
  };
  optional('o', 'origin');
  optional('m', 'maintainer');
  if (lastUint(meta, 'builddate')) out.push(`t:${lastUint(meta, 'builddate')}`);
  optional('c', 'commit');
  if (lastUint(meta, 'provider_priority')) out.push(`k:${lastUint(meta, 'provider_priority')}`);
  const source = `.PKGINFO of ${meta.name}-${meta.version}`;
  for (const [letter, key] of [['D', 'depend'], ['p', 'provides'], ['i', 'install_if']] as const) {
    const atoms = pkginfoValues(meta, key).flatMap((v) => parseApkDependencies(v, source, { lenient: true }));
    if (atoms.length > 0) out.push(`${letter}:${atoms.map((a) => formatApkDependency({ ...a, tag: undefined })).join(' ')}`);
  }
  return out;
}

interface Acl {
  uid: number;
  gid: number;
  mode: number;
}

interface RecordedFile {
  name: string;
  path: string;
  acl: Acl;
  /** "Q1" + base64, or undefined when the package gave no checksum. */
  sha1Q?: string;
}

interface RecordedDir {
  name: string;
  acl: Acl;
  files: RecordedFile[];
}

const DEFAULT_DIR_ACL: Acl = { uid: 0, gid: 0, mode: 0o755 };
const DEFAULT_FILE_ACL: Acl = { uid: 0, gid: 0, mode: 0o644 };

function aclOf(f: ApkFile): Acl {
  return { uid: f.uid, gid: f.gid, mode: f.mode & 0o7777 };
}

function sameAcl(a: Acl, b: Acl): boolean {
  return a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

function sha1Q(hex: string): string {
  return `Q1${Buffer.from(hex, 'hex').toString('base64')}`;
}

/**
 * What apk_db_install_archive_entry records, walking the data tar in order:
 * - a directory entry opens its F: group (or reopens the existing one) and sets its owner/mode;
 *   apk lists only directories the tar has entries for, in first-seen order, never their parents;
 * - a file joins its directory's group, appended even when other groups came in between; a file
 *   whose directory has no entry of its own is dropped and marks the package broken (f:f), except
 *   at the top level, where apk opens the root's group (an empty F: name) on demand;
 * - `.keep_*` placeholders and top-level dot-files are not recorded;
 * - a hardlink takes its target's checksum and needs that target earlier in the same package;
 * - a file without a checksum is recorded but marks the package broken, as apk does.
 */
function fileTree(meta: ApkMetadata): { dirs: RecordedDir[]; broken: boolean } {
  const dirs: RecordedDir[] = [];
  const byName = new Map<string, RecordedDir>();
  const recorded = new Map<string, RecordedFile>();
  let broken = false;
  const open = (name: string): RecordedDir => {
    let dir = byName.get(name);
    if (!dir) {
      dir = { name, acl: DEFAULT_DIR_ACL, files: [] };
      dirs.push(dir);
      byName.set(name, dir);
    }
    return dir;
  };

  for (const f of meta.files) {
    const path = f.path.replace(/\/+$/, '');
    if (path === '' || path.startsWith('.')) continue;
    if (f.type === 'directory') {
      open(path).acl = aclOf(f);
      continue;
    }
    const slash = path.lastIndexOf('/');
    const dirName = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (name.length > 6 && name.startsWith('.keep_')) continue;
    const dir = dirName === '' ? open('') : byName.get(dirName);
    if (!dir) {
      broken = true;
      continue;
    }
    let checksum = f.sha1 ? sha1Q(f.sha1) : undefined;
    if (f.type === 'hardlink') {
      const target = f.linkname === undefined ? undefined : recorded.get(f.linkname.replace(/^\/+/, ''));
      if (!target) {
        broken = true;
        continue;
      }
      checksum = target.sha1Q;
    }
    if (checksum === undefined) broken = true;
    const file: RecordedFile = { name, path, acl: aclOf(f), sha1Q: checksum };
    dir.files.push(file);
    recorded.set(path, file);
  }
  return { dirs, broken };
}

/** Paths of the files (not directories) apk records as this package's, in record order. */
export function recordedPaths(meta: ApkMetadata): string[] {
  if (!apkUnpacks(meta)) return [];
  return fileTree(meta).dirs.flatMap((d) => d.files.map((f) => f.path));
}

/** uid:gid:mode, the mode in octal without leading zeros (apk_blob_push_db_acl). */
function aclText(acl: Acl): string {
  return `${acl.uid}:${acl.gid}:${acl.mode.toString(8)}`;
}

/** M: only for a directory that is not root:root 0755, a: only for a file not root:root 0644. */
function treeLines(dirs: RecordedDir[], overwrittenLater: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    out.push(`F:${dir.name}`);
    if (!sameAcl(dir.acl, DEFAULT_DIR_ACL)) out.push(`M:${aclText(dir.acl)}`);
    for (const file of dir.files) {
      if (overwrittenLater.has(file.path)) continue;
      out.push(`R:${file.name}`);
      if (!sameAcl(file.acl, DEFAULT_FILE_ACL)) out.push(`a:${aclText(file.acl)}`);
      if (file.sha1Q !== undefined) out.push(`Z:${file.sha1Q}`);
    }
  }
  return out;
}
