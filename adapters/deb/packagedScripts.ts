/**
 * Shell scripts that packages ship under /usr/share for other packages' maintainer scripts to
 * run (mariadb-common's postinst runs mysql-common's configure-symlinks) or source
 * (postgresql-15's `. /usr/share/postgresql-common/maintscripts-functions`): a run is read as a
 * call of a function whose body is that script, a sourcing as the library's text in its place,
 * so what they do is recognized like the calling script's own commands. Unpack keeps small
 * executable shell scripts and shell libraries there.
 */
import type { PackageMetadata } from '../types.js';
import { asDeb } from './debMetadata.js';

const cache = new WeakMap<readonly PackageMetadata[], Map<string, string>>();

/** Executable shell scripts under /usr/share that unpack kept, by absolute path. */
function packagedScripts(packages: readonly PackageMetadata[]): Map<string, string> {
  let found = cache.get(packages);
  if (found) return found;
  found = new Map();
  for (const p of packages) {
    const meta = asDeb(p);
    for (const [rel, content] of Object.entries(meta.captured ?? {})) {
      if (!rel.startsWith('usr/share/') || ((meta.capturedModes?.[rel] ?? 0) & 0o111) === 0 || found.has(`/${rel}`)) continue;
      const text = Buffer.from(content, 'base64').toString('utf8');
      if (/^#!\s*\/(usr\/)?bin\/(ba|da)?sh\b/.test(text)) found.set(`/${rel}`, text);
    }
  }
  cache.set(packages, found);
  return found;
}

/** A file named as shell libraries are (maintscripts-functions, postinst.functions, *.sh). */
export function isShellLibraryName(path: string): boolean {
  return /(^|[-._/])functions$|\.sh$/.test(path);
}

const libraries = new WeakMap<readonly PackageMetadata[], Map<string, string>>();

/** Shell libraries under /usr/share that unpack kept by their name (see unpack's isShellLibraryName), by absolute path. */
function sourcedLibraries(packages: readonly PackageMetadata[]): Map<string, string> {
  let found = libraries.get(packages);
  if (found) return found;
  found = new Map();
  for (const p of packages) {
    for (const [rel, content] of Object.entries(asDeb(p).captured ?? {})) {
      if (rel.startsWith('usr/share/') && isShellLibraryName(rel) && !found.has(`/${rel}`)) found.set(`/${rel}`, Buffer.from(content, 'base64').toString('utf8'));
    }
  }
  libraries.set(packages, found);
  return found;
}

/**
 * `text` with each run of a packaged script in command position (a line's first word, or after
 * then, do, else, ;, && or ||) turned into a call of a function that holds the script, defined
 * at the end. Unchanged when it runs none.
 */
export function inlinePackagedScripts(text: string, packages: readonly PackageMetadata[]): string {
  const scripts = packagedScripts(packages);
  // `. LIBRARY` on a line of its own: the library's text in its place, as sourcing reads it.
  let out = text.replace(/^[ \t]*(?:\.|source)[ \t]+(\/usr\/share\/\S+)[ \t]*$/gm, (line, abs: string) => sourcedLibraries(packages).get(abs) ?? line);
  const defined: string[] = [];
  for (const [abs, body] of scripts) {
    if (!out.includes(abs)) continue;
    const name = `__layerpkg_script_${defined.length + 1}`;
    const escaped = abs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const call = new RegExp(`(^|[;&|]|\\bthen|\\bdo|\\belse)([ \\t]*)${escaped}(?=[ \\t;]|$)`, 'gm');
    const replaced = out.replace(call, `$1$2${name}`);
    if (replaced === out) continue;
    out = replaced;
    defined.push(`${name}() {\n${body.replace(/\n?$/, '\n')}}\n`);
  }
  return defined.length ? `${out.replace(/\n?$/, '\n')}${defined.join('')}` : out;
}
