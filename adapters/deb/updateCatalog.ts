/**
 * sgml-base's `update-catalog --update-super`: /var/lib/sgml-base/supercatalog lists every
 * centralized catalog /etc/sgml/*.cat whose CATALOG entries name files that exist, sorted, under
 * update-catalog's four-line header.
 */
import type { Effect } from '../../src/translate/effects.js';
import type { PackageMetadata, ScriptContext } from '../types.js';
import { capturedText } from './capturedFile.js';
import { asDeb } from './debMetadata.js';
import type { CommandResult } from './serviceCommands.js';

const CATALOG_DIR = 'etc/sgml/';
const SUPER = '/var/lib/sgml-base/supercatalog';

/** What unpack keeps: the centralized catalogs, for the files they reference. */
export function isSgmlCatalog(rel: string): boolean {
  return rel.startsWith(CATALOG_DIR) && /^[^./][^/]*\.cat$/.test(rel.slice(CATALOG_DIR.length));
}

export function updateCatalog(args: string[], ctx: Pick<ScriptContext, 'pathType'>, packages: readonly PackageMetadata[]): CommandResult {
  if (!args.includes('--update-super') || args.some((a) => a !== '--update-super' && a !== '--quiet')) return { unrecognized: `update-catalog ${args.join(' ')}` };
  const catalogs = [...new Set(packages.flatMap((p) => asDeb(p).paths).filter(isSgmlCatalog))].sort();
  const listed: string[] = [];
  for (const rel of catalogs) {
    const text = capturedText(packages, rel);
    if (text === undefined) return { unrecognized: `update-catalog: /${rel} was not kept by unpack` };
    if (referencesExist(`/${rel}`, text, ctx)) listed.push(`/${rel}`);
  }
  const content = `--\n## This file is created by update-catalog with update-super.\n## Please see update-catalog(8) for how to modify this file.\n--\n${listed.map((c) => `CATALOG ${c}\n`).join('')}`;
  const effect: Effect = { kind: 'file', path: SUPER, mode: 0o644, user: 'root', group: 'root', content: Buffer.from(content).toString('base64'), ifMissing: false };
  return { effects: [effect] };
}

/** check_catalog: each CATALOG entry (relative to the file's directory, or to a BASE) names a file that is there. */
function referencesExist(catalog: string, text: string, ctx: Pick<ScriptContext, 'pathType'>): boolean {
  let base = catalog.replace(/\/[^/]+$/, '');
  let previous: 'catalog' | 'base' | undefined;
  for (const m of text.matchAll(/((?:\s+|--[\s\S]*?--)+|'[\s\S]*?'|"[\s\S]*?"|\S+)/g)) {
    let token = m[1]!;
    if (previous) {
      if (/^\s|^--/.test(token)) continue;
      token = token.replace(/^(['"])([\s\S]*)\1$/, '$2');
      if (previous === 'base') base = token;
      else if (ctx.pathType(token.startsWith('/') ? token : `${base}/${token}`) !== 'file') return false;
      previous = undefined;
    } else if (token.toLowerCase() === 'catalog') previous = 'catalog';
    else if (token.toLowerCase() === 'base') previous = 'base';
  }
  return true;
}
