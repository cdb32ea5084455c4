import type { Adapter, PackageMetadata } from '../../adapters/types.js';
import { UserError } from '../errors.js';

/**
 * Paths of one package beneath another package's symlink. Such a path would land where the link
 * leads (dpkg lets the kernel follow it, and its own conflict check compares names, so it would
 * not see the file it replaces there), while extractors disagree on a layer entry beneath another
 * layer's symlink (umoci follows it out, GNU tar refuses, overlayfs hides one behind the other).
 * Until such paths are resolved into the layer, they are refused, naming both packages: a
 * symlink trick never places or hides a file unseen.
 */
export function checkSymlinkCrossings(adapter: Adapter, packagesInLayerOrder: PackageMetadata[]): void {
  const links = new Map<string, { pkg: PackageMetadata; target: string }>();
  for (const pkg of packagesInLayerOrder) {
    for (const { path, target } of adapter.installedSymlinks(pkg)) if (!links.has(path)) links.set(path, { pkg, target });
  }
  if (links.size === 0) return;
  const name = (p: PackageMetadata) => `${p.name} ${p.version}`;
  for (const pkg of packagesInLayerOrder) {
    const own = new Set(adapter.installedSymlinks(pkg).map((l) => l.path));
    const directories = adapter.installedDirectories(pkg).map((d) => d.path);
    for (const path of [...adapter.installedPaths(pkg), ...directories]) {
      for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
        const above = path.slice(0, slash);
        const link = links.get(above);
        if (!link || link.pkg === pkg || own.has(above)) continue;
        throw new UserError(
          `${name(pkg)} ships /${path} beneath /${above}, a symlink ${name(link.pkg)} ships (-> ${link.target}): where it lands would depend on install order and on the tool that extracts the layers, and layerpkg does not resolve a path through another package's symlink yet; leave one of them out of the image`,
        );
      }
    }
  }
}
