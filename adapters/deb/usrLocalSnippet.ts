/**
 * debhelper's dh_usrlocal postinst snippet, recognized as a whole: a subshell that reads
 * "DIR MODE USER GROUP" lines (or "DIR default") from a heredoc and makes each directory under
 * /usr/local that is not there yet. The reader does not follow `while read` loops or `set --`,
 * so the block is matched as debhelper writes it (autoscripts/postinst-usrlocal) and its data
 * lines become directory effects.
 */
import type { FilesystemEffect } from '../../src/translate/effects.js';
import type { ShellCommand, ShellScript } from '../shell/shellCommands.js';
import type { ScriptContext } from '../types.js';

/** The snippet, whitespace aside, up to its heredoc's data. */
const SNIPPET = [
  '(',
  'default_mode=0755',
  'default_user=root',
  'default_group=root',
  'if [ -e /etc/staff-group-for-usr-local ]; then',
  'default_mode=02775',
  'default_group=staff',
  'fi',
  'while read line; do',
  'set -- $line',
  'dir="$1"; mode="$2"; user="$3"; group="$4"',
  'if [ "$mode" = "default" ]; then',
  'mode="$default_mode"',
  'user="$default_user"',
  'group="$default_group"',
  'fi',
  'if [ ! -e "$dir" ]; then',
  'if mkdir "$dir" 2>/dev/null; then',
  'if chown "$user":"$group" "$dir" ; then',
  'chmod "$mode" "$dir" || true',
  'fi',
  'fi',
  'fi',
  'done',
  ') << DATA',
];

export interface UsrLocalBlock {
  effects: FilesystemEffect[];
  /** The block's commands, accounted for by the effects. */
  handled: Set<ShellCommand>;
  /** A command before the data whose guards decide whether the block runs. */
  first: ShellCommand;
}

export function recognizeUsrLocal(text: string, script: ShellScript, ctx: Pick<ScriptContext, 'pathType'>): UsrLocalBlock | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l, i) => SNIPPET.every((s, k) => lines[i + k]?.trim() === s));
  if (start < 0) return undefined;
  const dataStart = start + SNIPPET.length;
  const dataEnd = lines.indexOf('DATA', dataStart);
  if (dataEnd < 0) return undefined;
  // 1-based line numbers of the block, heredoc data included.
  const inBlock = (line: number) => line > start && line <= dataEnd + 1;
  const handled = new Set(script.commands.filter((c) => inBlock(c.line)));
  const first = [...handled].sort((a, b) => a.line - b.line)[0];
  if (first === undefined) return undefined;
  const staff = ctx.pathType('/etc/staff-group-for-usr-local') !== 'absent';
  const made = new Set<string>();
  const effects: FilesystemEffect[] = [];
  for (const line of lines.slice(dataStart, dataEnd)) {
    const [dir, mode, user, group] = line.trim().split(/\s+/);
    if (!dir) continue;
    const given = mode === 'default' ? { mode: staff ? 0o2775 : 0o755, user: 'root', group: staff ? 'staff' : 'root' } : { mode: /^[0-7]{3,5}$/.test(mode ?? '') ? parseInt(mode!, 8) : NaN, user: user ?? '', group: group ?? '' };
    if (!dir.startsWith('/') || Number.isNaN(given.mode) || !given.user || !given.group) return undefined;
    // mkdir without -p: only where the parent is there; an existing path is left as it is.
    const parent = dir.slice(0, dir.lastIndexOf('/')) || '/';
    if (made.has(dir) || ctx.pathType(dir) !== 'absent') continue;
    if (!made.has(parent) && ctx.pathType(parent) !== 'directory') continue;
    made.add(dir);
    effects.push({ kind: 'directory', path: dir, ...given });
  }
  return { effects, handled, first };
}
