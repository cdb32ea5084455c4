/**
 * base-files' postinst lays out part of the base system on a fresh install (`configure` with no
 * old version): default dotfiles and /etc/profile, /mnt /srv /opt /media, /var/mail, /run/lock,
 * the /var/run and /var/lock links, /usr/local, the login records. It does so through small
 * helper functions; their calls are translated only when the script defines each helper with the
 * body base-files uses, command for command — a changed helper is reported, never guessed at.
 */
import type { FileEffect, FilesystemEffect } from '../../src/translate/effects.js';
import type { DebMetadata } from './debMetadata.js';
import type { Redirect, ShellCommand, ShellScript } from '../shell/shellCommands.js';

/** The defaults install_from_default copies; unpack captures them for this translation. */
export const BASE_FILES_DEFAULTS = 'usr/share/base-files/';

export interface Recognized {
  effects: FilesystemEffect[];
  /** Commands (helper bodies, literal links) the effects account for. */
  handled: Set<ShellCommand>;
  /** Redirections the effects account for (ensure_file_owner_mode's `: >file`). */
  writes: Set<Redirect>;
}

interface Helper {
  /** The body, one simple command a line, quotes removed, as shape() prints it. */
  body: string[];
  /** The effects of one call with literal arguments; undefined when the call is not understood. */
  effects(args: string[], meta: DebMetadata): FilesystemEffect[] | undefined;
}

const ABSOLUTE = /^\/[^$`*?[\]\\\s]*$/;
const MODE = /^[0-7]{3,4}$/;
const ROOT_OWNED = { user: 'root', group: 'root' };

const HELPERS = new Map<string, Helper>([
  [
    'install_from_default',
    {
      body: ['[ ! -f $DPKG_ROOT$2 ]', 'cp -p $DPKG_ROOT/usr/share/base-files/$1 $DPKG_ROOT$2'],
      effects: ([name = '', target = '', ...rest], meta) => {
        const content = /^[\w.+-]+$/.test(name) ? meta.captured[`${BASE_FILES_DEFAULTS}${name}`] : undefined;
        if (rest.length || content === undefined || !ABSOLUTE.test(target)) return undefined;
        // cp -p keeps the default's mode and owner; base-files ships its defaults root 0644 (the
        // captured copy holds the bytes only).
        return [{ kind: 'file', path: target, mode: 0o644, ...ROOT_OWNED, content, ifMissing: true }];
      },
    },
  ],
  [
    'install_directory',
    {
      body: ['[ ! -d $DPKG_ROOT/$1 ]', 'mkdir $DPKG_ROOT/$1', 'chown root:$3 $DPKG_ROOT/$1', 'chmod $2 $DPKG_ROOT/$1'],
      effects: ([dir = '', mode = '', group = '', ...rest]) => {
        if (rest.length || !ABSOLUTE.test(`/${dir}`) || !MODE.test(mode) || !/^[\w.-]+$/.test(group)) return undefined;
        return [{ kind: 'directory', path: `/${dir}`, mode: parseInt(mode, 8), user: 'root', group }];
      },
    },
  ],
  [
    'migrate_directory',
    {
      // The packaged directory is removed and the link takes its place.
      body: ['[ ! -L $DPKG_ROOT$1 ]', 'rmdir $DPKG_ROOT$1', 'ln -s $2 $DPKG_ROOT$1'],
      effects: ([dir = '', target = '', ...rest]) => {
        if (rest.length || !ABSOLUTE.test(dir) || !ABSOLUTE.test(target)) return undefined;
        return [{ kind: 'symlink', path: dir, target, ifMissing: false }];
      },
    },
  ],
  [
    'install_local_dir',
    {
      // The staff-group branch needs /etc/staff-group-for-usr-local, which an administrator
      // creates (base-files ships it under /usr/share/base-files): absent on a fresh install.
      body: [
        '[ ! -d $DPKG_ROOT$1 ]',
        'mkdir -p $DPKG_ROOT$1',
        '[ -f $DPKG_ROOT/etc/staff-group-for-usr-local ]',
        'chown root:staff $DPKG_ROOT$1 2>/dev/null',
        'true',
        'chmod 2775 $DPKG_ROOT$1 2>/dev/null',
        'true',
      ],
      effects: ([dir = '', ...rest], meta) => {
        if (rest.length || !ABSOLUTE.test(dir) || meta.paths.includes('etc/staff-group-for-usr-local')) return undefined;
        // mkdir under the 022 umask dpkg runs scripts with.
        return [{ kind: 'directory', path: dir, mode: 0o755, ...ROOT_OWNED }];
      },
    },
  ],
  [
    'ensure_file_owner_mode',
    {
      body: ['[ ! -f $DPKG_ROOT$1 ]', ': >$DPKG_ROOT$1', 'chown $2 $DPKG_ROOT$1', 'chmod $3 $DPKG_ROOT$1'],
      effects: ([file = '', owner = '', mode = '', ...rest]) => {
        const m = /^([\w.-]+):([\w.-]+)$/.exec(owner);
        if (rest.length || !ABSOLUTE.test(file) || !m || !MODE.test(mode)) return undefined;
        // An empty file. Were a package to ship it, the script would also chown/chmod that file;
        // none does, and the layer could only restate its content, so it is kept as shipped.
        return [{ kind: 'file', path: file, mode: parseInt(mode, 8), user: m[1]!, group: m[2]!, content: '', ifMissing: true }];
      },
    },
  ],
  [
    'update_to_current_default',
    {
      body: [
        '[ -f $2 ]',
        'md5sum $2',
        'cut -f 1 -d " "',
        'grep -q $md5 /usr/share/base-files/$1.md5sums',
        'cmp -s /usr/share/base-files/$1 $2',
        'cp -p /usr/share/base-files/$1 $2',
        'echo Updating $2 to current default.',
      ],
      // Replaces an old default with the current one. Called on a file install_from_default has
      // just made, it finds the current default already there; checked per call in recognize().
      effects: () => [],
    },
  ],
]);

/**
 * Literal commands of the same script. Each is translated only in a script whose helpers were
 * recognized, so a stray `ln` elsewhere is never taken for base-files'.
 */
const LITERALS = new Map<string, (meta: DebMetadata) => FilesystemEffect | undefined>([
  // Guarded by `[ ! -L … ]`.
  ['ln -s ../mail $DPKG_ROOT/var/spool/mail', () => ({ kind: 'symlink', path: '/var/spool/mail', target: '../mail', ifMissing: true })],
  // Guarded by `[ ! -e …/default ]` and `[ -e …/debian ]`: base-files ships the debian origin.
  [
    'ln -sf debian $DPKG_ROOT/etc/dpkg/origins/default',
    (meta) => (meta.paths.includes('etc/dpkg/origins/debian') ? { kind: 'symlink', path: '/etc/dpkg/origins/default', target: 'debian', ifMissing: true } : undefined),
  ],
  ['ln -sf share/man $DPKG_ROOT/usr/local/man', () => ({ kind: 'symlink', path: '/usr/local/man', target: 'share/man', ifMissing: false })],
]);

/** The base-files helpers a script defines and calls, and the literal commands beside them. */
export function recognizeBaseFiles(meta: DebMetadata, script: ShellScript, live: (fn: string | undefined) => boolean): Recognized {
  const out: Recognized = { effects: [], handled: new Set(), writes: new Set() };
  const helpers = new Set([...HELPERS.keys()].filter((name) => script.functions.includes(name) && sameBody(script, name)));
  if (helpers.size === 0) return out;

  const failed = new Set<string>();
  const defaults = new Set<string>(); // "name target" of each install_from_default call
  const seen = new Set<string>();
  const add = (e: FilesystemEffect): void => {
    // The upgrade branch repeats a fresh-install call (install_directory mnt); once is enough.
    const key = JSON.stringify(e);
    if (!seen.has(key)) out.effects.push(e);
    seen.add(key);
  };
  for (const c of script.commands) {
    if (!live(c.function) || c.dynamic) continue;
    const helper = helpers.has(c.command) ? HELPERS.get(c.command) : undefined;
    if (helper) {
      const effects = c.args.every((a) => !/[$`]/.test(a)) ? helper.effects(c.args, meta) : undefined;
      const paired = c.command !== 'update_to_current_default' || defaults.has(c.args.join(' '));
      if (effects === undefined || !paired) failed.add(c.command);
      else effects.forEach(add);
      if (c.command === 'install_from_default' && effects !== undefined) defaults.add(c.args.join(' '));
      continue;
    }
    if (c.function !== undefined) continue;
    const literal = LITERALS.get(shape(c))?.(meta);
    if (literal) {
      add(literal);
      out.handled.add(c);
    } else if (chmodsMadeFile(c, out.effects)) out.handled.add(c);
  }
  // A helper's body is accounted for when every call of it was translated.
  for (const c of script.commands) if (c.function !== undefined && helpers.has(c.function) && !failed.has(c.function)) out.handled.add(c);
  for (const w of script.writes) if (w.function !== undefined && helpers.has(w.function) && !failed.has(w.function)) out.writes.add(w);
  return out;
}

/** `chmod 644 $DPKG_ROOT/usr/share/info/dir` after install_from_default made that file. */
function chmodsMadeFile(c: ShellCommand, effects: FilesystemEffect[]): boolean {
  const [mode = '', target = '', ...rest] = c.args;
  const path = /^\$DPKG_ROOT(\/.*)$/.exec(target)?.[1];
  const made = effects.filter((e): e is FileEffect => e.kind === 'file' && e.path === path);
  if (c.command !== 'chmod' || rest.length || !MODE.test(mode) || made.length === 0 || c.redirects.length) return false;
  for (const e of made) e.mode = parseInt(mode, 8);
  return true;
}

function sameBody(script: ShellScript, name: string): boolean {
  const body = script.commands.filter((c) => c.function === name).map(shape);
  const expected = HELPERS.get(name)!.body;
  return body.length === expected.length && body.every((line, i) => line === expected[i]);
}

/** A command as one line: words (quoted where blank or empty) then redirections. */
function shape(c: ShellCommand): string {
  const words = [c.command, ...c.args].map((w) => (w === '' || /\s/.test(w) ? JSON.stringify(w) : w));
  return [...words, ...c.redirects.map((r) => `${r.op}${r.target}`)].join(' ');
}
