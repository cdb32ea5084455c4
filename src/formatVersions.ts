/**
 * Bump when the bytes layerpkg writes change for the same inputs; each is part of a cache key.
 * Kept in one tiny module so the up-to-date check can read them without loading the builder.
 */
/** Package layers: tar details, path rules, what unpack records as metadata. */
export const LAYER_FORMAT_VERSION = 13;
/** The final layer: database format and script-effect translation. */
export const FINAL_FORMAT_VERSION = 10;
