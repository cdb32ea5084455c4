import type { PackageMetadata, ScriptEffects } from '../types.js';
import { asPacman } from './pacmanMetadata.js';

/** The .INSTALL functions pacman runs on a fresh install; upgrade and removal ones never run here. */
const INSTALL_FUNCTIONS = new Set(['pre_install', 'post_install']);

/**
 * What a package's .INSTALL would do on install. Nothing is translated yet (that is the script
 * engine's work): every command of pre_install and post_install is listed. The functions are
 * found line by line (`name() {` … `}` at the start of a line, or `name() { …; }` on one line);
 * when the file does not have that plain shape, every line that does something is listed, so
 * that nothing it would do goes unreported.
 */
export function pacmanScriptEffects(pkg: PackageMetadata): ScriptEffects {
  const meta = asPacman(pkg);
  if (meta.install === undefined) return { effects: [], untranslated: [] };
  const lines = Buffer.from(meta.install, 'base64').toString('utf8').split('\n');
  return { effects: [], untranslated: installFunctionLines(lines) ?? lines.map((l) => l.trim()).filter((l) => !isInert(l)).map((l) => `.INSTALL: ${l}`) };
}

/** The commands of pre_install/post_install, or undefined when the file is not plainly shaped. */
function installFunctionLines(lines: string[]): string[] | undefined {
  const out: string[] = [];
  let current: string | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    const oneLine = /^(?:function\s+)?([A-Za-z_]\w*)\s*\(\s*\)\s*\{(.*)\}\s*$/.exec(line);
    const opening = /^(?:function\s+)?([A-Za-z_]\w*)\s*\(\s*\)\s*\{\s*$/.exec(line);
    if (current === undefined) {
      if (oneLine) {
        if (INSTALL_FUNCTIONS.has(oneLine[1]!)) out.push(...commands(oneLine[2]!).map((c) => `.INSTALL ${oneLine[1]}: ${c}`));
      } else if (opening) {
        current = opening[1]!;
      } else if (!isInert(line)) {
        return undefined; // top-level code, or a shape this reader does not follow
      }
      continue;
    }
    // A function ends at a `}` alone at the start of its line, as makepkg's templates write it.
    if (/^\}\s*$/.test(raw)) {
      current = undefined;
      continue;
    }
    if (INSTALL_FUNCTIONS.has(current) && !isInert(line)) out.push(`.INSTALL ${current}: ${line}`);
  }
  return current === undefined ? out : undefined;
}

function commands(body: string): string[] {
  return body
    .split(';')
    .map((c) => c.trim())
    .filter((c) => !isInert(c));
}

function isInert(line: string): boolean {
  return line === '' || line.startsWith('#') || /^(fi|done|esac|;;|else|then|do|:|true|return( 0)?)$/.test(line);
}
