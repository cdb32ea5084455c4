/**
 * Files a script writes through a redirection, when what it writes is known before it runs:
 * `cat > /etc/hosts <<EOF … EOF` (netbase), `echo "…" > FILE` then `>> FILE` (ifupdown), an
 * empty heredoc (libwrap0's hosts.allow). Any format's scripts; the adapter expands the target.
 */
import type { Effect, FileEffect } from '../src/translate/effects.js';
import { echoText } from './shell/echoText.js';
import type { Redirect } from './shell/shellCommands.js';
import type { ScriptContext } from './types.js';

const TRUNCATE = /^1?(>|>\|)$/;
const APPEND = /^1?>>$/;
const DEVICES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);

export type WriteResult = { effects: FileEffect[]; redirect: Redirect } | { unrecognized: string; redirect: Redirect };

/**
 * The file effect of `name args > target`, or undefined when the command is not a plain writer
 * of known text with one output redirection. `target` expands a redirection's word (undefined
 * when not known); `earlier` are this package's effects so far, for `>>` after `>`.
 */
export function redirectWrite(
  name: string,
  args: string[],
  redirects: readonly Redirect[],
  target: (r: Redirect) => string | undefined,
  earlier: readonly Effect[],
  ctx: Pick<ScriptContext, 'pathType'>,
  /** Every word is known: a `$` or backquote in them is text, not an expansion left unknown. */
  argsKnown = false,
): WriteResult | undefined {
  const outs = redirects.filter((r) => TRUNCATE.test(r.op) || APPEND.test(r.op));
  const [out] = outs;
  if (outs.length !== 1 || out === undefined || redirects.some((r) => r !== out && /[>]/.test(r.op) && !/^2>/.test(r.op))) return undefined;
  const file = target(out);
  if (file === undefined || !file.startsWith('/') || DEVICES.has(file)) return undefined;
  const text = writtenText(name, args, redirects, argsKnown);
  if (text === undefined) return undefined;
  const before = [...earlier].reverse().find((e): e is FileEffect => e.kind === 'file' && e.path === file);
  let content = text;
  if (APPEND.test(out.op)) {
    if (before) content = Buffer.from(before.content, 'base64').toString('utf8') + text;
    else if (ctx.pathType(file) !== 'absent') return { unrecognized: `>>${file}: appending to a file a package ships`, redirect: out };
  }
  // A new file gets umask 022's 0644; writing into one keeps its mode and owner.
  const kept = before ? { mode: before.mode, user: before.user, group: before.group } : { mode: 0o644, user: 'root', group: 'root' };
  return { effects: [{ kind: 'file', path: file, ...kept, content: Buffer.from(content).toString('base64'), ifMissing: false }], redirect: out };
}

/** What `cat <<EOF`, `echo WORDS` or `:` write; undefined for anything else or text known only at run time. */
function writtenText(name: string, args: string[], redirects: readonly Redirect[], argsKnown: boolean): string | undefined {
  const doc = redirects.find((r) => r.heredoc)?.heredoc;
  if (name === 'cat' && args.length === 0 && doc) return doc.expands && /[$`\\]/.test(doc.body) ? undefined : doc.body;
  if (doc) return undefined;
  if (name === 'echo') return !argsKnown && args.some((a) => /[$`]/.test(a)) ? undefined : echoText(args);
  if ((name === ':' || name === 'true') && args.length === 0) return '';
  return undefined;
}
