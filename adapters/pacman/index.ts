import { lazyUnpack } from '../lazyUnpack.js';
import type { Adapter, DependencyGroup } from '../types.js';
import { pacmanLocalDb } from './localDb.js';
import { asPacman } from './pacmanMetadata.js';
import { pacmanPlatform } from './platform.js';
import { pacmanRepositoryOptions } from './repositoryOptions.js';
import { pacmanSatisfies } from './satisfies.js';
import { pacmanScriptEffects } from './scriptEffects.js';
import { pacmanSeed } from './seed.js';
import { comparePacmanVersions, formatPacmanDependency, type PacmanDependency } from './version.js';

/** Arch Linux packages (.pkg.tar.zst/xz/gz) from pacman repositories (`<url>/<db>.db`). */
export const pacmanAdapter: Adapter = {
  type: 'pacman',
  repositoryOptions: pacmanRepositoryOptions,
  readIndex: async (repo, ctx) => (await import('./readIndex.js')).readPacmanIndex(repo, ctx),
  verifyDownload: async (file, pkg, repo, ctx) => (await import('./verifyPackage.js')).verifyPacmanPackage(file, pkg, repo, ctx.fetchIfExists),
  seed: pacmanSeed,
  implicitPackages: () => [],
  compareVersions: comparePacmanVersions,
  // libalpm takes a name from the first repository (pacman.conf order) that has it.
  candidatePolicy: 'first-repository',
  satisfies: pacmanSatisfies,
  formatDependency: (group: DependencyGroup) => group.map((d) => formatPacmanDependency(d as PacmanDependency)).join(' | '),
  unpack: lazyUnpack(async () => (await import('./unpackPkg.js')).unpackPacman),
  // pacman lets no package overwrite another's file (only --overwrite, which a build never uses).
  mayOverwrite: () => false,
  scriptEffects: pacmanScriptEffects,
  database: (packages, ctx) => pacmanLocalDb(packages, ctx),
  installedPaths: (pkg) => asPacman(pkg).files.filter((f) => f.type !== 'directory').map((f) => f.path),
  installedDirectories: (pkg) => asPacman(pkg).files.filter((f) => f.type === 'directory').map(({ path, mode, uid, gid }) => ({ path, mode, uid, gid })),
  installedSymlinks: (pkg) => {
    // A symlink with the package's own entries beneath it was replaced by a directory, as libalpm does.
    const files = asPacman(pkg).files;
    const parents = new Set(files.flatMap((f) => f.path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    return files.filter((f) => f.type === 'symlink' && !parents.has(f.path)).map((f) => ({ path: f.path, target: f.linkname ?? '' }));
  },
  platform: pacmanPlatform,
  // Arch is merged-/usr through the filesystem package's own links; paths land where named.
  canonicalPath: (absPath) => absPath.replace(/^\/+/, ''),
};
