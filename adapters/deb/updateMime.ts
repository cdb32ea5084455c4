/**
 * mailcap's update-mime: /etc/mailcap made from every package's /usr/lib/mime/packages entries
 * and the MIME types of its .desktop files, ordered by priority and /etc/mailcap.order, below the
 * template's header and user section. On a fresh image every package is there, which is what
 * update-mime's dpkg trigger leaves after the last one. Checked against the real update-mime
 * (test).
 */
import type { Effect } from '../../src/translate/effects.js';
import type { PackageMetadata } from '../types.js';
import { capturedText } from './capturedFile.js';
import { asDeb } from './debMetadata.js';
import type { CommandResult } from './serviceCommands.js';

const MIME_DIR = 'usr/lib/mime/packages/';
const APPS_DIR = 'usr/share/applications/';
const TEMPLATE = 'usr/lib/mime/mailcap';
const ORDER_FILE = 'etc/mailcap.order';
const DEFAULT_PRIORITY = 5;

/** What unpack keeps for update-mime. */
export function isMimeInput(rel: string): boolean {
  return (rel.startsWith(MIME_DIR) && !rel.slice(MIME_DIR.length).includes('/')) || (rel.startsWith(APPS_DIR) && rel.endsWith('.desktop')) || rel === TEMPLATE || rel === ORDER_FILE;
}

interface Entry {
  text: string;
  pkg: string;
  priority: number;
}

export function updateMime(args: string[], packages: readonly PackageMetadata[]): CommandResult {
  if (args.some((a) => a !== '--triggered')) return { unrecognized: `update-mime ${args.join(' ')}` };
  const template = capturedText(packages, TEMPLATE);
  if (template === undefined) return { unrecognized: `update-mime: no package in the image ships /${TEMPLATE}` };
  const paths = [...new Set(packages.flatMap((p) => asDeb(p).paths))];
  const entries: Entry[] = [];
  const named = new Set<string>();
  // Perl's glob sorts names; a name starting with . or #, or ending with ~, is skipped.
  const skip = (name: string) => /^[.#]|~$/.test(name);
  for (const rel of paths.filter((p) => p.startsWith(MIME_DIR) && !p.slice(MIME_DIR.length).includes('/')).sort()) {
    const pkg = rel.slice(MIME_DIR.length);
    if (skip(pkg)) continue;
    named.add(pkg);
    const text = capturedText(packages, rel);
    if (text === undefined) return { unrecognized: `update-mime: /${rel} was not kept by unpack` };
    for (const line of text.split('\n')) {
      if (/^\s*$|^\s*#/.test(line)) continue;
      const m = /priority\s*=\s*(\d+)\s*($|;)/i.exec(line);
      const p = m ? Number(m[1]) : DEFAULT_PRIORITY;
      entries.push({ text: line, pkg, priority: p < 0 || p > 9 ? DEFAULT_PRIORITY : p });
    }
  }
  for (const rel of desktopFiles(paths)) {
    const pkg = rel.slice(rel.lastIndexOf('/') + 1, -'.desktop'.length);
    if (skip(rel.slice(rel.lastIndexOf('/') + 1)) || named.has(pkg)) continue;
    named.add(pkg);
    const text = capturedText(packages, rel);
    if (text === undefined) return { unrecognized: `update-mime: /${rel} was not kept by unpack` };
    for (const e of desktopEntries(text, pkg)) entries.push({ text: e, pkg, priority: DEFAULT_PRIORITY });
  }
  const order = (capturedText(packages, ORDER_FILE) ?? '')
    .split('\n')
    .map((l) => l.replace(/\s*#.*$/, ''))
    .filter((l) => !/^\s*$/.test(l));
  const listed = orderEntries(entries, order);
  const content = mailcapText(template, listed);
  const effect: Effect = { kind: 'file', path: '/etc/mailcap', mode: 0o644, user: 'root', group: 'root', content: Buffer.from(content).toString('base64'), ifMissing: false };
  return { effects: [effect] };
}

/** RecurseIntoDirectories: each directory's subdirectories (recursively) first, then its files, sorted. */
function desktopFiles(paths: string[]): string[] {
  const under = paths.filter((p) => p.startsWith(APPS_DIR) && p.endsWith('.desktop'));
  const walk = (dir: string): string[] => {
    const here = under.filter((p) => p.startsWith(dir) && !p.slice(dir.length).includes('/')).sort();
    const subdirs = [...new Set(under.filter((p) => p.startsWith(dir) && p.slice(dir.length).includes('/')).map((p) => p.slice(dir.length).split('/')[0]!))].sort();
    return [...subdirs.filter((d) => !/^[.#]|~$/.test(d)).flatMap((d) => walk(`${dir}${d}/`)), ...here];
  };
  return walk(APPS_DIR);
}

/** A .desktop file's [Desktop Entry] as mailcap entries, one per MimeType. */
function desktopEntries(text: string, pkg: string): string[] {
  let terminal = 'test=test -n "$DISPLAY"';
  let name = pkg;
  let icon: string | undefined;
  let exec: string | undefined;
  const types: string[] = [];
  let inGroup = false;
  for (const line of text.split('\n')) {
    if (/^\s*$|^\s*#/.test(line)) continue;
    if (line === '[Desktop Entry]') {
      inGroup = true;
      continue;
    }
    if (/^\[.*\]$/.test(line)) {
      inGroup = false;
      continue;
    }
    if (!inGroup) continue;
    let m: RegExpExecArray | null;
    if ((m = /^Terminal=(\w+)/i.exec(line))) {
      if (m[1] === 'true') terminal = 'needsterminal';
    } else if ((m = /^Name=(.+)/i.exec(line))) name = m[1]!;
    else if ((m = /^Icon=(.+)/i.exec(line))) icon = m[1]!;
    else if ((m = /Exec=(.*)$/i.exec(line))) {
      exec = m[1]!.replace(/%[fFuU]/g, '%s');
      if (!exec.includes('%s')) exec += ' %s';
    } else if ((m = /MimeType=(.*)/i.exec(line))) types.push(...m[1]!.split(/\s*;\s*/).filter((t) => t.length > 0));
  }
  if (exec === undefined || !types.length) return [];
  const command = exec.replace(/%c/g, name).replace(/%i/g, `--icon ${icon ?? ''}`);
  return types.map((t) => `${t}; ${command}; ${terminal}`);
}

/** OrderEntries: by priority, highest first, wildcard types after exact ones; then mailcap.order's picks first. */
function orderEntries(entries: Entry[], order: string[]): Entry[] {
  const wild = (e: Entry) => (/^\S+\/\*/.test(e.text) ? 1 : 0) + (/^\*\//.test(e.text) ? 2 : 0);
  const byPriority = [...new Set(entries.map((e) => e.priority))].sort((a, b) => b - a);
  // Array.prototype.sort is stable, as Perl's merge sort is.
  const list = byPriority.flatMap((p) => entries.filter((e) => e.priority === p).sort((a, b) => wild(a) - wild(b)));
  const picked: Entry[] = [];
  for (const code of order) {
    const m = /^(.*):(\S*)/.exec(code);
    const pkg = m ? m[1]! : code;
    const type = (m ? m[2] : '') || '*/*';
    // As update-mime does: `*` becomes `.*`, the rest is a regular expression as written.
    let re: RegExp;
    try {
      re = new RegExp(`^${type.replace(/\*/g, '.*')}$`);
    } catch {
      continue;
    }
    for (const e of list) {
      if (picked.includes(e) || e.pkg !== pkg) continue;
      const etype = /^(.*?)(;|\s)/.exec(e.text)?.[1] ?? '';
      if (re.test(etype)) picked.push(e);
    }
  }
  return [...picked, ...list.filter((e) => !picked.includes(e))];
}

/** UpdateMailcap: the template up to its "User Section Ends" line, a rule, then the entries. */
function mailcapText(template: string, entries: Entry[]): string {
  const lines = template.split(/(?<=\n)/);
  let state = 0;
  let head = '';
  for (const raw of lines) {
    const line = raw.replace(/install-mime/g, 'update-mime');
    if (state === 0) head += line;
    if (state === 1 && /^# ----- .* Ends /.test(line)) state = 2;
    if (state === 1) head += line;
    if (state === 0 && /^# ----- .* Begins /.test(line)) state = 1;
    if (state === 2) {
      head += line;
      break;
    }
  }
  let out = `${head}\n###############################################################################\n\n`;
  for (const e of entries) out += `${e.text.replace(/\s*priority\s*=\s*\d+\s*($|;)/, '').replace(/\s*;\s*$/, '')}\n`;
  return out;
}
