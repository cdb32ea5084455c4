import type { ScratchPath, UnpackLimits, UnpackResult } from './types.js';

type Unpacker = (file: string, label: string, limits: UnpackLimits, scratch?: ScratchPath) => UnpackResult;

/**
 * An `unpack` that loads its module on first use. Unpackers pull in tar and decompressors;
 * loading them only when a layer must be made keeps a fully cached rebuild's start-up short.
 */
export function lazyUnpack(load: () => Promise<Unpacker>): Unpacker {
  return (file, label, limits, scratch) => {
    const started = load().then((unpack) => unpack(file, label, limits, scratch));
    const metadata = started.then((r) => r.metadata);
    metadata.catch(() => {}); // reported through `entries`, which the caller consumes first
    return {
      entries: (async function* entries() {
        yield* (await started).entries;
      })(),
      metadata,
    };
  };
}
