import type { PackageMetadata } from '../types.js';
import { asDeb } from './debMetadata.js';

/** A captured file of any package of the image, by canonical path, as text. */
export function capturedText(packages: readonly PackageMetadata[], rel: string): string | undefined {
  for (const p of packages) {
    const c = asDeb(p).captured?.[rel];
    if (c !== undefined) return Buffer.from(c, 'base64').toString('utf8');
  }
  return undefined;
}
