import type { PackageMetadata, ScriptEffects } from '../types.js';
import { asPacman } from './pacmanMetadata.js';

/** The .INSTALL functions pacman runs on a fresh install; upgrade and removal ones never run here. */
const INSTALL_FUNCTIONS = new Set(['pre_install', 'post_install']);

/**
 * What a package's .INSTALL would do on install. Nothing is translated yet (that is the script
 * engine's work): every line of pre_install and post_install that does something is listed.
 */
export function pacmanScriptEffects(pkg: PackageMetadata): ScriptEffects {
  const meta = asPacman(pkg);
  if (meta.install === undefined) return { effects: [], untranslated: [] };
  const untranslated: string[] = [];
  let current: string | undefined;
  let depth = 0;
  for (const raw of Buffer.from(meta.install, 'base64').toString('utf8').split('\n')) {
    const line = raw.trim();
    const start = /^(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)\s*\{?\s*$/.exec(line);
    if (depth === 0 && start) {
      current = start[1];
      depth = line.endsWith('{') ? 1 : 0;
      continue;
    }
    if (current !== undefined && depth === 0 && line === '{') {
      depth = 1;
      continue;
    }
    if (depth > 0) {
      depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
      if (depth <= 0) {
        current = undefined;
        depth = 0;
        continue;
      }
      if (current !== undefined && INSTALL_FUNCTIONS.has(current) && !isInert(line)) untranslated.push(`.INSTALL ${current}: ${line}`);
    }
  }
  return { effects: [], untranslated };
}

function isInert(line: string): boolean {
  return line === '' || line.startsWith('#') || /^(fi|done|esac|;;|else|then|do|:|true|return( 0)?)$/.test(line);
}
