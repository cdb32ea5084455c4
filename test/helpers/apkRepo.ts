/**
 * Real-format Alpine apk v2 packages and a signed APKINDEX.tar.gz, written from a spec, so offline
 * end-to-end tests can build images from an Alpine-style repository served on 127.0.0.1.
 *
 * The byte layout is that of abuild 3.9 + apk-tools 2.12, checked against real Alpine files (the
 * fixture test rebuilds the *uncompressed* tars of real packages and indexes byte for byte; the
 * compressed bytes differ only because GNU gzip and zlib compress differently):
 *
 * .apk = three concatenated gzip members (gzip -n -9: header 1f8b 08 00 00000000 02 03):
 *   1. signature: an old-GNU-format tar (magic "ustar  \0", numeric owner 0/0, no uname/gname,
 *      mode 0644, mtime = builddate) with one entry `.SIGN.RSA.<key file name>`, an RSA PKCS#1 v1.5
 *      signature over the SHA-1 of member 2's *compressed* bytes. No end-of-archive blocks
 *      (abuild-tar --cut). Absent for an unsigned package.
 *   2. control: a POSIX (pax) tar as GNU tar writes it, `.PKGINFO` then the scripts, each entry
 *      preceded by an `x` header named `./PaxHeaders/<name>` holding "ctime=0" and "atime=0";
 *      mode 0644 (.PKGINFO) / 0755 (scripts), root:root, mtime = builddate. No end blocks (--cut).
 *   3. data: the same POSIX tar of the package's files, in the given order, *with* its two end
 *      blocks and padded to a 10240-byte record (GNU tar's blocking, kept by abuild-tar --hash).
 *      Every entry gets an `x` header `<dir>/PaxHeaders/<base>` ("./PaxHeaders/<base>" at the
 *      top); regular files and symlinks also get `APK-TOOLS.checksum.SHA1=<hex>` (of the content,
 *      resp. of the link target), and regular files carry the legacy copy of that checksum in
 *      their linkname field (3 NUL bytes, "APK2", NID 64 and length 20 little-endian, digest).
 *      Directories and hardlinks have no checksum.
 *   .PKGINFO ends with `datahash = <sha256 of member 3's compressed bytes>`, so member 3 is built
 *   first; the package's identity (`C:`) is "Q1" + base64(SHA-1 of member 2's compressed bytes).
 *
 * APKINDEX.tar.gz = a signature member as above (covering the compressed bytes of the rest), then
 *   one gzip member of the tar `apk index` writes itself (magic "ustar  \0", uname/gname "root",
 *   12-digit size and mtime fields without NUL, no dev numbers): DESCRIPTION (no newline) and
 *   APKINDEX, then exactly two end blocks (no record padding). APKINDEX is the records, each ended
 *   by a blank line, fields in apk-tools 2's order C P V A S I T U L o m t c k D p i.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveDir, type RepoServer } from './aptRepo.js';

// ---------------------------------------------------------------------------------------------
// Keys

/** An RSA key pair as abuild-keygen makes one; `keyName` is the public key's file name in /etc/apk/keys. */
export interface ApkSigningKey {
  /** "layerpkg-test-<8 hex>.rsa.pub" unless named: the `<key>` of `.SIGN.RSA.<key>`. */
  keyName: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM ("-----BEGIN PUBLIC KEY-----"), the format of Alpine's .rsa.pub files. */
  publicKeyPem: string;
}

/** A fresh RSA 2048 signing key. `name` is used verbatim as the key file name when given. */
export function makeApkSigningKey(name?: string): ApkSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { keyName: name ?? `layerpkg-test-${randomBytes(4).toString('hex')}.rsa.pub`, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

// ---------------------------------------------------------------------------------------------
// Specs

/** One entry of a package's data tar. */
export interface ApkSpecFile {
  /** Relative path ("usr/bin/hello"), no leading "/"; directories without (or with) a trailing "/". Written verbatim, so a test can make hostile packages. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  /** Permission bits incl. setuid/setgid/sticky (0o755, 0o4755, 0o1777...); symlinks are 0o777 in real packages. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch; abuild sets every entry to the builddate (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** Symlink target as stored, or a hardlink's target path (relative, like `path`). */
  linkname?: string;
  /** Content of a regular file (empty when absent). */
  content?: Buffer;
  /** Owner name in the tar header; default "root" for uid 0, else empty (apk then uses the numeric id). */
  uname?: string;
  /** Group name in the tar header; default "root" for gid 0, else empty. */
  gname?: string;
}

/** A package to build. */
export interface ApkSpec {
  /**
   * Every .PKGINFO "key = value" pair except `datahash` (the builder appends it), in file order;
   * keys repeat (depend, provides, replaces, triggers...). A pair with key "#" writes a comment
   * line "# <value>", as abuild's "# Generated by abuild ..." header. `pkgname` and `pkgver` are
   * required; `builddate` (if numeric) is the mtime of the control and signature entries.
   */
  pkginfo: [string, string][];
  /** Control scripts by name, in control-tar order: ".pre-install", ".post-install", ".trigger"... */
  scripts?: Record<string, Buffer>;
  /** The data tar's entries, in tar order (abuild sorts by path, so list parents first). */
  files: ApkSpecFile[];
}

/** The last value of a .PKGINFO key (apk-tools lets a later line override an earlier one). */
function pkginfoValue(spec: ApkSpec, key: string): string | undefined {
  const values = spec.pkginfo.filter(([k]) => k === key).map(([, v]) => v);
  return values[values.length - 1];
}

function pkginfoValues(spec: ApkSpec, key: string): string[] {
  return spec.pkginfo.filter(([k]) => k === key).map(([, v]) => v);
}

/** SOURCE_DATE_EPOCH of a spec: its numeric builddate, else 0. */
function buildTime(spec: ApkSpec): number {
  const t = pkginfoValue(spec, 'builddate');
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : 0;
}

function requiredPkginfo(spec: ApkSpec, key: string): string {
  const v = pkginfoValue(spec, key);
  if (v === undefined || v === '') throw new Error(`ApkSpec: .PKGINFO has no "${key}"`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Tar writing

const BLOCK = 512;
const RECORD = 20 * BLOCK; // GNU tar's default blocking factor

const sha1 = (b: Buffer | string): Buffer => createHash('sha1').update(b).digest();
const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `width - 1` zero-padded octal digits and a NUL, or `width` digits without one. */
function octal(value: number, width: number, nul = true): string {
  const digits = nul ? width - 1 : width;
  const s = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || s.length > digits) throw new Error(`tar: ${value} does not fit a ${width}-byte octal field`);
  return s.padStart(digits, '0') + (nul ? '\0' : '');
}

function padBlock(b: Buffer): Buffer {
  const rest = b.length % BLOCK;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(BLOCK - rest)]);
}

interface HeaderFields {
  name: Buffer | string;
  /** Already-formatted numeric fields (formats differ between GNU tar and apk-tools). */
  mode: string;
  uid: string;
  gid: string;
  size: string;
  mtime: string;
  typeflag: string;
  linkname?: Buffer | string;
  /** 8 bytes: "ustar\0" + "00" (POSIX) or "ustar  \0" (old GNU, apk-tools). */
  magic: string;
  uname?: string;
  gname?: string;
  /** "0000000\0" each, or absent (all NUL). */
  devNumbers?: boolean;
}

/** A 512-byte header; the checksum is "%06o\0 " as GNU tar, abuild-tar and apk-tools write it. */
function tarHeader(f: HeaderFields): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (value: Buffer | string, offset: number, length: number): void => {
    const b = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    if (b.length > length) throw new Error(`tar: field at ${offset} longer than ${length} bytes`);
    b.copy(h, offset);
  };
  put(typeof f.name === 'string' ? Buffer.from(f.name, 'utf8') : f.name, 0, 100);
  put(f.mode, 100, 8);
  put(f.uid, 108, 8);
  put(f.gid, 116, 8);
  put(f.size, 124, 12);
  put(f.mtime, 136, 12);
  put(f.typeflag, 156, 1);
  if (f.linkname !== undefined) put(typeof f.linkname === 'string' ? Buffer.from(f.linkname, 'utf8') : f.linkname, 157, 100);
  put(f.magic, 257, 8);
  if (f.uname) put(Buffer.from(f.uname, 'utf8'), 265, 32);
  if (f.gname) put(Buffer.from(f.gname, 'utf8'), 297, 32);
  if (f.devNumbers) {
    put('0000000\0', 329, 8);
    put('0000000\0', 337, 8);
  }
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** One pax record, "<len> <key>=<value>\n", where len counts the whole record. */
function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`, 'utf8');
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** First `max` bytes of a UTF-8 name (GNU tar truncates the header field when a pax record holds the full name). */
function truncated(name: string, max = 100): Buffer {
  const b = Buffer.from(name, 'utf8');
  return b.length > max ? b.subarray(0, max) : b;
}

/** GNU tar's `--pax-option=exthdr.name=%d/PaxHeaders/%f` for an entry name ("usr/bin/" → "usr/PaxHeaders/bin"). */
function paxHeaderName(name: string): string {
  const bare = name.replace(/\/+$/, '');
  const slash = bare.lastIndexOf('/');
  return slash < 0 ? `./PaxHeaders/${bare}` : `${bare.slice(0, slash)}/PaxHeaders/${bare.slice(slash + 1)}`;
}

interface PosixEntry {
  name: string;
  typeflag: '0' | '1' | '2' | '5';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  linkname?: string;
  content: Buffer;
  /** abuild-tar --hash: checksum a regular file or a symlink. */
  hash: boolean;
}

/**
 * One entry as `tar --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,atime:=0,ctime:=0`
 * writes it, optionally rewritten by `abuild-tar --hash`: its `x` header, its ustar header, its content.
 */
function posixEntry(e: PosixEntry): Buffer {
  const records: Buffer[] = [];
  const longName = Buffer.byteLength(e.name) > 100;
  if (longName) records.push(paxRecord('path', e.name));
  const longLink = e.linkname !== undefined && Buffer.byteLength(e.linkname) > 100;
  if (longLink) records.push(paxRecord('linkpath', e.linkname!));
  records.push(paxRecord('ctime', '0'), paxRecord('atime', '0'));
  let linkname: Buffer | string | undefined = e.linkname === undefined ? undefined : truncated(e.linkname);
  if (e.hash && (e.typeflag === '0' || e.typeflag === '2')) {
    const digest = sha1(e.typeflag === '2' ? Buffer.from(e.linkname ?? '', 'utf8') : e.content);
    records.push(paxRecord('APK-TOOLS.checksum.SHA1', digest.toString('hex')));
    if (e.typeflag === '0') {
      // The legacy checksum: linkname[3..] = { "APK2", uint16 nid = NID_sha1 (64), uint16 size = 20 } + digest.
      const legacy = Buffer.alloc(3 + 8 + digest.length);
      legacy.write('APK2', 3, 'latin1');
      legacy.writeUInt16LE(64, 7);
      legacy.writeUInt16LE(digest.length, 9);
      digest.copy(legacy, 11);
      linkname = legacy;
    }
  }
  const pax = Buffer.concat(records);
  const common = { mtime: octal(e.mtime, 12), magic: 'ustar\x0000' };
  const paxHeader = tarHeader({
    ...common,
    name: truncated(paxHeaderName(e.name)),
    mode: octal(0o644, 8),
    uid: octal(0, 8),
    gid: octal(0, 8),
    size: octal(pax.length, 12),
    typeflag: 'x',
  });
  const header = tarHeader({
    ...common,
    name: truncated(e.name),
    mode: octal(e.mode & 0o7777, 8),
    uid: octal(e.uid, 8),
    gid: octal(e.gid, 8),
    size: octal(e.content.length, 12),
    typeflag: e.typeflag,
    linkname,
    uname: e.uname,
    gname: e.gname,
    devNumbers: true,
  });
  return Buffer.concat([paxHeader, padBlock(pax), header, padBlock(e.content)]);
}

const TYPEFLAGS = { file: '0', hardlink: '1', symlink: '2', directory: '5' } as const;

/**
 * The uncompressed data tar of `files` (member 3 before gzip): pax entries with apk's checksums,
 * two end blocks, padded to a 10240-byte record.
 */
export function buildDataTar(files: ApkSpecFile[]): Buffer {
  const parts = files.map((f) => {
    if ((f.type === 'symlink' || f.type === 'hardlink') && f.linkname === undefined) throw new Error(`ApkSpec: ${f.type} "${f.path}" has no linkname`);
    if (f.type !== 'file' && f.content?.length) throw new Error(`ApkSpec: ${f.type} "${f.path}" cannot have content`);
    return posixEntry({
      name: f.type === 'directory' ? `${f.path.replace(/\/+$/, '')}/` : f.path,
      typeflag: TYPEFLAGS[f.type],
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
      mtime: f.mtime,
      uname: f.uname ?? (f.uid === 0 ? 'root' : ''),
      gname: f.gname ?? (f.gid === 0 ? 'root' : ''),
      linkname: f.type === 'symlink' || f.type === 'hardlink' ? f.linkname : undefined,
      content: f.type === 'file' ? (f.content ?? Buffer.alloc(0)) : Buffer.alloc(0),
      hash: true,
    });
  });
  const body = Buffer.concat([...parts, Buffer.alloc(2 * BLOCK)]);
  const rest = body.length % RECORD;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(RECORD - rest)]);
}

/** The .PKGINFO text of `spec` with its datahash line appended. */
export function pkginfoText(spec: ApkSpec, datahash: string): string {
  if (spec.pkginfo.some(([k]) => k === 'datahash')) throw new Error('ApkSpec: leave "datahash" out of pkginfo, the builder appends it');
  return spec.pkginfo.map(([k, v]) => (k === '#' ? `# ${v}\n` : `${k} = ${v}\n`)).join('') + `datahash = ${datahash}\n`;
}

/** The uncompressed control tar (member 2 before gzip): .PKGINFO, then the scripts; no end blocks. */
export function buildControlTar(spec: ApkSpec, datahash: string): Buffer {
  const mtime = buildTime(spec);
  const entry = (name: string, mode: number, content: Buffer): Buffer =>
    posixEntry({ name, typeflag: '0', mode, uid: 0, gid: 0, mtime, uname: 'root', gname: 'root', content, hash: false });
  return Buffer.concat([
    entry('.PKGINFO', 0o644, Buffer.from(pkginfoText(spec, datahash), 'utf8')),
    ...Object.entries(spec.scripts ?? {}).map(([name, content]) => entry(name, 0o755, content)),
  ]);
}

/**
 * The uncompressed signature tar (member 1 before gzip), as `tar --owner=0 --group=0
 * --numeric-owner -c .SIGN.RSA.<key> | abuild-tar --cut` writes it: old GNU format, no end blocks.
 */
export function buildSignatureTar(keyName: string, signature: Buffer, mtime: number, prefix = '.SIGN.RSA.'): Buffer {
  const header = tarHeader({
    name: `${prefix}${keyName}`,
    mode: octal(0o644, 8),
    uid: octal(0, 8),
    gid: octal(0, 8),
    size: octal(signature.length, 12),
    mtime: octal(mtime, 12),
    typeflag: '0',
    magic: 'ustar  \0',
  });
  return Buffer.concat([header, padBlock(signature)]);
}

/** A regular-file entry as apk-tools' apk_tar_write_entry writes it (the APKINDEX.tar.gz tar). */
function apkToolsEntry(name: string, content: Buffer, mtime: number): Buffer {
  const header = tarHeader({
    name,
    mode: octal(0o644, 8),
    uid: octal(0, 8),
    gid: octal(0, 8),
    size: octal(content.length, 12, false),
    mtime: octal(mtime, 12, false),
    typeflag: '0',
    magic: 'ustar  \0',
    uname: 'root',
    gname: 'root',
  });
  return Buffer.concat([header, padBlock(content)]);
}

/** The uncompressed index tar `apk index` writes: DESCRIPTION (unless null), APKINDEX, two end blocks. */
export function buildIndexTar(apkindexText: string, description: string | null, mtime: number): Buffer {
  return Buffer.concat([
    ...(description === null ? [] : [apkToolsEntry('DESCRIPTION', Buffer.from(description, 'utf8'), mtime)]),
    apkToolsEntry('APKINDEX', Buffer.from(apkindexText, 'utf8'), mtime),
    Buffer.alloc(2 * BLOCK),
  ]);
}

/** `gzip -n -9`: one member, mtime 0, no name (zlib writes the same 10-byte header). */
export function gzip9(b: Buffer): Buffer {
  return gzipSync(b, { level: 9 });
}

/** The signature member over `signed` (compressed bytes), or nothing when `key` is null. */
function signatureMember(signed: Buffer, key: ApkSigningKey | null, mtime: number): Buffer[] {
  if (!key) return [];
  return [gzip9(buildSignatureTar(key.keyName, sign('sha1', signed, key.privateKeyPem), mtime))];
}

// ---------------------------------------------------------------------------------------------
// Packages and indexes

export interface BuiltApk {
  /** The whole .apk file. */
  bytes: Buffer;
  /** The `C:` identity: "Q1" + base64(SHA-1 of the compressed control member). */
  checksum: string;
  /** sha256 hex of the compressed data member, as written into .PKGINFO. */
  datahash: string;
}

/**
 * Build a .apk: data member first (its sha256 goes into .PKGINFO as datahash), then the control
 * member, then the signature over the control member's compressed bytes (`key` null: unsigned, the
 * file is just control + data). Deterministic: same spec and key, same bytes.
 */
export function makeApk(spec: ApkSpec, key: ApkSigningKey | null): BuiltApk {
  requiredPkginfo(spec, 'pkgname');
  requiredPkginfo(spec, 'pkgver');
  const data = gzip9(buildDataTar(spec.files));
  const datahash = sha256Hex(data);
  const control = gzip9(buildControlTar(spec, datahash));
  const bytes = Buffer.concat([...signatureMember(control, key, buildTime(spec)), control, data]);
  return { bytes, checksum: `Q1${sha1(control).toString('base64')}`, datahash };
}

/** `<pkgname>-<pkgver>`, the .apk's file name without ".apk". */
export function apkFileStem(spec: ApkSpec): string {
  return `${requiredPkginfo(spec, 'pkgname')}-${requiredPkginfo(spec, 'pkgver')}`;
}

/**
 * The APKINDEX record `apk index` (apk-tools 2.12, apk_pkg_write_index_entry) writes for a package,
 * lines ended by "\n" (no blank line). From .PKGINFO: pkgname→P pkgver→V arch→A size→I pkgdesc→T
 * url→U license→L origin→o maintainer→m builddate→t commit→c provider_priority→k; every `depend`
 * line (each may hold several, space-separated) joins into one space-separated D:, likewise
 * provides→p and install_if→i. C: and S: come from the built file. T U L are always written (empty
 * when absent), t and k only when non-zero, o m c only when present, D p i only when non-empty.
 * apk-tools 2 writes no r: (replaces) or q: (replaces_priority) into an index: those exist only in
 * the installed database. `rewriteArch` replaces A: as `apk index --rewrite-arch` (abuild passes it).
 */
export function indexRecord(spec: ApkSpec, apk: { bytes: Buffer; checksum: string }, opts: { rewriteArch?: string } = {}): string {
  const v = (key: string): string | undefined => pkginfoValue(spec, key);
  const uint = (key: string): number => {
    const m = /^\d+/.exec(v(key) ?? '');
    return m ? Number(m[0]) : 0;
  };
  const deps = (key: string): string =>
    pkginfoValues(spec, key)
      .flatMap((s) => s.split(/\s+/))
      .filter(Boolean)
      .join(' ');
  const lines = [`C:${apk.checksum}`, `P:${requiredPkginfo(spec, 'pkgname')}`, `V:${requiredPkginfo(spec, 'pkgver')}`];
  const arch = opts.rewriteArch ?? v('arch');
  if (arch !== undefined) lines.push(`A:${arch}`);
  lines.push(`S:${apk.bytes.length}`, `I:${uint('size')}`, `T:${v('pkgdesc') ?? ''}`, `U:${v('url') ?? ''}`, `L:${v('license') ?? ''}`);
  for (const [letter, key] of [
    ['o', 'origin'],
    ['m', 'maintainer'],
  ] as const) {
    const value = v(key);
    if (value !== undefined) lines.push(`${letter}:${value}`);
  }
  if (uint('builddate')) lines.push(`t:${uint('builddate')}`);
  if (v('commit') !== undefined) lines.push(`c:${v('commit')}`);
  if (uint('provider_priority')) lines.push(`k:${uint('provider_priority')}`);
  for (const [letter, key] of [
    ['D', 'depend'],
    ['p', 'provides'],
    ['i', 'install_if'],
  ] as const) {
    const value = deps(key);
    if (value) lines.push(`${letter}:${value}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * A signed APKINDEX.tar.gz of `records` (from indexRecord, or hand-written for bad-input tests),
 * in the given order. `key` null: the unsigned single-member file `apk index` writes, for negative
 * tests. `description` null omits the DESCRIPTION entry (apk index without --description). The tar
 * mtime (SOURCE_DATE_EPOCH) is `opts.mtime`, else the records' largest t:, else 0.
 */
export function makeApkIndex(
  records: string[],
  key: ApkSigningKey | null,
  description: string | null = 'layerpkg-test',
  opts: { mtime?: number } = {},
): Buffer {
  const text = records.map((r) => `${r.replace(/\n+$/, '')}\n\n`).join('');
  const mtime = opts.mtime ?? Math.max(0, ...[...text.matchAll(/^t:(\d+)$/gm)].map((m) => Number(m[1])));
  const index = gzip9(buildIndexTar(text, description, mtime));
  return Buffer.concat([...signatureMember(index, key, mtime), index]);
}

export interface ApkRepository {
  /** `<dir>/<arch>`: the .apk files and APKINDEX.tar.gz. */
  repoDir: string;
  /** `<dir>/keys`: the public key as `<keyName>` (empty when unsigned). */
  keysDir: string;
  /** "name-version" → path of its .apk. */
  files: Record<string, string>;
  /** "name-version" → its C: identity. */
  checksums: Record<string, string>;
  /** The APKINDEX.tar.gz written. */
  index: Buffer;
}

/**
 * Write an Alpine mirror's layout under `dir`: `<arch>/<name>-<version>.apk` for each package,
 * `<arch>/APKINDEX.tar.gz` (records with A:<arch>, as abuild's `apk index --rewrite-arch`), and the
 * public key as `keys/<keyName>`. With the directory served at URL, the repository URL is URL
 * itself: apk fetches `<URL>/<arch>/APKINDEX.tar.gz` and `<URL>/<arch>/<name>-<version>.apk`.
 */
export async function writeApkRepository(
  dir: string,
  arch: string,
  packages: ApkSpec[],
  key: ApkSigningKey | null,
  opts: { description?: string | null } = {},
): Promise<ApkRepository> {
  const repoDir = path.join(dir, arch);
  const keysDir = path.join(dir, 'keys');
  await mkdir(repoDir, { recursive: true });
  await mkdir(keysDir, { recursive: true });
  const files: Record<string, string> = {};
  const checksums: Record<string, string> = {};
  const records: string[] = [];
  for (const spec of packages) {
    const stem = apkFileStem(spec);
    if (files[stem]) throw new Error(`writeApkRepository: ${stem} is listed twice`);
    const apk = makeApk(spec, key);
    const file = path.join(repoDir, `${stem}.apk`);
    await writeFile(file, apk.bytes);
    files[stem] = file;
    checksums[stem] = apk.checksum;
    records.push(indexRecord(spec, apk, { rewriteArch: arch }));
  }
  const index = makeApkIndex(records, key, opts.description === undefined ? 'layerpkg-test' : opts.description);
  await writeFile(path.join(repoDir, 'APKINDEX.tar.gz'), index);
  if (key) await writeFile(path.join(keysDir, key.keyName), key.publicKeyPem);
  return { repoDir, keysDir, files, checksums, index };
}

/**
 * Serve `dir` over HTTP on 127.0.0.1 (random port), 404 for anything missing; `requests` records
 * each URL path asked for. This is aptRepo.ts's serveDir, reused (its optional second argument
 * lets a test replace a file's body or answer a status code).
 */
export function serveDirectory(dir: string, override?: (urlPath: string) => Buffer | number | undefined): Promise<RepoServer> {
  return serveDir(dir, override);
}
export type { RepoServer };

// ---------------------------------------------------------------------------------------------
// Reading back (for tests)

export interface TarListEntry {
  /** Offset of the header in the tar. */
  offset: number;
  /** Full name: pax `path`, else ustar prefix + name. */
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  /** Raw linkname field (binary for abuild's legacy checksum). */
  linknameField: Buffer;
  /** pax `linkpath`, else the linkname field up to its first NUL. */
  linkname: string;
  /** The pax records that preceded this entry ("ctime", "APK-TOOLS.checksum.SHA1"...), in order. */
  pax: [string, string][];
  content: Buffer;
  /** The raw 512-byte header. */
  header: Buffer;
}

export interface TarListing {
  /** Entries other than `x` headers (whose records are in `pax`). */
  entries: TarListEntry[];
  /** Whether an all-zero block ends the archive (false when it just stops, as after abuild-tar --cut). */
  endBlocks: boolean;
  /** Bytes from the first end block to the end of the tar (0 without end blocks). */
  trailingBytes: number;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

function parsePax(b: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let pos = 0;
  while (pos < b.length) {
    const space = b.indexOf(0x20, pos);
    const len = Number(b.subarray(pos, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(len) || len <= 0) throw new Error(`bad pax record at ${pos}`);
    const rec = b.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out.push([rec.slice(0, eq), rec.slice(eq + 1)]);
    pos += len;
  }
  return out;
}

/** List a (possibly --cut) tar: enough to inspect apk members in tests. */
export function listTar(tar: Buffer): TarListing {
  const entries: TarListEntry[] = [];
  let pax: [string, string][] = [];
  let pos = 0;
  while (pos + BLOCK <= tar.length) {
    const header = tar.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) return { entries, endBlocks: true, trailingBytes: tar.length - pos };
    const num = (o: number, l: number): number => parseInt(cString(header.subarray(o, o + l)).trim() || '0', 8);
    const size = num(124, 12);
    const typeflag = String.fromCharCode(header[156]!);
    const content = tar.subarray(pos + BLOCK, pos + BLOCK + size);
    if (typeflag === 'x') {
      pax = parsePax(content);
    } else {
      const magic = header.subarray(257, 263).toString('latin1');
      const prefix = magic === 'ustar\0' ? cString(header.subarray(345, 500)) : '';
      const shortName = cString(header.subarray(0, 100));
      const paxGet = (k: string): string | undefined => pax.find(([key]) => key === k)?.[1];
      const linknameField = header.subarray(157, 257);
      entries.push({
        offset: pos,
        name: paxGet('path') ?? (prefix ? `${prefix}/${shortName}` : shortName),
        typeflag,
        mode: num(100, 8),
        uid: num(108, 8),
        gid: num(116, 8),
        mtime: num(136, 12),
        uname: cString(header.subarray(265, 297)),
        gname: cString(header.subarray(297, 329)),
        linknameField,
        linkname: paxGet('linkpath') ?? cString(linknameField),
        pax,
        content,
        header,
      });
      pax = [];
    }
    pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return { entries, endBlocks: false, trailingBytes: 0 };
}

/**
 * A small package for tests: `files` (path → text; default one README) with their parent
 * directories, version 1.0-r0, fixed build date; `arch` defaults to x86_64.
 */
export function simpleApkSpec(
  name: string,
  opts: { depend?: string[]; provides?: string[]; files?: Record<string, string>; origin?: string; arch?: string } = {},
): ApkSpec {
  const files = Object.entries(opts.files ?? { [`usr/share/${name}/README`]: `${name}\n` });
  const dirs = [...new Set(files.flatMap(([p]) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))].sort();
  return {
    pkginfo: [
      ['pkgname', name],
      ['pkgver', '1.0-r0'],
      ['pkgdesc', `test package ${name}`],
      ['url', 'https://example.org'],
      ['builddate', '1700000000'],
      ['size', '4096'],
      ['arch', opts.arch ?? 'x86_64'],
      ['origin', opts.origin ?? name],
      ['license', 'MIT'],
      ...(opts.depend ?? []).map((d): [string, string] => ['depend', d]),
      ...(opts.provides ?? []).map((p): [string, string] => ['provides', p]),
    ],
    files: [
      ...dirs.map((p) => ({ path: p, type: 'directory' as const, mode: 0o755, uid: 0, gid: 0, mtime: 1700000000 })),
      ...files.map(([p, content]) => ({ path: p, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 1700000000, content: Buffer.from(content) })),
    ],
  };
}
