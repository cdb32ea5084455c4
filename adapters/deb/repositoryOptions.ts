import { z } from 'zod';
import { UserError } from '../../src/errors.js';

export interface DebRepositoryOptions {
  suite: string;
  components: string[];
  /** Path to an OpenPGP keyring (binary or armored), relative to image.toml; default: Debian's. */
  keyring?: string;
}

const schema = z
  .object({
    suite: z.string().min(1),
    components: z.array(z.string().min(1)).min(1).default(['main']),
    keyring: z.string().optional(),
  })
  .strict();

export function debRepositoryOptions(repo: { name: string; options: Record<string, unknown> }, file: string): Record<string, unknown> {
  const parsed = schema.safeParse(repo.options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new UserError(`${file}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')} in repository "${repo.name}" (deb repositories take suite, components, keyring)`);
  }
  throw new UserError(`${file}: repository "${repo.name}": ${issue.path.join('.') || 'options'}: ${issue.message === 'Required' ? 'is required' : issue.message}`);
}
