import { UserError } from '../../src/errors.js';
import { lazyUnpack } from '../lazyUnpack.js';
import type { Adapter, PackageMetadata } from '../types.js';
import { apkDatabase } from './apkDatabase.js';
import { asApk, pkginfoValues } from './apkMetadata.js';
import { compareApkVersions } from './version.js';
import { formatApkDependency, parseApkDependencies, type ApkDependency } from './dependency.js';
import { orderApkProviders } from './orderProviders.js';
import { apkPlatform } from './platform.js';
import { apkRepositoryOptions, trustedKeys } from './repositoryOptions.js';
import { apkSatisfies } from './satisfies.js';
import { apkScriptEffects } from './scriptEffects.js';

/** Alpine .apk (v2) packages from an apk repository (`<url>/<arch>/APKINDEX.tar.gz`). */
export const apkAdapter: Adapter = {
  type: 'apk',
  repositoryOptions: apkRepositoryOptions,
  readIndex: async (repo, ctx) => (await import('./readIndex.js')).readApkIndex(repo, ctx),
  verifyDownload: async (file, pkg, repo) => {
    const { verifyApkFile } = await import('./verifyApk.js');
    if (pkg.checksum === undefined) throw new UserError(`package ${pkg.name} ${pkg.version}: the lock has no apk checksum for it; run \`layerpkg lock\``);
    // The fetcher names the package; the URL says which file failed.
    await verifyApkFile(file, { checksum: pkg.checksum, size: pkg.size }, trustedKeys(repo.options), pkg.url);
  },
  seed: (seedName) => {
    throw new UserError(`packages.seed "${seedName}": apk repositories have no seeds; list the packages (e.g. alpine-base) in packages.include`);
  },
  implicitPackages: () => [],
  compareVersions: compareApkVersions,
  satisfies: apkSatisfies,
  orderProviders: orderApkProviders,
  formatDependency: (group) => group.map((d) => formatApkDependency(d as ApkDependency)).join(' | '),
  unpack: lazyUnpack(async () => (await import('./unpackApk.js')).unpackApk),
  mayOverwrite: (later: PackageMetadata, earlier: PackageMetadata) => {
    // As apk-tools: allowed when the new package replaces the owner, or both come from one origin.
    const replaces = pkginfoValues(asApk(later), 'replaces').flatMap((v) => parseApkDependencies(v, `${later.name} .PKGINFO replaces`, { lenient: true }));
    if (replaces.some((d) => d.name === earlier.name)) return true;
    const origin = (m: PackageMetadata) => pkginfoValues(asApk(m), 'origin')[0];
    return origin(later) !== undefined && origin(later) === origin(earlier);
  },
  scriptEffects: apkScriptEffects,
  database: apkDatabase,
  installedPaths: (pkg) => asApk(pkg).files.filter((f) => f.type !== 'directory').map((f) => f.path),
  installedDirectories: (pkg) => asApk(pkg).files.filter((f) => f.type === 'directory').map(({ path, mode, uid, gid }) => ({ path, mode, uid, gid })),
  installedSymlinks: (pkg) => asApk(pkg).files.filter((f) => f.type === 'symlink').map((f) => ({ path: f.path, target: f.linkname ?? '' })),
  platform: apkPlatform,
  // Alpine is not merged-/usr: a path lands where it is named.
  canonicalPath: (absPath) => absPath.replace(/^\/+/, ''),
};
