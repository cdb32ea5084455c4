import { z } from 'zod';
import { UserError } from '../../src/errors.js';

/** pacman.conf's SigLevel, reduced to what a build can act on. */
export type SigLevel = 'required' | 'packages' | 'optional' | 'never';

export interface PacmanRepositoryOptions {
  /** The database name: `<url>/<db>.db` (default: the repository's name, as pacman.conf's [section]). */
  db: string;
  /** OpenPGP keyring (binary or armored), relative to image.toml. */
  keyring?: string;
  /**
   * Signatures: "required" (default: db and packages), "packages" (packages required, the db's
   * if present — pacman's `Required DatabaseOptional`, for Arch's unsigned official dbs),
   * "optional" and "never" (local repositories only).
   */
  siglevel: SigLevel;
}

const schema = z
  .object({
    db: z.string().regex(/^[A-Za-z0-9._+-]+$/, 'a database name such as "core"').optional(),
    keyring: z.string().min(1).optional(),
    siglevel: z.enum(['required', 'packages', 'optional', 'never']).default('required'),
  })
  .strict();

export function pacmanRepositoryOptions(repo: { name: string; url: string; options: Record<string, unknown> }, file: string): Record<string, unknown> {
  const parsed = schema.safeParse(repo.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new UserError(`${file}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')} in repository "${repo.name}" (pacman repositories take url, db, keyring, siglevel)`);
    }
    throw new UserError(`${file}: repository "${repo.name}": ${issue.path.join('.') || 'options'}: ${issue.message}`);
  }
  const { db, keyring, siglevel } = parsed.data;
  const local = repo.url.startsWith('file:');
  // A mirror is trusted only through signatures; relaxing that is for a repository on this disk.
  if ((siglevel === 'optional' || siglevel === 'never') && !local) {
    throw new UserError(
      `${file}: repository "${repo.name}": siglevel "${siglevel}" is only allowed for a local repository; a remote one needs signed packages (siglevel "required", or "packages" for an unsigned database)`,
    );
  }
  if (siglevel !== 'never' && !keyring) {
    throw new UserError(`${file}: repository "${repo.name}": keyring is required to verify signatures (an OpenPGP keyring file, relative to image.toml), or set siglevel = "never" for a local repository`);
  }
  const options: PacmanRepositoryOptions = { db: db ?? repo.name, siglevel, ...(keyring ? { keyring } : {}) };
  return options as unknown as Record<string, unknown>;
}

export function pacmanOptions(options: Record<string, unknown>): PacmanRepositoryOptions {
  return options as unknown as PacmanRepositoryOptions;
}
