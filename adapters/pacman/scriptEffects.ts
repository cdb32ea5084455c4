import type { Effect } from '../../src/translate/effects.js';
import { fileCommandEffects } from '../fileCommands.js';
import { ARCH_SHADOW_DEFAULTS, applyUserUpdate, parseGpasswd, parseGroupadd, parseUseradd, parseUsermod } from '../shadowCommands.js';
import { invocation } from '../shell/invocation.js';
import { followScript } from '../shell/callOrder.js';
import { knownVariables, type ScriptEnv } from '../shell/scriptConditions.js';
import { commandWords } from '../shell/shellCommands.js';
import type { PackageMetadata, ScriptContext, ScriptEffects } from '../types.js';
import { asPacman } from './pacmanMetadata.js';
import { capturedFilesUnder } from '../capturedFiles.js';

/** The .INSTALL functions pacman runs on a fresh install; upgrade and removal ones never run here. */
const INSTALL_FUNCTIONS = ['pre_install', 'post_install'] as const;
const SYSUSERS_DIR = 'usr/lib/sysusers.d/';
const TMPFILES_DIR = 'usr/lib/tmpfiles.d/';
const HOOKS_DIR = 'usr/share/libalpm/hooks/';

/** Commands that change nothing in the image: control flow, messages, queries, a running system's services. */
const INERT = new Set([
  '[', '[[', 'test', 'echo', 'printf', 'true', 'false', ':', 'exit', 'return', 'set', 'local', 'export', 'unset',
  'cat', 'grep', 'getent', 'id', 'readlink', 'dirname', 'basename', 'vercmp', 'udevadm',
]);

/**
 * systemctl verbs that only talk to a running manager; there is none while building. `enable`,
 * `preset` and friends leave links behind, so they are reported like any other command.
 */
const RUNTIME_SYSTEMCTL = new Set(['daemon-reload', 'daemon-reexec', 'start', 'stop', 'restart', 'try-restart', 'reload', 'reload-or-restart', 'try-reload-or-restart', 'is-active', 'is-enabled', 'is-system-running', 'status', 'show']);

function isInert(name: string, args: string[]): boolean {
  if (name === 'systemctl') return RUNTIME_SYSTEMCTL.has(args.find((a) => !a.startsWith('-')) ?? '');
  return INERT.has(name);
}

/**
 * What a package's .INSTALL would do on install (pre_install, post_install, and the functions
 * they call), read with the shell reader: useradd/groupadd/usermod/gpasswd as shadow does them on
 * Arch, systemd-sysusers / systemd-tmpfiles on the package's files, and the file commands. The
 * alpm hooks a package ships run for the whole transaction: systemd's sysusers and tmpfiles
 * hooks become those tools on every package's files; any other hook is reported.
 */
export function pacmanScriptEffects(pkg: PackageMetadata, image: ScriptContext): ScriptEffects {
  const meta = asPacman(pkg);
  const effects: Effect[] = [];
  const untranslated: string[] = [];
  const files = meta.effectFiles ?? {};
  const text = (rel: string) => (files[rel] === undefined ? undefined : Buffer.from(files[rel]!, 'base64').toString('utf8'));
  if (['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'].some((f) => files[f] !== undefined)) {
    effects.push({ kind: 'account-files', passwd: text('etc/passwd'), group: text('etc/group'), shadow: text('etc/shadow'), gshadow: text('etc/gshadow') });
  }
  const scripts: string[] = [];
  if (meta.install !== undefined) {
    const install = Buffer.from(meta.install, 'base64').toString('utf8');
    const parsed = commandWords(install);
    // libalpm runs `sh -c ". .INSTALL; post_install VERSION"`: top-level code runs too, with no $1.
    const entries = [...(parsed.commands.some((c) => c.function === undefined) ? [undefined] : []), ...INSTALL_FUNCTIONS.filter((fn) => parsed.functions.includes(fn))];
    const base: ScriptEnv = { args: [], variables: knownVariables(install, parsed, { args: [], variables: {} }), pathType: image.pathType };
    for (const fn of entries) {
      const shownScript = fn === undefined ? '.INSTALL' : `.INSTALL ${fn}`;
      scripts.push(shownScript);
      const ctx: ScriptContext = fn === 'pre_install' ? { ...image, pathType: image.pathTypeBeforeUnpack } : image;
      // pacman calls the function with the new version.
      const entry = fn === undefined ? undefined : { function: fn, args: [meta.version] };
      const { commands, envOf } = followScript(install, parsed, { ...base, pathType: ctx.pathType }, { entry });
      for (const c of commands) {
        const inv = invocation(c, envOf(c));
        if (inv === undefined || isInert(inv.name, inv.args)) continue;
        recognizeInto(inv.name, inv.args, ctx, effects, untranslated, `${shownScript}: ${c.raw.join(' ')}`);
      }
    }
  }
  effects.push(...hookEffects(meta.name, files, image, untranslated));
  return { effects, untranslated, scripts };
}

function recognizeInto(name: string, args: string[], ctx: ScriptContext, effects: Effect[], untranslated: string[], shown: string): void {
  const accounts = { homeExists: (p: string) => ctx.pathType(p) === 'directory' };
  if (name === 'usermod') {
    const r = parseUsermod(args);
    if ('unrecognized' in r) untranslated.push(`${shown} (${r.unrecognized})`);
    else {
      effects.push(...r.effects);
      if (r.update && !applyUserUpdate(effects, r.update)) untranslated.push(`${shown} (an account this script did not create)`);
    }
    return;
  }
  const result =
    name === 'useradd' ? parseUseradd(args, ARCH_SHADOW_DEFAULTS, accounts)
    : name === 'groupadd' ? parseGroupadd(args, ARCH_SHADOW_DEFAULTS)
    : name === 'gpasswd' ? parseGpasswd(args)
    : name === 'systemd-sysusers' ? configFiles(args, ctx, SYSUSERS_DIR, 'sysusers')
    : name === 'systemd-tmpfiles' && args.includes('--create') ? configFiles(args.filter((a) => a !== '--create'), ctx, TMPFILES_DIR, 'tmpfiles')
    : fileCommandEffects(name, args, ctx, effects);
  if (result === undefined) untranslated.push(shown);
  else if ('unrecognized' in result) untranslated.push(`${shown} (${result.unrecognized})`);
  else {
    effects.push(...result.effects);
    if ('note' in result && result.note) untranslated.push(`${shown} (${result.note})`);
  }
}

/** sysusers.d / tmpfiles.d files by basename (or all of them), from any package of the image. */
function configFiles(args: string[], ctx: ScriptContext, dir: string, kind: 'sysusers' | 'tmpfiles'): { effects: Effect[] } | { unrecognized: string } {
  if (args.some((a) => a.startsWith('-'))) return { unrecognized: `option ${args.find((a) => a.startsWith('-'))} is not understood` };
  const all = allFiles(ctx.packages, dir);
  const chosen = args.length ? args.map((a) => (a.includes('/') ? a.replace(/^\/+/, '') : `${dir}${a}`)) : [...all.keys()];
  const missing = chosen.find((rel) => !all.has(rel));
  if (missing !== undefined) return { unrecognized: `no package in the image ships /${missing}` };
  return { effects: chosen.map((rel) => ({ kind, file: `/${rel}`, text: all.get(rel)! })) };
}

function allFiles(packages: PackageMetadata[], dir: string): Map<string, string> {
  return capturedFilesUnder(packages.map((p) => asPacman(p).effectFiles), dir);
}

/**
 * The alpm hooks this package ships, run once for the transaction: systemd's sysusers and
 * tmpfiles hooks (Exec naming systemd-sysusers / systemd-tmpfiles, directly or through
 * systemd-hook) apply every package's files; other hooks are reported.
 */
function hookEffects(name: string, files: Record<string, string>, image: ScriptContext, untranslated: string[]): Effect[] {
  const effects: Effect[] = [];
  for (const rel of Object.keys(files).filter((f) => f.startsWith(HOOKS_DIR)).sort()) {
    const exec = /^\s*Exec\s*=\s*(.*)$/m.exec(Buffer.from(files[rel]!, 'base64').toString('utf8'))?.[1]?.trim() ?? '';
    if (/systemd-sysusers|systemd-hook sysusers/.test(exec)) {
      for (const [f, text] of allFiles(image.packages, SYSUSERS_DIR)) effects.push({ kind: 'sysusers', file: `/${f}`, text });
    } else if (/systemd-tmpfiles|systemd-hook tmpfiles/.test(exec)) {
      for (const [f, text] of allFiles(image.packages, TMPFILES_DIR)) effects.push({ kind: 'tmpfiles', file: `/${f}`, text });
    } else {
      untranslated.push(`alpm hook /${rel} of ${name}: ${exec}`);
    }
  }
  return effects;
}
