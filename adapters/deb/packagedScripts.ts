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

/** A file named as shell libraries are (maintscripts-functions, postinst.functions, *.sh). */
export function isShellLibraryName(path: string): boolean {
  return /(^|[-._/])functions$|\.sh$/.test(path);
}

interface Helpers {
  /** Executable shell scripts, by absolute path. */
  scripts: Map<string, string>;
  /** Shell libraries (by their name), by absolute path. */
  libraries: Map<string, string>;
}

const cache = new WeakMap<readonly PackageMetadata[], Helpers>();

/** What unpack kept under /usr/share of both kinds; the first package that has a path wins. */
function helpersOf(packages: readonly PackageMetadata[]): Helpers {
  const known = cache.get(packages);
  if (known) return known;
  const found: Helpers = { scripts: new Map(), libraries: new Map() };
  for (const p of packages) {
    const meta = asDeb(p);
    for (const [rel, content] of Object.entries(meta.captured ?? {})) {
      const abs = `/${rel}`;
      if (!rel.startsWith('usr/share/') || found.scripts.has(abs) || found.libraries.has(abs)) continue;
      const text = Buffer.from(content, 'base64').toString('utf8');
      const executable = ((meta.capturedModes?.[rel] ?? 0) & 0o111) !== 0;
      if (executable && /^#!\s*\/(usr\/)?bin\/(ba|da)?sh\b/.test(text)) found.scripts.set(abs, text);
      else if (isShellLibraryName(rel)) found.libraries.set(abs, text);
    }
  }
  cache.set(packages, found);
  return found;
}

/**
 * `text` with each run of a packaged script in command position (a line's first word, or after
 * then, do, else, ;, && or ||) turned into a call of a function that holds the script, defined
 * at the end. Unchanged when it runs none.
 */
export function inlinePackagedScripts(text: string, packages: readonly PackageMetadata[]): string {
  const { scripts, libraries } = helpersOf(packages);
  // `. LIBRARY` on a line of its own: the library's text in its place, as sourcing reads it.
  let out = text.replace(/^[ \t]*(?:\.|source)[ \t]+(\/usr\/share\/\S+)[ \t]*$/gm, (line, abs: string) => libraries.get(abs) ?? line);
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
