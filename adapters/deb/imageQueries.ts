/**
 * Questions a script asks about the image and edits it makes to files' text, answered from what
 * the packages ship and what earlier scripts made: `dpkg-query -S`, `grep … FILE`,
 * `find … -delete`, `sed -i`.
 */
import { createHash } from 'node:crypto';
import type { Effect } from '../../src/translate/effects.js';
import { parseGrep } from '../shell/grepText.js';
import { sedInPlace, sedOfFiles } from '../shell/sedScript.js';
import type { PackageMetadata, ScriptContext } from '../types.js';
import { asDeb } from './debMetadata.js';
import type { CommandResult } from './serviceCommands.js';

/** A file's text as a script finds it, with the mode and owner an edit keeps. */
export interface KnownText {
  text: string;
  mode: number;
  user: string;
  group: string;
}

/**
 * `dpkg-query -S /PATH` (no wildcard): whether a package of the image lists exactly that path,
 * as dpkg's database would answer once everything is unpacked.
 */
export function ownedBy(name: string, words: string[], packages: readonly PackageMetadata[]): boolean | undefined {
  const [flag, p, ...rest] = words;
  if (name !== 'dpkg-query' || (flag !== '-S' && flag !== '--search') || p === undefined || rest.length || !p.startsWith('/') || /[*?[\]]/.test(p)) return undefined;
  const wanted = p.replace(/(.)\/+$/, '$1');
  return packages.some((x) => asDeb(x).files.includes(wanted));
}

/** `grep … FILE` of a file whose text the script would find. */
export function grepOfFile(name: string, words: string[], textOf: (file: string) => string | undefined): boolean | undefined {
  if (name !== 'grep' && name !== 'egrep' && name !== 'fgrep') return undefined;
  const grep = parseGrep(name, words);
  const text = grep?.file === undefined ? undefined : textOf(grep.file);
  return text === undefined ? undefined : grep!.test(text);
}

/**
 * `md5sum -c` of a list given as input (nfs-common checks whether /etc/default files are still
 * the shipped ones): true when every listed file there has its sum, false when one differs or,
 * with --ignore-missing, none is there to check; undefined when a file's text is not known.
 */
export function md5sumCheck(name: string, words: string[], stdin: string | undefined, image: Pick<ScriptContext, 'pathType'>, textOf: (file: string) => string | undefined): boolean | undefined {
  if (name !== 'md5sum' || stdin === undefined) return undefined;
  const flags = new Set(words);
  if (!(flags.has('-c') || flags.has('--check')) || words.some((w) => !/^(-c|--check|--status|--quiet|--ignore-missing|--strict|-)$/.test(w))) return undefined;
  let verified = 0;
  for (const line of stdin.split('\n').filter((l) => l.trim() !== '')) {
    const m = /^([0-9a-f]{32}) [ *](\/.*)$/.exec(line);
    if (!m) return undefined;
    const [, sum, file] = m as unknown as [string, string, string];
    if (image.pathType(file) === 'absent') {
      if (!flags.has('--ignore-missing')) return false;
      continue;
    }
    const text = textOf(file);
    if (text === undefined) return undefined;
    if (createHash('md5').update(text).digest('hex') !== sum) return false;
    verified++;
  }
  return verified > 0;
}

/** What `sed SCRIPT FILE…` prints, for files whose text is known (in a `$(…)`). */
export function sedOutput(words: string[], textOf: (file: string) => string | undefined): string | undefined {
  if (words[0] !== 'sed') return undefined;
  const edit = sedOfFiles(words.slice(1));
  if (typeof edit === 'string') return undefined;
  const texts = edit.files.map((f) => (f.startsWith('/') ? textOf(f) : undefined));
  return texts.every((t): t is string => t !== undefined) ? edit.apply(texts.join('')) : undefined;
}

/** `sed -i …` of files whose text is known: the edited files, mode and owner kept. */
export function sedEdits(args: string[], textOf: (abs: string) => KnownText | undefined): CommandResult {
  const edit = sedInPlace(args);
  if (typeof edit === 'string') return { unrecognized: edit };
  const effects: Effect[] = [];
  for (const f of edit.files) {
    const was = f.startsWith('/') ? textOf(f) : undefined;
    if (was === undefined) return { unrecognized: `sed -i ${f}: its text is not known before the script runs` };
    effects.push({ kind: 'file', path: f, mode: was.mode, user: was.user, group: was.group, content: Buffer.from(edit.apply(was.text)).toString('base64'), ifMissing: false });
  }
  return { effects };
}

/**
 * `find DIR -maxdepth 1 [-type d|f] -name PATTERN [-empty] -delete` where nothing in DIR (as the
 * packages and earlier scripts left it) matches: it deletes nothing.
 */
export function findMatchesNothing(args: string[], globOf: (pattern: string) => string[] | undefined, pathType: ScriptContext['pathType']): boolean {
  const [dir, ...rest] = args;
  if (dir === undefined || !dir.startsWith('/')) return false;
  let name: string | undefined;
  let type: string | undefined;
  let depthOne = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '-maxdepth' && rest[i + 1] === '1') {
      depthOne = true;
      i++;
    } else if (a === '-mindepth' && rest[i + 1] === '1') i++;
    else if (a === '-type' && /^[df]$/.test(rest[i + 1] ?? '')) type = rest[++i];
    else if (a === '-name' && rest[i + 1] !== undefined && !rest[i + 1]!.includes('/')) name = rest[++i];
    else if (a !== '-empty' && a !== '-delete') return false;
  }
  if (name === undefined || !depthOne) return false;
  const path = `${dir.replace(/\/+$/, '')}/${name}`;
  const found = /[*?[]/.test(name) ? globOf(path) : [path];
  if (found === undefined) return false;
  const existing = found.filter((f) => pathType(f) !== 'absent' && !/[*?[]/.test(f.slice(f.lastIndexOf('/') + 1)));
  return existing.every((f) => (type === 'd' ? pathType(f) !== 'directory' : type === 'f' ? pathType(f) !== 'file' : false));
}
