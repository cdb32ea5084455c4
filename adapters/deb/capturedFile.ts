/**
 * Files unpack kept a copy of (`captured`, base64, with their shipped modes), looked up across the
 * image's packages: the first package that has the path wins, as its layer order has it.
 */
import type { PackageMetadata } from '../types.js';
import { asDeb } from './debMetadata.js';
import { canonicalPath } from './mergedUsr.js';

/** A captured file by canonical relative path: content (base64) and its shipped mode. */
function capturedFile(packages: readonly PackageMetadata[], rel: string): { content: string; mode: number } | undefined {
  for (const p of packages) {
    const meta = asDeb(p);
    const content = meta.captured?.[rel];
    if (content !== undefined) return { content, mode: meta.capturedModes?.[rel] ?? 0o644 };
  }
  return undefined;
}

/** A captured package file by the absolute path a script names (merged-/usr resolved). */
export function packageFile(packages: readonly PackageMetadata[], abs: string): { content: string; mode: number } | undefined {
  return capturedFile(packages, canonicalPath(abs.replace(/^\/+/, '')));
}

/** A captured file by canonical relative path, as text. */
export function capturedText(packages: readonly PackageMetadata[], rel: string): string | undefined {
  const file = capturedFile(packages, rel);
  return file === undefined ? undefined : Buffer.from(file.content, 'base64').toString('utf8');
}
