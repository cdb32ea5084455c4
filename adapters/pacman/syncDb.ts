/**
 * pacman repository databases (`<repo>.db`, `<repo>.files`) and the `%FIELD%` text format.
 *
 * A database is a tar, compressed or not (repo-add picks gzip, zstd, xz, bzip2... from the file
 * name; the `.db` name itself is a link to it), with one directory per package, named
 * `<name>-<pkgver>-<pkgrel>`, holding `desc` (and `depends` in databases older than pacman 4.1,
 * `files` in `.files` databases). Each of those is a list of fields:
 *
 *     %NAME%
 *     acl
 *
 *     %DEPENDS%
 *     attr
 *     glibc
 *
 * A field is its `%KEY%` line, then its values, one a line, up to a blank line (the end of the
 * file counts as one). The keys libalpm reads with one value take exactly the next line, even a
 * blank one (FILENAME, NAME, VERSION, DESC, CSIZE...). The local database
 * (/var/lib/pacman/local/<pkg>/desc, files) uses the same format, read by `parseDesc`.
 *
 * Compared with libalpm's reader (be_sync.c), this one is stricter where it would silently go on
 * with damaged data: a line that is not a field where one is expected, a field given twice, a
 * %NAME%/%VERSION% that disagrees with the directory name, two directories for one package, a
 * package name makepkg would not allow, or a tar without its end-of-archive block are refused.
 * Like libalpm, it refuses a %FILENAME% that is hidden or has a `/`. It is more lenient in one place: package
 * directories may sit inside another directory (archweb's test fixture has `core.db/<pkg>/desc`,
 * which pacman itself refuses as "invalid name for database entry").
 */
import { errorMessage, UserError } from '../../src/errors.js';
import { decompressIndex } from '../decompressIndex.js';

/** Fields by key without the percent signs ("CSIZE"), each with its values in file order. */
export type PacmanFields = Map<string, string[]>;

export interface PacmanDbEntry {
  /** From the directory name, which %NAME% (when present) agrees with. */
  name: string;
  /** `[epoch:]pkgver-pkgrel`, from the directory name, which %VERSION% (when present) agrees with. */
  version: string;
  /** The name of the package's directory in the archive ("acl-2.2.53-1"), without any parent directory. */
  directory: string;
  /**
   * Every field of the directory's desc, depends and files, known to this code or not
   * (FILENAME NAME BASE VERSION DESC GROUPS CSIZE ISIZE MD5SUM SHA256SUM PGPSIG URL LICENSE ARCH
   * BUILDDATE PACKAGER REPLACES CONFLICTS PROVIDES DEPENDS OPTDEPENDS MAKEDEPENDS CHECKDEPENDS
   * FILES DATA ...). Values are verbatim: dependency strings are for parsePacmanDependency.
   */
  fields: PacmanFields;
}

/** The keys libalpm reads as a single line (be_sync.c, be_local.c); the others run to a blank line. */
const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'FILENAME',
  'NAME',
  'VERSION',
  'BASE',
  'DESC',
  'URL',
  'ARCH',
  'BUILDDATE',
  'INSTALLDATE',
  'PACKAGER',
  'REASON',
  'SIZE',
  'CSIZE',
  'ISIZE',
  'MD5SUM',
  'SHA256SUM',
  'PGPSIG',
]);

/** The files of a package directory that hold fields; libalpm ignores any other. */
const FIELD_FILES: ReadonlySet<string> = new Set(['desc', 'depends', 'files']);

const KEY_LINE = /^%([^%\s]+)%$/;
const PACKAGE_NAME = /^[A-Za-z0-9@_+][A-Za-z0-9@._+-]*$/;

/** The value of a single-value field, or undefined if the entry does not have it. */
export function pacmanField(fields: PacmanFields, key: string): string | undefined {
  return fields.get(key)?.[0];
}

/**
 * Parse the `%FIELD%` format of a desc, depends or files file (sync or local database).
 * `source` names the file in errors. Lines are split at `\n` only, as libalpm does (a `\r`
 * stays in the value).
 */
export function parseDesc(text: string, source: string): PacmanFields {
  const bad = (line: number, why: string): UserError =>
    new UserError(`${source}: line ${line} ${why}: the package database is corrupt; download it again, or report it to the repository's maintainer`);
  if (text.includes('\0')) throw bad(text.slice(0, text.indexOf('\0')).split('\n').length, 'contains a NUL byte');
  const fields: PacmanFields = new Map();
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++]!;
    if (line === '') continue;
    const m = KEY_LINE.exec(line);
    if (!m) throw bad(i, `is ${JSON.stringify(line.slice(0, 80))} where a %FIELD% line was expected`);
    const key = m[1]!;
    if (fields.has(key)) throw bad(i, `gives %${key}% a second time`);
    if (SINGLE_VALUE.has(key)) {
      // Exactly the next line, as libalpm reads it; at the end of the file, an empty value.
      fields.set(key, [i < lines.length ? lines[i++]! : '']);
    } else {
      const values: string[] = [];
      while (i < lines.length && lines[i] !== '') values.push(lines[i++]!);
      fields.set(key, values);
    }
  }
  return fields;
}

/**
 * Read a repository database (`<repo>.db` or `<repo>.files`): gzip, zstd, xz or uncompressed,
 * told apart by their magic bytes, whatever the file is called. Entries come in archive order.
 * Anything unreadable is one UserError naming `source` (the URL or path) and what to do.
 */
export async function parsePacmanDb(bytes: Buffer, source: string): Promise<PacmanDbEntry[]> {
  const tarBytes = await decompressDb(bytes, source);
  let files: TarFile[];
  try {
    files = readTar(tarBytes);
  } catch (e) {
    throw new UserError(`${source} is not a readable pacman database (${errorMessage(e)}): download it again, or check the repository URL`);
  }

  const entries = new Map<string, PacmanDbEntry>();
  const byName = new Map<string, string>();
  for (const file of files) {
    const parts = file.path.split('/').filter((p) => p !== '' && p !== '.');
    const base = parts.pop();
    const directory = parts.pop();
    // Files outside a package directory, and other files inside one, are not package data.
    if (base === undefined || directory === undefined || !FIELD_FILES.has(base)) continue;
    const where = `${source} (${file.path})`;
    let entry = entries.get(directory);
    if (!entry) {
      const { name, version } = splitDirectoryName(directory, where);
      const other = byName.get(name);
      if (other !== undefined) {
        throw new UserError(`${source} lists package "${name}" twice (${other} and ${directory}): the database is corrupt; download it again, or report it to the repository's maintainer`);
      }
      byName.set(name, directory);
      entry = { name, version, directory, fields: new Map() };
      entries.set(directory, entry);
    }
    for (const [key, values] of parseDesc(file.data.toString('utf8'), where)) {
      if (entry.fields.has(key)) {
        throw new UserError(`${where} gives %${key}% again (another file of ${directory} has it): the database is corrupt; download it again`);
      }
      entry.fields.set(key, values);
    }
  }

  for (const entry of entries.values()) checkEntry(entry, source);
  return [...entries.values()];
}

/** `acl-2.2.53-1` → acl, 2.2.53-1: the version is what follows the second-to-last hyphen. */
function splitDirectoryName(directory: string, where: string): { name: string; version: string } {
  const rel = directory.lastIndexOf('-');
  const ver = rel > 0 ? directory.lastIndexOf('-', rel - 1) : -1;
  if (ver <= 0 || rel === ver + 1 || rel === directory.length - 1) {
    throw new UserError(`${where}: "${directory}" is not a package directory name (<name>-<pkgver>-<pkgrel>): the database is corrupt; download it again`);
  }
  return { name: directory.slice(0, ver), version: directory.slice(ver + 1) };
}

/** What libalpm checks of an entry, and the name/version agreement it only logs. */
function checkEntry(entry: PacmanDbEntry, source: string): void {
  const corrupt = (why: string): UserError =>
    new UserError(`${source}: package ${entry.directory} ${why}: the database is inconsistent; download it again, or report it to the repository's maintainer`);
  const name = pacmanField(entry.fields, 'NAME');
  if (name !== undefined && name !== entry.name) throw corrupt(`has %NAME% "${name}"`);
  const version = pacmanField(entry.fields, 'VERSION');
  if (version !== undefined && version !== entry.version) throw corrupt(`has %VERSION% "${version}"`);
  // makepkg's rule for pkgname; the name and version become a directory name in the local database.
  if (!PACKAGE_NAME.test(entry.name)) throw corrupt(`has the invalid package name ${JSON.stringify(entry.name)} (letters, digits and @._+-, not starting with . or -)`);
  if (entry.name.length + 1 + entry.version.length > 255) throw corrupt('has a name and version longer than a file name may be');
  const filename = pacmanField(entry.fields, 'FILENAME');
  // The file name becomes a path in the download directory: no hidden names, no directories.
  if (filename !== undefined && (filename === '' || filename.startsWith('.') || filename.includes('/'))) {
    throw corrupt(`has the illegal %FILENAME% ${JSON.stringify(filename)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decompression

const MAGIC: { bytes: number[]; name: string }[] = [
  { bytes: [0x1f, 0x8b], name: 'gzip' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz' },
  { bytes: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { bytes: [0x04, 0x22, 0x4d, 0x18], name: 'lz4' },
  { bytes: [0x1f, 0x9d], name: 'compress (.Z)' },
  { bytes: [0x4c, 0x5a, 0x49, 0x50], name: 'lzip' },
  { bytes: [0x4c, 0x52, 0x5a, 0x49], name: 'lrzip' },
  { bytes: [0x89, 0x4c, 0x5a, 0x4f], name: 'lzop' },
];

function compressionOf(bytes: Buffer): string | undefined {
  return MAGIC.find((m) => bytes.length >= m.bytes.length && m.bytes.every((b, i) => bytes[i] === b))?.name;
}

async function decompressDb(bytes: Buffer, source: string): Promise<Buffer> {
  if (bytes.length === 0) throw new UserError(`${source} is empty: download it again, or check the repository URL`);
  const kind = compressionOf(bytes);
  if (kind === undefined) {
    if (looksLikeTar(bytes)) return bytes;
    const start = bytes.subarray(0, 40).toString('latin1');
    const shown = /^[\x20-\x7e\t\r\n]*$/.test(start) ? ` (it starts with ${JSON.stringify(start)})` : '';
    throw new UserError(
      `${source} is not a pacman repository database: it is neither a tar nor gzip, zstd or xz compressed${shown}; check the repository URL`,
    );
  }
  try {
    if (kind === 'gzip' || kind === 'zstd' || kind === 'xz') return await decompressIndex(bytes, kind, source);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${source} is truncated or corrupt (${kind}: ${errorMessage(e)}): download it again`);
  }
  throw new UserError(
    `${source} is compressed with ${kind}, which layerpkg cannot read: use a repository database compressed with ` +
      'zstd, gzip or xz, or uncompressed (repo-add picks the compression from the name, e.g. <repo>.db.tar.zst)',
  );
}

// ---------------------------------------------------------------------------------------------
// Tar

interface TarFile {
  path: string;
  data: Buffer;
}

const BLOCK = 512;

function looksLikeTar(bytes: Buffer): boolean {
  if (bytes.length < BLOCK) return false;
  const header = bytes.subarray(0, BLOCK);
  return header.every((b) => b === 0) || checksumMatches(header);
}

function tarString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/** An octal number field (NUL/space padded), or base-256 when its first byte has the high bit. */
function tarNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]*$/.test(text)) return NaN;
  return text === '' ? 0 : parseInt(text, 8);
}

/** The header checksum, summed with the checksum field as spaces, unsigned or (old tars) signed. */
function checksumMatches(header: Buffer): boolean {
  const stored = tarNumber(header, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** `len key=value\n` records of a PAX extended header. */
function paxRecords(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break;
    const space = body.indexOf(0x20, pos);
    const len = space < 0 ? NaN : Number(body.subarray(pos, space).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw new Error(`malformed PAX header record at byte ${pos}`);
    }
    const record = body.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq < 0) throw new Error(`malformed PAX header record at byte ${pos}`);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}

/**
 * The regular files of an in-memory tar (ustar, GNU or PAX, as bsdtar writes it: repo-add
 * runs bsdtar, which adds PAX headers such as SCHILY.fflags). Checks every header checksum, that
 * no entry is cut short, and that the archive ends with its end-of-archive block. Throws plain
 * Errors; the caller names the file.
 */
function readTar(bytes: Buffer): TarFile[] {
  const files: TarFile[] = [];
  let pos = 0;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  let longName: string | undefined;
  for (;;) {
    if (pos + BLOCK > bytes.length) {
      throw new Error(pos === bytes.length ? 'the tar ends without its end-of-archive block: it is truncated' : `the tar is truncated at byte ${bytes.length}`);
    }
    const header = bytes.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumMatches(header)) throw new Error(`bad tar header checksum at byte ${pos} (not a tar, or corrupt)`);
    const type = String.fromCharCode(header[156]!);
    let size = tarNumber(header, 124, 12);
    if (paxSize !== undefined && type !== 'x' && type !== 'g' && type !== 'L') size = paxSize;
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad tar entry size at byte ${pos}`);
    const bodyStart = pos + BLOCK;
    if (bodyStart + size > bytes.length) throw new Error(`the tar is truncated in the entry at byte ${pos}`);
    const body = bytes.subarray(bodyStart, bodyStart + size);
    pos = bodyStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      const records = paxRecords(body);
      paxPath = records.get('path') ?? paxPath;
      const paxSizeText = records.get('size');
      if (paxSizeText !== undefined) {
        paxSize = /^\d+$/.test(paxSizeText) ? Number(paxSizeText) : NaN;
        if (!Number.isSafeInteger(paxSize)) throw new Error(`bad PAX size ${JSON.stringify(paxSizeText)}`);
      }
      continue;
    }
    if (type === 'g') {
      paxRecords(body); // Global defaults: checked, but nothing in them matters here.
      continue;
    }
    if (type === 'L') {
      longName = tarString(body, 0, body.length);
      continue;
    }
    if (type === 'K') continue; // GNU long link target: links carry no fields.

    let path: string;
    if (paxPath !== undefined) path = paxPath;
    else if (longName !== undefined) path = longName;
    else {
      // The prefix field is POSIX ustar's ("ustar\0"); GNU tars ("ustar  \0") keep other data there.
      const posix = header.subarray(257, 263).equals(Buffer.from('ustar\0', 'latin1'));
      const prefix = posix ? tarString(header, 345, 155) : '';
      const name = tarString(header, 0, 100);
      path = prefix ? `${prefix}/${name}` : name;
    }
    paxPath = undefined;
    paxSize = undefined;
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') files.push({ path, data: body });
  }
  return files;
}
