import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ImageConfig } from '../config/imageConfig.js';
import { removeSiblingLeftovers } from '../cas/removeLeftovers.js';
import { OWNER } from '../cas/tempOwner.js';
import { UserError } from '../errors.js';
import { stableStringify } from './stableJson.js';

export const LOCKFILE_VERSION = 1;

const lockedIndex = z.object({ url: z.string(), sha256: z.string(), size: z.number(), verifiedBy: z.string() }).strict();
const lockedPackage = z
  .object({
    name: z.string(),
    version: z.string(),
    arch: z.string(),
    repository: z.string(),
    url: z.string(),
    // The file's sha256 where the index gives one; otherwise the format's own pin (apk `C:`).
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    checksum: z.string().min(1).optional(),
    size: z.number().int().nonnegative(),
    requiredBy: z.array(z.string()),
    optional: z.array(z.string()).optional(),
  })
  .strict()
  .refine((p) => p.sha256 !== undefined || p.checksum !== undefined, { message: 'a package needs a sha256 or a checksum' });

const lockSchema = z
  .object({
    lockfileVersion: z.literal(LOCKFILE_VERSION),
    inputsHash: z.string(),
    sourceDateEpoch: z.number().int().nonnegative(),
    repositories: z.array(z.object({ name: z.string(), type: z.string(), url: z.string(), indexes: z.array(lockedIndex) }).strict()),
    architectures: z.record(z.object({ packages: z.array(lockedPackage) }).strict()),
  })
  .strict();

export type Lockfile = z.infer<typeof lockSchema>;
export type LockedPackage = z.infer<typeof lockedPackage>;

/**
 * What resolution depends on, hashed: a lock whose hash differs from image.toml's was made for
 * another image. Runtime settings ([config], [layering], tag) are left out on purpose: changing
 * the entrypoint must not force a re-resolve.
 */
export function inputsHash(config: ImageConfig): string {
  const inputs = {
    architectures: config.image.architectures,
    repositories: config.repositories.map((r) => ({ name: r.name, type: r.type, url: r.url, options: r.options })),
    // The order and repetition of include entries do not change what gets resolved.
    packages: { ...config.packages, include: [...new Set(config.packages.include)].sort() },
  };
  return `sha256:${createHash('sha256').update(stableStringify(inputs)).digest('hex')}`;
}


export async function writeLockfile(file: string, lock: Lockfile): Promise<void> {
  const tmp = `${file}.tmp-${OWNER}`;
  await removeSiblingLeftovers(file); // what a killed earlier `lock` left beside it
  try {
    await writeFile(tmp, stableStringify(lock));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new UserError(`cannot write the lockfile ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); check that its directory exists and is writable`);
  }
}

export async function readLockfile(file: string): Promise<Lockfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`no lockfile at ${file}: run \`layerpkg lock\` first (or pass --lockfile PATH)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message}); regenerate it with \`layerpkg lock\``);
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${file}: not a layerpkg lockfile (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}); regenerate it with \`layerpkg lock\``);
  }
  return parsed.data;
}

/** Refuse a lock made for other inputs: `build` never resolves on its own. */
export function checkLockMatches(lock: Lockfile, config: ImageConfig, lockPath: string): void {
  if (lock.inputsHash !== inputsHash(config)) {
    throw new UserError(
      `${lockPath} is out of date: ${config.file} changed its repositories, packages or architectures since it was locked; run \`layerpkg lock ${config.file}\``,
    );
  }
  for (const arch of config.image.architectures) {
    if (!lock.architectures[arch]) throw new UserError(`${lockPath} has no packages for ${arch}; run \`layerpkg lock ${config.file}\``);
  }
}
