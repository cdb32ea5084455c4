import type { Effect } from '../../src/translate/effects.js';
import { fileCommandEffects, type FileCommandResult } from '../fileCommands.js';
import { invocation } from '../shell/invocation.js';
import { followScript } from '../shell/callOrder.js';
import { knownVariables, type ScriptEnv } from '../shell/scriptConditions.js';
import { commandWords } from '../shell/shellCommands.js';
import type { PackageMetadata, ScriptContext, ScriptEffects } from '../types.js';
import { asApk } from './apkMetadata.js';
import { parseBusyboxAddgroup, parseBusyboxAdduser } from './busyboxAccounts.js';
import { rcUpdate, type OpenrcResult } from './openrcCommands.js';

/** The scripts apk runs on a fresh install, in order; upgrade and removal scripts never run here. */
const INSTALL_SCRIPTS = ['.pre-install', '.post-install', '.trigger'] as const;

/** Commands that change nothing in the image: the script's own control flow, messages and queries. */
const INERT = new Set([
  '[', 'test', 'echo', 'printf', 'true', 'false', ':', 'exit', 'return', 'set', 'shift', 'local', 'export', 'unset',
  'cat', 'grep', 'readlink', 'dirname', 'basename', 'awk', 'cut', 'head', 'tail', 'sort', 'id', 'getent', 'stat',
  // Services of a running system: there is none while building (rc-update, which leaves links, is recognized).
  'rc-service', 'openrc',
]);

/** sed edits files only with -i; otherwise it is a filter like the others. */
function isInert(name: string, args: string[]): boolean {
  if (name === 'sed') return !args.some((a) => /^-[^-]*i/.test(a) || a.startsWith('--in-place'));
  return INERT.has(name);
}

/**
 * What a package's install scripts would do on a fresh install (`.pre-install VERSION`, then
 * `.post-install VERSION`, and `.trigger` with the changed directories), read with the shell
 * reader: busybox's `--install -s` (links from the applet table unpack read out of the binary),
 * `addgroup`/`adduser` as busybox implements them, and the file commands. Every other command
 * that can run is reported, with its words as written.
 */
export function apkScriptEffects(pkg: PackageMetadata, image: ScriptContext): ScriptEffects {
  const meta = asApk(pkg);
  const effects: Effect[] = [];
  const untranslated: string[] = [];
  if (meta.accountFiles) {
    const f = meta.accountFiles;
    effects.push({ kind: 'account-files', passwd: f['etc/passwd'], group: f['etc/group'], shadow: f['etc/shadow'] });
  }
  const scripts = INSTALL_SCRIPTS.filter((s) => meta.scripts[s] !== undefined);
  let linked = false;
  for (const script of scripts) {
    const text = Buffer.from(meta.scripts[script]!, 'base64').toString('utf8');
    // .pre-install runs before the package's files are unpacked.
    const ctx: ScriptContext = script === '.pre-install' ? { ...image, pathType: image.pathTypeBeforeUnpack } : image;
    const parsed = commandWords(text);
    // A trigger gets the directories that changed: not known here.
    const args = script === '.trigger' ? [] : [meta.version];
    const env: ScriptEnv = { args, argsUnknown: script === '.trigger', variables: knownVariables(text, parsed, { args, variables: {} }), pathType: ctx.pathType };
    // Helpers (alpine-baselayout defines some) run where they are called, with that call's words.
    const { commands, envOf } = followScript(text, parsed, env);
    for (const c of commands) {
      const inv = invocation(c, envOf(c));
      if (inv === undefined || isInert(inv.name, inv.args)) continue;
      const shown = `${script}: ${c.raw.join(' ')}`;
      if (inv.name === 'busybox' && inv.args[0] === '--install') {
        if (inv.args.join(' ') !== '--install -s' || !meta.busyboxApplets) untranslated.push(shown);
        else if (!linked) effects.push(...appletLinks(meta.busyboxApplets));
        linked = true;
        continue;
      }
      const result = recognize(inv.name, inv.args, ctx, effects);
      if (result === undefined) untranslated.push(shown);
      else if ('unrecognized' in result) untranslated.push(`${shown} (${result.unrecognized})`);
      else {
        effects.push(...result.effects);
        if ('note' in result && result.note) untranslated.push(`${shown} (${result.note})`);
      }
    }
  }
  return { effects, untranslated, scripts };
}

function recognize(name: string, args: string[], ctx: ScriptContext, earlier: readonly Effect[]): FileCommandResult | OpenrcResult | ReturnType<typeof parseBusyboxAdduser> | undefined {
  if (name === 'addgroup') return parseBusyboxAddgroup(args);
  if (name === 'rc-update') return rcUpdate(args, ctx);
  if (name === 'adduser') return parseBusyboxAdduser(args);
  return fileCommandEffects(name, args, ctx, earlier);
}

/** As `busybox --install -s` makes them: absolute links to /bin/busybox, never over a file. */
function appletLinks(applets: string[]): Effect[] {
  return applets.map((rel) => ({ kind: 'symlink', path: `/${rel}`, target: '/bin/busybox', ifMissing: true }));
}
