import { lazyUnpack } from '../lazyUnpack.js';
import type { Adapter, PackageMetadata } from '../types.js';
import { debConfigureOrder } from './configureOrder.js';
import { debDatabase } from './database.js';
import { debLdconfigInputs } from './ldconfigCommand.js';
import { canonicalPath } from './mergedUsr.js';
import { debPlatform } from './platform.js';
import { asDeb, controlField } from './debMetadata.js';
import { parseRelationField, formatDependencyGroup } from './relations.js';
import { debRepositoryOptions } from './repositoryOptions.js';
import { debSatisfies } from './satisfies.js';
import { debScriptEffects } from './scriptEffects.js';
import { debSeed } from './seed.js';
import { compareDebianVersions } from './version.js';

/** Debian .deb packages from an apt repository (InRelease + Packages). */
export const debAdapter: Adapter = {
  type: 'deb',
  repositoryOptions: debRepositoryOptions,
  // Index reading (xz, OpenPGP) is `lock`'s work; `build` never loads it.
  readIndex: async (repo, ctx) => (await import('./readIndex.js')).readDebIndex(repo, ctx),
  seed: debSeed,
  // layerpkg always writes a merged-/usr tree, so the "usrmerge | usr-is-merged" choice is made:
  // usrmerge would convert a system that needs no conversion (and pull in perl to do it).
  implicitPackages: (candidates) => (candidates.some((c) => c.name === 'usr-is-merged') ? ['usr-is-merged'] : []),
  compareVersions: compareDebianVersions,
  satisfies: debSatisfies,
  formatDependency: formatDependencyGroup,
  unpack: lazyUnpack(async () => (await import('./unpack.js')).unpackDeb),
  mayOverwrite: (later: PackageMetadata, earlier: PackageMetadata) => {
    const replaces = controlField(asDeb(later), 'Replaces');
    if (!replaces) return false;
    return parseRelationField(replaces).some((group) =>
      group.some((dep) => dep.name === earlier.name && (!dep.op || debSatisfies(dep, { ...earlier, isProvide: false }, earlier.arch))),
    );
  },
  scriptEffects: debScriptEffects,
  configureOrder: debConfigureOrder,
  database: debDatabase,
  installedPaths: (pkg) => asDeb(pkg).paths,
  installedDirectories: (pkg) => asDeb(pkg).directories,
  installedSymlinks: (pkg) => Object.entries(asDeb(pkg).symlinks ?? {}).map(([path, target]) => ({ path, target })),
  ldconfigInputs: debLdconfigInputs,
  platform: debPlatform,
  canonicalPath: (absPath) => canonicalPath(absPath.replace(/^\/+/, '')),
};

