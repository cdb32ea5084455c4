/**
 * The apk database as apk-tools 2.12 leaves it after `apk add` of every package in order:
 * lib/apk/db/{installed,scripts.tar,triggers,lock} and etc/apk/{world,repositories,arch}.
 */
import type { FinalContext, FinalEntry, PackageMetadata, RepositoryConfig } from '../types.js';
import { UserError } from '../../src/errors.js';
import { asApk, pkginfoValues, type ApkMetadata } from './apkMetadata.js';
import { formatApkDependency, parseApkDependencies, type ApkDependency } from './dependency.js';
import { apkUnpacks, installedRecord, recordedPaths } from './installedRecord.js';
import { installOrder } from './installOrder.js';
import type { ApkRepositoryOptions } from './repositoryOptions.js';
import { apkScriptsTar } from './scriptsTar.js';
import { compareUtf8 } from '../../src/compareUtf8.js';

const DB = 'lib/apk/db';

/**
 * Directories apk creates for its own use (apk_db_create), as the minirootfs has them, root:root
 * 0755. Their parents (etc, lib, var/cache) belong to packages and are left to them: a directory
 * entry here would hide whatever a package made of that path (a /lib symlink, another mode).
 */
const APK_DIRECTORIES = ['etc/apk', 'etc/apk/keys', 'lib/apk', DB, 'var/cache/apk'];

/**
 * Packages are put in apk's installation order, the order of everything it records. The repositories'
 * trusted keys go to etc/apk/keys, so apk inside the image trusts what the image was built from.
 */
export function apkDatabase(packages: PackageMetadata[], ctx: FinalContext): FinalEntry[] {
  const inLayerOrder = packages.map(asApk);
  const apks = installOrder(inLayerOrder, ctx.requested);
  const out: FinalEntry[] = APK_DIRECTORIES.map((path) => ({ path, type: 'directory', mode: 0o755 }));
  const file = (path: string, content: string | Buffer, mode = 0o644) =>
    out.push({ path, type: 'file', mode, content: typeof content === 'string' ? Buffer.from(content) : content });

  file(`${DB}/installed`, apkInstalledDb(apks, inLayerOrder));
  file(`${DB}/scripts.tar`, apkScriptsTar(apks.filter(apkUnpacks), ctx.sourceDateEpoch));
  file(`${DB}/triggers`, apkTriggers(apks));
  file(`${DB}/lock`, '', 0o600); // apk opens it O_CREAT with 0600 and leaves it empty
  file('etc/apk/world', apkWorld(ctx.requested));
  file('etc/apk/repositories', apkRepositories(ctx.repositories));
  file('etc/apk/arch', `${ctx.arch}\n`);
  // A key a package ships (alpine-keys) stays that package's file.
  const shipped = new Set(apks.flatMap((m) => m.files.map((f) => f.path)));
  out.push(...apkKeyEntries(repositoryKeys(ctx.repositories)).filter((e) => !shipped.has(e.path)));
  return out;
}

/**
 * Every record followed by a blank line, in `packages`' (installation) order. A file two packages
 * ship belongs to the one whose copy is on disk: the later in `onDiskOrder` (layer order, where
 * the upper layer wins), so that apk's audit finds the bytes its database names. apk itself
 * gives it to the one installed later (apk_db_migrate_files); where the orders differ, so do we.
 */
export function apkInstalledDb(packages: ApkMetadata[], onDiskOrder: ApkMetadata[] = packages): string {
  const lastOwner = new Map<string, ApkMetadata>();
  for (const meta of onDiskOrder) for (const path of recordedPaths(meta)) lastOwner.set(path, meta);
  return packages
    .map((meta) => {
      const overwrittenLater = new Set(recordedPaths(meta).filter((p) => lastOwner.get(p) !== meta));
      return `${installedRecord(meta, { overwrittenLater })}\n`;
    })
    .join('');
}

/**
 * One line per package with `triggers` in .PKGINFO, in installation order: its C: checksum, then
 * each trigger path preceded by a space. As apk reads .PKGINFO, the last `triggers` line gives
 * the paths (split on spaces, empty pieces dropped) and a package is listed once any line had one.
 */
export function apkTriggers(packages: ApkMetadata[]): string {
  return packages
    .filter(apkUnpacks)
    .flatMap((meta) => {
      const lines = pkginfoValues(meta, 'triggers').map((v) => v.split(' ').filter((t) => t !== ''));
      if (!lines.some((paths) => paths.length > 0)) return [];
      return [`${meta.checksum}${lines.at(-1)!.map((t) => ` ${t}`).join('')}\n`];
    })
    .join('');
}

/**
 * /etc/apk/world: one atom per line, sorted by name (apk's solver sorts it, strcmp order), one
 * per name (apk_deps_add replaces an earlier atom of the same name), ending in a newline.
 */
export function apkWorld(names: string[]): string {
  const byName = new Map<string, ApkDependency>();
  for (const dep of names.flatMap((n) => parseApkDependencies(n, 'the requested packages'))) byName.set(dep.name, dep);
  const sorted = [...byName.values()].sort((a, b) => compareUtf8(a.name, b.name));
  return `${sorted.map(formatApkDependency).join('\n')}\n`;
}

const REMOTE_URL = /^(https?|ftp):\/\//i;

/**
 * One repository URL per line, as apk reads them (it appends /<arch>/APKINDEX.tar.gz itself). A
 * repository on the build host's disk does not exist inside the image, where `apk update` would
 * fail on it; it is kept as a comment so the image still says what it was built from.
 */
export function apkRepositories(repositories: RepositoryConfig[]): string {
  return repositories
    .map((r) => (REMOTE_URL.test(r.url) ? `${r.url}\n` : `# ${r.name}: ${r.url} (a local repository of the build host, not in the image)\n`))
    .join('');
}

/**
 * Every repository's trusted keys (`options.trusted`, see repositoryOptions.ts). apk knows a key
 * by its file name only, so one name with two different keys is refused.
 */
export function repositoryKeys(repositories: RepositoryConfig[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const r of repositories) {
    const trusted = (r.options as Partial<ApkRepositoryOptions>).trusted ?? {};
    for (const [name, pem] of Object.entries(trusted)) {
      if (keys.has(name) && keys.get(name) !== pem) {
        throw new UserError(`apk key "${name}" of repository "${r.name}" differs from another repository's key of that name: /etc/apk/keys can hold only one; rename one key file`);
      }
      keys.set(name, pem);
    }
  }
  return keys;
}

/** The trusted public keys as /etc/apk/keys files, named as signatures name them. */
export function apkKeyEntries(keys: Map<string, string>): FinalEntry[] {
  return [...keys].map(([name, pem]) => {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new UserError(`apk key file name ${JSON.stringify(name)} is not a plain file name: rename the key file`);
    }
    return { path: `etc/apk/keys/${name}`, type: 'file', mode: 0o644, content: Buffer.from(pem) };
  });
}
