/**
 * dpkg-divert as maintainer scripts call it on a fresh install. `--add` records a diversion
 * (/var/lib/dpkg/diversions); `--remove` of a diversion nobody made is a no-op. Renaming a file
 * that is already in the image (`--rename` where the path exists) would move a lower layer's
 * file: reported, not guessed.
 */
import type { DiversionEffect } from '../../src/translate/effects.js';
import type { ScriptContext } from '../types.js';

type Result = { effects: DiversionEffect[] } | { unrecognized: string };

const WITH_VALUE = new Set(['--package', '--divert', '--admindir', '--instdir', '--root']);

/** `$(dpkg-divert --listpackage F)` and `$(dpkg-divert --truename F)`: what dpkg answers given the diversions made so far. */
export function dpkgDivertOutput(words: string[], ctx: Pick<ScriptContext, 'diversion'>): string | undefined {
  const [tool, query, file, ...rest] = words;
  if (tool !== 'dpkg-divert' || rest.length || file === undefined || !file.startsWith('/') || ctx.diversion === undefined) return undefined;
  const d = ctx.diversion(file);
  if (query === '--listpackage') return d === undefined ? '' : d.package === ':' ? 'LOCAL' : d.package;
  if (query === '--truename') return d?.divertTo ?? file;
  return undefined;
}

export function dpkgDivert(args: string[], ctx: Pick<ScriptContext, 'pathType' | 'diversion'>, earlier: ReadonlySet<string>): Result {
  const opts = new Map<string, string>();
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (WITH_VALUE.has(name)) opts.set(name, eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : (args[++i] ?? ''));
    else if (a.startsWith('-')) opts.set(a, '');
    else files.push(a);
  }
  const unknown = [...opts.keys()].find((o) => !['--package', '--divert', '--add', '--remove', '--rename', '--no-rename', '--local', '--quiet', '--test', '--list', '--listpackage', '--truename'].includes(o));
  if (unknown) return { unrecognized: `dpkg-divert: option ${unknown} is not understood` };
  // Queries answer the script; they change nothing.
  if (['--list', '--listpackage', '--truename'].some((q) => opts.has(q))) return { effects: [] };
  const [file, ...more] = files;
  const diverted = (f: string) => earlier.has(f) || ctx.diversion?.(f) !== undefined;
  if (file === undefined || more.length || !file.startsWith('/') || /[$`*?[]/.test(file)) return { unrecognized: `dpkg-divert: the file "${files.join(' ')}" is not one known absolute path` };
  if (opts.has('--test')) return { effects: [] };
  if (opts.has('--remove')) {
    // Only a diversion an earlier script of the image made could be removed.
    return diverted(file) ? { unrecognized: `dpkg-divert --remove ${file}: removing a diversion made earlier in the image` } : { effects: [] };
  }
  const divertTo = opts.get('--divert') ?? `${file}.distrib`;
  if (/[$`*?[]/.test(divertTo) || !divertTo.startsWith('/')) return { unrecognized: `dpkg-divert: the diversion target "${divertTo}" is not one known absolute path` };
  if (diverted(file)) return { unrecognized: `dpkg-divert --add ${file}: already diverted earlier in the image` };
  if (opts.has('--rename') && ctx.pathType(file) !== 'absent') return { unrecognized: `dpkg-divert --rename ${file}: moving a file the image already has to ${divertTo} is not applied` };
  const owner = opts.has('--local') || !opts.has('--package') ? ':' : opts.get('--package')!;
  return { effects: [{ kind: 'diversion', path: file, divertTo, package: owner }] };
}
