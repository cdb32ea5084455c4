import { createHash } from 'node:crypto';
import type { RepositoryConfig } from '../../adapters/types.js';
import { stableStringify } from '../lock/stableJson.js';

/** Bump when the final layer's bytes change for the same inputs (translation, database format). */
export const FINAL_FORMAT_VERSION = 4;

/**
 * Everything the final layer is a function of: the packages (by content, in layer order), the
 * architecture, the timestamp, and the repositories it records for the package manager.
 */
export function finalLayerKey(args: { type: string; arch: string; sourceDateEpoch: number; packageSha256s: string[]; repositories: RepositoryConfig[] }): string {
  const repos = args.repositories.map((r) => ({ name: r.name, type: r.type, url: r.url, options: r.options }));
  const inputs = stableStringify({ arch: args.arch, sde: args.sourceDateEpoch, packages: args.packageSha256s, repos });
  return `final-v${FINAL_FORMAT_VERSION}:${args.type}:${createHash('sha256').update(inputs).digest('hex')}`;
}
