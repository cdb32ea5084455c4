import type { Effect, GroupEffect, UserEffect } from '../../src/translate/effects.js';
import type { PackageMetadata, ScriptEffects } from '../types.js';
import { asDeb, controlFile, type DebMetadata } from './debMetadata.js';
import { parseAlternativeInstalls } from './updateAlternatives.js';

const CA_STORE = 'usr/share/ca-certificates/';

/** Files whose content a recognized effect needs; unpack keeps a copy of them in the metadata. */
export function isCapturedForEffects(path: string): boolean {
  return (path.startsWith('usr/share/base-passwd/') && path.endsWith('.master')) || (path.startsWith(CA_STORE) && path.endsWith('.crt'));
}

/**
 * Shell words that do not change the installed system on a fresh install (control flow, tests,
 * messages, debconf talk). Anything else a maintainer script calls and we do not translate is
 * reported, so a user sees exactly what the image may be missing.
 */
const INERT = new Set([
  'if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'while', 'until', 'do', 'done', 'in', 'function',
  'set', 'echo', 'printf', 'test', '[', '[[', ']', ']]', 'true', 'false', ':', 'exit', 'return', 'local', 'shift',
  'export', 'unset', 'readonly', 'break', 'continue', 'trap', '.', 'source', 'command', 'which', 'type', 'eval',
  'read', 'wait', 'cat', 'grep', 'sed', 'awk', 'cut', 'tr', 'head', 'tail', 'sort', 'uniq', 'basename', 'dirname',
  'readlink', 'realpath', 'getent', 'id', 'dpkg', 'dpkg-query', 'db_get', 'db_set', 'db_input', 'db_go',
  'db_stop', 'db_purge', 'db_fset', 'db_fget', 'db_version', 'db_capb', 'db_title', 'db_reset', 'db_register',
  'db_unregister', 'db_subst', 'db_metaget', 'db_x_loadtemplatefile', 'dpkg-trigger', 'deb-systemd-invoke',
  'invoke-rc.d', 'systemctl', 'deb-systemd-helper', 'update-rc.d', 'dpkg-maintscript-helper', '}', '{', ';;',
  'else', 'esac;', 'fi;', '!', 'env', 'sh', 'exec', 'ls', 'stat', 'find', 'xargs', 'sleep', 'umask', 'cd',
]);

/** Recognize what a .deb's maintainer scripts would do on a fresh install. */
export function debScriptEffects(pkg: PackageMetadata): ScriptEffects {
  const meta = asDeb(pkg);
  const effects: Effect[] = [];
  const untranslated: string[] = [];
  for (const script of ['preinst', 'postinst'] as const) {
    const text = controlFile(meta, script);
    if (text === undefined) continue;
    if (!/^#!\s*\/bin\/(ba|da)?sh/.test(text)) {
      untranslated.push(`${script}: not a shell script (${text.slice(0, 40).split('\n')[0]}); its effects are unknown`);
      continue;
    }
    const recognized = new Set<string>();
    for (const install of parseAlternativeInstalls(text)) {
      effects.push({ kind: 'alternative', ...install });
      recognized.add('update-alternatives');
    }
    const seeded = seedAccountsFromMaster(meta, text);
    if (seeded.length) {
      effects.push(...seeded);
      recognized.add('cp');
      recognized.add('update-passwd');
    }
    if (/(^|[\s;])update-ca-certificates\b/m.test(text)) {
      effects.push({ kind: 'ca-bundle', certificates: capturedCertificates(meta) });
      recognized.add('update-ca-certificates');
    }
    // pwconv/grpconv: the translation always writes shadow and gshadow beside passwd and group.
    if (/shadowconfig on/.test(text)) recognized.add('shadowconfig');
    const rest = commandsOf(text).filter((c) => !INERT.has(c) && !recognized.has(c) && !isFunctionCall(text, c));
    if (rest.length) untranslated.push(`${script}: ${[...new Set(rest)].sort().join(', ')}`);
  }
  return { effects, untranslated };
}

/** base-passwd's postinst copies its master files when /etc/passwd and /etc/group do not exist. */
function seedAccountsFromMaster(meta: DebMetadata, script: string): (UserEffect | GroupEffect)[] {
  const out: (UserEffect | GroupEffect)[] = [];
  const re = /cp\s+(?:-p\s+)?"?\$DPKG_ROOT\/(usr\/share\/[^"\s]+\.master)"?\s+"?\$DPKG_ROOT\/etc\/(passwd|group)"?/g;
  for (const m of script.matchAll(re)) {
    const content = meta.captured[m[1]!];
    if (content === undefined) continue;
    const lines = Buffer.from(content, 'base64').toString('utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    for (const line of lines) {
      const f = line.split(':');
      if (m[2] === 'passwd' && f.length >= 7) {
        out.push({ kind: 'user', name: f[0]!, password: f[1]!, uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]! });
      } else if (m[2] === 'group' && f.length >= 4) {
        out.push({ kind: 'group', name: f[0]!, password: f[1]!, gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] });
      }
    }
  }
  return out;
}

function capturedCertificates(meta: DebMetadata): { relPath: string; content: string }[] {
  return Object.keys(meta.captured)
    .filter((p) => p.startsWith(CA_STORE))
    .sort()
    .map((p) => ({ relPath: p.slice(CA_STORE.length), content: Buffer.from(meta.captured[p]!, 'base64').toString('utf8') }));
}

/** The first word of every simple command, after joining continuation lines and dropping comments. */
function commandsOf(script: string): string[] {
  const joined = script.replace(/\\\n/g, ' ');
  const out: string[] = [];
  for (const rawLine of joined.split('\n')) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    for (const part of line.split(/&&|\|\||;|\||\bthen\b|\bdo\b|\belse\b|`|\$\(/)) {
      const words = part.trim().replace(/^[({]\s*/, '').split(/\s+/);
      let word = words[0] ?? '';
      // Skip variable assignments ("FOO=bar cmd") to reach the command itself.
      for (let i = 1; /^[A-Za-z_][A-Za-z0-9_]*=/.test(word) && i <= words.length; i++) word = words[i] ?? '';
      word = word.replace(/^"|"$/g, '');
      if (!word || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word.startsWith('$') || word.startsWith('-') || /^[)"'>&<0-9]/.test(word)) continue;
      if (/^[A-Za-z_][A-Za-z0-9_-]*\)$/.test(word) || word.endsWith(')')) continue; // case labels
      out.push(word.replace(/^.*\//, ''));
    }
  }
  return out;
}

function isFunctionCall(script: string, name: string): boolean {
  return new RegExp(`(^|\\n)\\s*(function\\s+)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\(\\)`).test(script);
}
