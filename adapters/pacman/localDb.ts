/**
 * pacman's local database as libalpm leaves it after installing every package: the directory
 * var/lib/pacman/local with ALPM_DB_VERSION and one <name>-<version>/ per package holding desc,
 * files, mtree and install, byte for byte as pacman 7 writes them (be_local.c
 * _alpm_local_db_write, add.c commit_single_pkg, be_package.c parse_descfile and its file list).
 */
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../src/errors.js';
import type { FinalContext, FinalEntry, PackageMetadata, RepositoryConfig } from '../types.js';
import { asPacman, pkginfoValues, type PacmanMetadata } from './pacmanMetadata.js';
import { compareUtf8 } from '../../src/compareUtf8.js';

export const PACMAN_DB = 'var/lib/pacman';
export const LOCAL_DB = `${PACMAN_DB}/local`;

/** be_local.c ALPM_LOCAL_DB_VERSION, unchanged since pacman 4.2. */
export const ALPM_LOCAL_DB_VERSION = 9;

/** What %VALIDATION% can list, in the order pacman writes them (alpm_pkgvalidation_t bits). */
export type PacmanValidation = 'none' | 'md5' | 'sha256' | 'pgp';
const VALIDATION_ORDER: readonly PacmanValidation[] = ['none', 'md5', 'sha256', 'pgp'];

/**
 * A final-layer entry that may carry its own mtime. FinalEntry has none yet (the final layer
 * stamps SOURCE_DATE_EPOCH on everything); `mtime` is set on local/<pkg>/install and changelog,
 * which pacman extracts with their archive time and `pacman -Qkk` checks against the .MTREE.
 */
export type PacmanDbEntry = FinalEntry & { mtime?: number };

export interface PacmanLocalDbOptions {
  /**
   * How each package was validated before install (%VALIDATION%). Without it every package
   * gets `validationFromRepositories(ctx.repositories)`: FinalContext does not say which
   * repository a package came from.
   */
  validationOf?: (pkg: PacmanMetadata) => readonly PacmanValidation[];
}

/**
 * Directories pacman's own package ships (root:root 0755 in its .MTREE). They are written only
 * when no package ships them, so that whatever a package made of the path stays.
 */
const PACKAGE_OWNED_DIRECTORIES = [PACMAN_DB, 'var/cache/pacman', 'var/cache/pacman/pkg'];

/**
 * Directories libalpm creates at run time: local/ (local_db_create, mkdir 0755) and sync/
 * (_alpm_makepath, 0755). sync/ is left empty, as Arch's own container images ship it: the image
 * holds no repository database, `pacman -Sy` fetches them.
 */
const RUNTIME_DIRECTORIES = [LOCAL_DB, `${PACMAN_DB}/sync`];

/**
 * The local database entries of the final layer. INSTALLDATE is ctx.sourceDateEpoch (current
 * libalpm's get_install_time also takes SOURCE_DATE_EPOCH when set; 6.0 did not); a package is
 * explicitly installed (no %REASON%) when ctx.requested names it, otherwise a dependency
 * (%REASON% 1). Package directories come in name order.
 */
export function pacmanLocalDb(packages: PackageMetadata[], ctx: FinalContext, options: PacmanLocalDbOptions = {}): PacmanDbEntry[] {
  const metas = packages.map(asPacman);
  const validationOf = options.validationOf ?? (() => validationFromRepositories(ctx.repositories));
  // What the user selected (include or a seed group's members), as `pacman -S` marks it.
  const explicit = explicitlyInstalled(metas, ctx.explicit);

  const shipped = new Set(metas.flatMap((m) => m.files.map((f) => f.path.replace(/\/+$/, ''))));
  const out: PacmanDbEntry[] = [];
  for (const path of PACKAGE_OWNED_DIRECTORIES) if (!shipped.has(path)) out.push({ path, type: 'directory', mode: 0o755 });
  for (const path of RUNTIME_DIRECTORIES) out.push({ path, type: 'directory', mode: 0o755 });
  // fopen("w") under libalpm's umask 022.
  const file = (path: string, content: string | Buffer, mtime?: number) =>
    out.push({
      path,
      type: 'file',
      mode: 0o644,
      content: typeof content === 'string' ? Buffer.from(content) : content,
      ...(mtime === undefined ? {} : { mtime }),
    });
  file(`${LOCAL_DB}/ALPM_DB_VERSION`, `${ALPM_LOCAL_DB_VERSION}\n`);

  const seen = new Map<string, PacmanMetadata>();
  const entries = metas.map((meta) => {
    const { name } = nameAndVersion(meta);
    const earlier = seen.get(name);
    if (earlier) {
      throw new UserError(`pacman's local database holds one package per name, but ${name} came twice (${earlier.version} and ${meta.version})`);
    }
    seen.set(name, meta);
    return { meta, dir: localDbEntryName(meta) };
  });
  entries.sort((a, b) => compareUtf8(a.dir, b.dir));

  for (const { meta, dir } of entries) {
    const base = `${LOCAL_DB}/${dir}`;
    // _alpm_local_db_prepare: mkdir 0755 under umask 0.
    out.push({ path: base, type: 'directory', mode: 0o755 });
    file(
      `${base}/desc`,
      localDbDesc(meta, { installDate: ctx.sourceDateEpoch, explicit: explicit.has(meta), validation: validationOf(meta) }),
    );
    file(`${base}/files`, localDbFiles(meta));
    // extract_db_file: .MTREE, .INSTALL and .CHANGELOG are copied as they are, mode 0644, with
    // their archive time (ARCHIVE_EXTRACT_TIME). PacmanMetadata has no .CHANGELOG yet: a
    // `changelog` (base64) is written when the metadata carries one.
    if (meta.mtree !== undefined) file(`${base}/mtree`, Buffer.from(meta.mtree, 'base64'));
    const changelog = meta.changelog;
    const times = meta.install !== undefined || typeof changelog === 'string' ? metadataFileTimes(meta) : new Map<string, number>();
    if (meta.install !== undefined) file(`${base}/install`, Buffer.from(meta.install, 'base64'), times.get('.INSTALL'));
    if (typeof changelog === 'string') file(`${base}/changelog`, Buffer.from(changelog, 'base64'), times.get('.CHANGELOG'));
  }
  return out;
}

/**
 * The mtime (whole seconds) the package's .MTREE gives its .INSTALL and .CHANGELOG: what pacman
 * -Qkk expects of local/<pkg>/install and changelog. makepkg's .MTREE is gzip-compressed, one
 * entry a line, `/set` defaults, keywords as key=value; only these two plain names are looked
 * up, so no path unescaping is needed.
 */
export function metadataFileTimes(meta: PacmanMetadata): Map<string, number> {
  const times = new Map<string, number>();
  if (meta.mtree === undefined) return times;
  const raw = Buffer.from(meta.mtree, 'base64');
  let text: string;
  try {
    text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('latin1');
  } catch {
    // libalpm too goes on without an unreadable .MTREE (it lists the archive instead).
    return times;
  }
  let defaults = new Map<string, string>();
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const [first, ...words] = line.trim().split(/[ \t]+/);
    if (first === undefined || first === '' || first.startsWith('#')) continue;
    const keywords = new Map(words.map((w) => [w.split('=', 1)[0]!, w.slice(w.indexOf('=') + 1)]));
    if (first === '/set') {
      defaults = new Map([...defaults, ...keywords]);
    } else if (first === '/unset') {
      for (const k of words) defaults.delete(k);
    } else {
      const name = first.replace(/^\.\//, '');
      const time = keywords.get('time') ?? defaults.get('time');
      if ((name === '.INSTALL' || name === '.CHANGELOG') && time !== undefined && /^\d+(\.\d*)?$/.test(time)) {
        times.set(name, Number(time.split('.')[0]));
      }
    }
  }
  return times;
}

/** The last value of a .PKGINFO key: libalpm keeps the last of a repeated scalar. */
function last(meta: PacmanMetadata, key: string): string | undefined {
  return pkginfoValues(meta, key).at(-1);
}

function nameAndVersion(meta: PacmanMetadata): { name: string; version: string } {
  return { name: last(meta, 'pkgname') ?? meta.name, version: last(meta, 'pkgver') ?? meta.version };
}

const NAME_MAX = 255;

/**
 * "<name>-<version>", the package's directory in local/, after the checks libalpm makes before
 * it installs a package (_alpm_pkg_load_internal, _alpm_pkg_check_meta). They also keep the name
 * a single path component.
 */
export function localDbEntryName(meta: PacmanMetadata): string {
  const { name, version } = nameAndVersion(meta);
  const label = `package ${JSON.stringify(name)} version ${JSON.stringify(version)}`;
  const refuse = (why: string): never => {
    throw new UserError(`${label}: ${why}; pacman refuses to install such a package`);
  };
  if (name === '' || version === '') refuse('the name or version is empty');
  if (name.startsWith('.') || name.startsWith('-')) refuse('the name starts with "." or "-"');
  if (!/^[A-Za-z0-9+_.@-]+$/.test(name)) refuse('the name has characters other than letters, digits and +_.@-');
  const dash = version.indexOf('-');
  if (dash < 0) refuse('the version has no "-pkgrel"');
  if (version.indexOf('-', dash + 1) >= 0 || version.includes('/')) refuse('the version holds a second "-" or a "/"');
  const dir = `${name}-${version}`;
  if (Buffer.byteLength(dir) > NAME_MAX) refuse(`"${dir}" is longer than ${NAME_MAX} bytes`);
  return dir;
}

export interface DescInputs {
  /** %INSTALLDATE%, seconds since the epoch; 0 leaves it out, as pacman does. */
  installDate: number;
  /** Installed explicitly (reason 0, not written) or as a dependency (%REASON% 1). */
  explicit: boolean;
  validation: readonly PacmanValidation[];
}

/**
 * local/<pkg>/desc: each section "%KEY%\n", its values one per line, then a blank line. Scalars
 * are written when .PKGINFO has the key, even with an empty value; BUILDDATE, INSTALLDATE and
 * SIZE only when non-zero, REASON only for a dependency, lists only when non-empty. Dependency
 * strings are written as given: alpm_dep_compute_string(alpm_dep_from_string(s)) is s. The
 * keys makedepend, checkdepend and backup of .PKGINFO are not part of desc.
 */
export function localDbDesc(meta: PacmanMetadata, inputs: DescInputs): string {
  const { name, version } = nameAndVersion(meta);
  let out = '';
  const section = (key: string, values: readonly string[]) => {
    out += `%${key}%\n${values.map((v) => `${v}\n`).join('')}\n`;
  };
  const scalar = (key: string, value: string | undefined) => {
    if (value !== undefined) section(key, [value]);
  };
  const number = (key: string, value: bigint | number) => {
    if (value !== 0n && value !== 0) section(key, [String(value)]);
  };
  const list = (key: string, pkginfoKey: string) => {
    const values = pkginfoValues(meta, pkginfoKey);
    if (values.length > 0) section(key, values);
  };

  section('NAME', [name]);
  section('VERSION', [version]);
  scalar('BASE', last(meta, 'pkgbase'));
  scalar('DESC', last(meta, 'pkgdesc'));
  scalar('URL', last(meta, 'url'));
  scalar('ARCH', last(meta, 'arch'));
  const builddate = last(meta, 'builddate');
  if (builddate !== undefined) number('BUILDDATE', parseDate(builddate));
  number('INSTALLDATE', Math.trunc(inputs.installDate));
  scalar('PACKAGER', last(meta, 'packager'));
  const size = last(meta, 'size');
  if (size !== undefined) number('SIZE', parseOffset(size));
  if (!inputs.explicit) section('REASON', ['1']);
  list('GROUPS', 'group');
  list('LICENSE', 'license');
  const validation = VALIDATION_ORDER.filter((v) => inputs.validation.includes(v));
  if (validation.length > 0) section('VALIDATION', validation);
  list('REPLACES', 'replaces');
  list('DEPENDS', 'depend');
  list('OPTDEPENDS', 'optdepend');
  list('CONFLICTS', 'conflict');
  list('PROVIDES', 'provides');
  const xdata = pkginfoValues(meta, 'xdata');
  const bad = xdata.find((x) => !x.includes('='));
  if (bad !== undefined) {
    throw new UserError(`${name}-${version}: its .PKGINFO has "xdata = ${bad}", which is not key=value; pacman refuses to install such a package`);
  }
  if (xdata.length > 0) section('XDATA', xdata);
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** _alpm_parsedate: strtoll of the whole value (leading space and sign allowed), 0 when it is not one number. */
function parseDate(value: string): bigint {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(value)) return 0n;
  const n = BigInt(value.trim());
  return n < INT64_MIN || n > INT64_MAX ? 0n : n;
}

/** _alpm_strtoofft: bare digits only, else -1; the unsigned result is kept as a signed off_t. */
function parseOffset(value: string): bigint {
  if (!/^\d+$/.test(value)) return -1n;
  const n = BigInt(value);
  return n > 2n ** 64n - 1n ? -1n : BigInt.asIntN(64, n);
}

/**
 * local/<pkg>/files: %FILES% lists every data entry of the package (any path starting with "."
 * is never installed) with directories ending in "/", sorted by strcmp (_alpm_filelist_sort);
 * %BACKUP% lists .PKGINFO's backup paths in order, each with a tab and the md5 of the file
 * pacman extracted. A path it did not extract keeps a NULL hash, which glibc prints "(null)"; so
 * does a repeated backup path (libalpm hashes only the first entry of a name). A package with
 * neither section gets an empty file.
 *
 * pacman builds the list from the package's .MTREE when it has one and from the archive
 * otherwise; makepkg writes both from the same files, and the list here comes from the archive.
 */
export function localDbFiles(meta: PacmanMetadata): string {
  const names = meta.files
    .filter((f) => f.path !== '' && !f.path.startsWith('.'))
    .map((f) => (f.type === 'directory' && !f.path.endsWith('/') ? `${f.path}/` : f.path))
    .map((p) => Buffer.from(p))
    .sort(Buffer.compare)
    .map((b) => b.toString());
  let out = '';
  if (names.length > 0) out += `%FILES%\n${names.map((n) => `${n}\n`).join('')}\n`;

  const md5s = new Map<string, string>();
  for (const b of meta.backup) if (b.md5 !== '' && !md5s.has(b.path)) md5s.set(b.path, b.md5);
  const hashed = new Set<string>();
  const backup = pkginfoValues(meta, 'backup').map((path) => {
    const md5 = hashed.has(path) ? undefined : md5s.get(path);
    hashed.add(path);
    return `${path}\t${md5 ?? '(null)'}\n`;
  });
  if (backup.length > 0) out += `%BACKUP%\n${backup.join('')}\n`;
  return out;
}

/** The name a dependency string is about: up to its first comparison operator (alpm_dep_from_string). */
function dependencyName(dep: string): string {
  const desc = dep.indexOf(': ');
  const head = desc < 0 ? dep : dep.slice(0, desc);
  return head.split(/[<>=]/, 1)[0]!;
}

/**
 * Which packages pacman would record as explicitly installed: those ctx.requested names
 * (version constraints ignored), and for a requested name no package has, its providers in the
 * set (`pacman -S` installs the provider it picks as the target itself).
 */
export function explicitlyInstalled(packages: PacmanMetadata[], requested: readonly string[]): Set<PacmanMetadata> {
  const wanted = new Set(requested.map(dependencyName));
  const byName = new Set(packages.map((m) => nameAndVersion(m).name));
  const out = new Set<PacmanMetadata>();
  for (const meta of packages) {
    const provided = pkginfoValues(meta, 'provides').map(dependencyName);
    if (wanted.has(nameAndVersion(meta).name) || provided.some((p) => wanted.has(p) && !byName.has(p))) out.add(meta);
  }
  return out;
}

/**
 * Whether a repository's siglevel (repositoryOptions.ts) requires package signatures: "required"
 * (the default) and "packages" do.
 */
export function packageSignaturesRequired(siglevel: unknown): boolean {
  return siglevel === undefined || siglevel === 'required' || siglevel === 'packages';
}

/**
 * The %VALIDATION% for packages of these repositories when nothing better is known: "pgp" when
 * every repository requires package signatures, else "sha256" (the lock pins every package by
 * its sha256). A package from a database without %PGPSIG% whose detached .sig pacman checked is
 * recorded "sha256" and "pgp" by pacman: see `pacmanValidation` for the exact rule.
 */
export function validationFromRepositories(repositories: readonly RepositoryConfig[]): PacmanValidation[] {
  return repositories.every((r) => packageSignaturesRequired(r.options.siglevel)) ? ['pgp'] : ['sha256'];
}

export interface ValidationFacts {
  /** The repository's SigLevel checks package signatures (Required or Optional). */
  checksSignatures: boolean;
  /** A signature was there: %PGPSIG% in the sync database, or a detached .sig beside the package. */
  hasSignature: boolean;
  /** The signature came from the database's %PGPSIG%. */
  signatureInDatabase: boolean;
  /** The sync database gave the package's %SHA256SUM%. */
  databaseHasSha256: boolean;
}

/**
 * What pacman -S records for a package (_alpm_pkg_validate_internal): the sha256 is checked
 * unless a %PGPSIG% signature is checked instead, the signature when the SigLevel asks and one is
 * there, "none" when neither happened.
 */
export function pacmanValidation(facts: ValidationFacts): PacmanValidation[] {
  const hasSig = facts.checksSignatures && facts.hasSignature;
  const out: PacmanValidation[] = [];
  if ((!hasSig || !facts.signatureInDatabase) && facts.databaseHasSha256) out.push('sha256');
  if (hasSig) out.push('pgp');
  return out.length > 0 ? out : ['none'];
}
