import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { getAdapter } from '../../adapters/registry.js';
import { DEFAULT_LIMITS, DEFAULT_MAX_LAYERS, MAX_LAYERS_CEILING, type ImageConfig } from './imageConfig.js';
import { parseSize } from './parseSize.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits, ".", "_" or "-"');

const accountName = z.string().regex(/^[a-z_][a-z0-9_-]*[$]?$/, 'use a lower-case letter or "_" first, then letters, digits, "_" or "-"').max(32);
const id = z.number().int().min(0).max(4294967294);
/** 0o750 in TOML, or "0750" / "750" as a string: modes are octal either way. */
const mode = z.union([
  z.number().int().min(0).max(0o7777),
  z.string().regex(/^0?[0-7]{3,4}$/, 'write the mode in octal, e.g. "0750" or 0o750').transform((s) => parseInt(s, 8)),
]);
/** A byte count, or "16G", "512M"...: see parseSize. */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: `"${v}" is not a size: write bytes, or a number with K, M, G or T (e.g. "16G")` });
  return bytes ?? 0;
});
const absolute = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path').refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

const userSchema = z
  .object({
    name: accountName,
    uid: id.optional(),
    group: z.union([accountName, id]).optional(),
    groups: z.array(accountName).default([]),
    gecos: z.string().regex(/^[^:\n]*$/, 'must not contain ":" or a newline').default(''),
    home: absolute.optional(),
    shell: absolute.optional(),
    system: z.boolean().default(false),
  })
  .strict();
const groupSchema = z
  .object({ name: accountName, gid: id.optional(), members: z.array(accountName).default([]), system: z.boolean().default(false) })
  .strict();
const pathSchema = z
  .object({
    path: absolute,
    type: z.enum(['directory', 'file', 'symlink']),
    mode: mode.optional(),
    user: z.union([accountName, id]).default('root'),
    group: z.union([accountName, id]).default('root'),
    target: z.string().min(1).optional(),
    content: z.string().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.type === 'symlink' && p.target === undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'a symlink needs a target' });
    if (p.type !== 'symlink' && p.target !== undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'only a symlink has a target' });
    if (p.type !== 'file' && p.content !== undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: 'only a file has content' });
  });

const schema = z
  .object({
    image: z
      .object({
        name,
        tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'not a valid OCI tag').default('latest'),
        architectures: z.array(z.string().min(1)).min(1).default(['amd64']),
      })
      .strict(),
    repository: z
      .array(
        // Adapter-specific fields (suite, components, keyring...) pass through to the adapter.
        z.object({ name, type: z.string(), url: z.string().min(1) }).passthrough(),
      )
      .min(1, 'at least one [[repository]] is needed'),
    packages: z
      .object({
        seed: z.string().optional(),
        include: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({}),
    config: z
      .object({
        env: z.record(z.string()).default({}),
        entrypoint: z.array(z.string()).optional(),
        cmd: z.array(z.string()).optional(),
        user: z.string().optional(),
        workdir: z.string().optional(),
        labels: z.record(z.string()).default({}),
        stop_signal: z.string().optional(),
      })
      .strict()
      .default({}),
    users: z.array(userSchema).default([]),
    groups: z.array(groupSchema).default([]),
    paths: z.array(pathSchema).default([]),
    layering: z
      .object({ max_layers: z.number().int().min(2).max(MAX_LAYERS_CEILING).default(DEFAULT_MAX_LAYERS) })
      .strict()
      .default({}),
    limits: z
      .object({
        max_unpacked_size: size.default(DEFAULT_LIMITS.maxUnpackedBytes),
        max_files: z.number().int().min(1).default(DEFAULT_LIMITS.maxEntries),
      })
      .strict()
      .default({}),
  })
  .strict();

/**
 * An http(s) or file: URL as written, or a local directory relative to image.toml made into a
 * file: URL (the lock then names that absolute path). No trailing slash, so paths join with "/".
 */
function repositoryLocation(url: string, imageFile: string, where: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return pathToFileURL(path.resolve(path.dirname(imageFile), url)).href.replace(/\/+$/, '');
  if (!['http', 'https', 'file'].includes(scheme) || !URL.canParse(url)) {
    throw new UserError(`${where}: "${url}" is not an http(s) or file: URL nor a directory path; fix the repository url`);
  }
  return url.replace(/\/+$/, '');
}

/** Read, parse and validate image.toml; every failure is one UserError naming the file and field. */
export async function loadImageConfig(file: string): Promise<ImageConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read the image file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? e.message;
      throw new UserError(`${file}:${e.line}:${e.column}: invalid TOML: ${first.replace(/^Invalid TOML document: /, '')}`);
    }
    throw e;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssue(file, parsed.error.issues[0]));
  const data = parsed.data;
  const seen = new Set<string>();
  const repositories = data.repository.map((r, i) => {
    const { name: repoName, type, url, ...rest } = r;
    if (seen.has(repoName)) throw new UserError(`${file}: repository[${i}].name: "${repoName}" is used twice; give each repository its own name`);
    seen.add(repoName);
    const adapter = getAdapter(type, `${file}: repository[${i}].type`);
    const location = repositoryLocation(url, abs, `${file}: repository[${i}].url`);
    const options = adapter.repositoryOptions({ name: repoName, url: location, options: rest }, file);
    return { name: repoName, type, url: location, options };
  });
  return {
    file: abs,
    image: data.image,
    repositories,
    packages: data.packages,
    config: {
      env: data.config.env,
      entrypoint: data.config.entrypoint,
      cmd: data.config.cmd,
      user: data.config.user,
      workdir: data.config.workdir,
      labels: data.config.labels,
      stopSignal: data.config.stop_signal,
    },
    layering: { maxLayers: data.layering.max_layers },
    limits: { maxUnpackedBytes: data.limits.max_unpacked_size, maxEntries: data.limits.max_files },
    users: data.users,
    groups: data.groups,
    paths: data.paths,
  };
}

function describeIssue(file: string, issue: z.ZodIssue | undefined): string {
  if (!issue) return `${file}: invalid image file`;
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `${file}: unknown field ${keys}${where ? ` in ${where}` : ' at the top level'}; check the spelling against the configuration reference in README.md`;
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${file}: ${where} is required`;
  return `${file}: ${where || 'image file'}: ${issue.message}`;
}

function formatPath(p: (string | number)[]): string {
  return p.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? `[${seg}]` : `.${seg}`)).join('');
}
