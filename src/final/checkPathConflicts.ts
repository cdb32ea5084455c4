import type { Adapter, PackageMetadata } from '../../adapters/types.js';
import { UserError } from '../errors.js';

/**
 * Two packages may ship the same file only when the format allows it (Debian `Replaces`), and then
 * the one allowed to overwrite must come later in layer order, where overlayfs makes it win.
 */
export function checkPathConflicts(adapter: Adapter, packagesInLayerOrder: PackageMetadata[]): void {
  const owner = new Map<string, PackageMetadata>();
  const last = packagesInLayerOrder[packagesInLayerOrder.length - 1];
  for (const pkg of packagesInLayerOrder) {
    for (const path of adapter.installedPaths(pkg)) {
      const earlier = owner.get(path);
      if (earlier && earlier !== pkg && !adapter.mayOverwrite(pkg, earlier)) {
        throw new UserError(
          `file conflict: /${path} is shipped by both ${earlier.name} ${earlier.version} and ${pkg.name} ${pkg.version}` +
            `${adapter.mayOverwrite(earlier, pkg) ? ' (the first may replace the second, but comes before it in layer order)' : ''}; remove one of them from the image`,
        );
      }
      // No package comes after the last one to meet its paths: a single large package makes no map.
      if (pkg !== last) owner.set(path, pkg);
    }
  }
}
