import { createHash } from 'node:crypto';
import type { RepositoryConfig } from '../../adapters/types.js';
import { FINAL_FORMAT_VERSION } from '../formatVersions.js';
import { stableStringify } from '../lock/stableJson.js';


/**
 * Everything the final layer is a function of: the package metadata it is computed from (by
 * digest, in layer order — so a change in what unpack records remakes it too), the architecture,
 * the timestamp, the repositories it records for the package manager, the requested names
 * (apk's world) and the accounts and paths image.toml declares.
 */
export function finalLayerKey(args: {
  type: string;
  arch: string;
  sourceDateEpoch: number;
  metadataDigests: string[];
  repositories: RepositoryConfig[];
  requested: string[];
  explicit: string[];
  /** The effects image.toml declares ([[users]], [[groups]], [[paths]]). */
  declared: unknown[];
}): string {
  const repos = args.repositories.map((r) => ({ name: r.name, type: r.type, url: r.url, options: r.options }));
  const inputs = stableStringify({ arch: args.arch, sde: args.sourceDateEpoch, metadata: args.metadataDigests, repos, requested: args.requested, explicit: args.explicit, declared: args.declared });
  return `final-v${FINAL_FORMAT_VERSION}:${args.type}:${createHash('sha256').update(inputs).digest('hex')}`;
}
