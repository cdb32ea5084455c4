import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../src/errors.js';
import { readApkKeysSync } from './apkIndex.js';

export interface ApkRepositoryOptions {
  /** The keys directory as written in image.toml (relative to it), for messages. */
  keys: string;
  /**
   * The trusted public keys, file name → PEM, read when image.toml is loaded: the lock's inputs
   * and the final layer's cache key then change when a key does, and no later stage reads files.
   */
  trusted: Record<string, string>;
}

const schema = z.object({ keys: z.string().min(1) }).strict();

export function apkRepositoryOptions(repo: { name: string; url: string; options: Record<string, unknown> }, file: string): Record<string, unknown> {
  const parsed = schema.safeParse(repo.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new UserError(`${file}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')} in repository "${repo.name}" (apk repositories take url and keys)`);
    }
    throw new UserError(
      `${file}: repository "${repo.name}": ${issue.path.join('.') || 'options'}: ${issue.message === 'Required' ? 'is required (a directory of the .rsa.pub keys that sign the repository)' : issue.message}`,
    );
  }
  const dir = path.resolve(path.dirname(file), parsed.data.keys);
  let trusted: Map<string, string>;
  try {
    trusted = readApkKeysSync(dir);
  } catch (e) {
    throw e instanceof UserError ? new UserError(`${file}: repository "${repo.name}": keys: ${e.message}`) : e;
  }
  const options: ApkRepositoryOptions = { keys: parsed.data.keys, trusted: Object.fromEntries(trusted) };
  return options as unknown as Record<string, unknown>;
}

export function apkOptions(options: Record<string, unknown>): ApkRepositoryOptions {
  return options as unknown as ApkRepositoryOptions;
}

export function trustedKeys(options: Record<string, unknown>): Map<string, string> {
  return new Map(Object.entries(apkOptions(options).trusted));
}
