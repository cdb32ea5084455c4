/**
 * Debian's service and system-configuration helpers as maintainer scripts call them
 * (deb-systemd-helper, systemctl, update-rc.d, systemd-sysusers, systemd-tmpfiles, add-shell,
 * update-shells, dpkg-statoverride), turned into effects. Unit files, init scripts and the
 * sysusers.d/tmpfiles.d/shells files they read were captured at unpack.
 */
import path from 'node:path';
import type { Effect } from '../../src/translate/effects.js';
import { installSection } from '../../src/translate/enableUnits.js';
import type { PackageMetadata, ScriptContext } from '../types.js';
import { capturedText } from './capturedFile.js';
import { asDeb } from './debMetadata.js';
import { canonicalPath } from './mergedUsr.js';
import { capturedFilesUnder } from '../capturedFiles.js';

/** Effects (with a note on what they leave out), one sentence on why not, or nothing to do. */
export type CommandResult = { effects: Effect[]; note?: string } | { unrecognized: string } | { inert: true };

/** Where systemctl looks for unit files a package ships, most specific first. */
const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system'];
export const SYSUSERS_DIR = 'usr/lib/sysusers.d/';
export const TMPFILES_DIR = 'usr/lib/tmpfiles.d/';
const SHELLS_TEMPLATE = 'usr/share/debianutils/shells';
const SHELLS_D = 'usr/share/debianutils/shells.d/';

/** Files whose content these recognizers read: unit files, init scripts, sysusers/tmpfiles/shells lists. */
export function isCapturedForServices(p: string): boolean {
  return (
    (UNIT_DIRS.some((d) => p.startsWith(`${d}/`)) && /\.(service|socket|timer|path|target|mount)$/.test(p)) ||
    p.startsWith('etc/init.d/') ||
    (p.startsWith(SYSUSERS_DIR) && p.endsWith('.conf')) ||
    (p.startsWith(TMPFILES_DIR) && p.endsWith('.conf')) ||
    p === SHELLS_TEMPLATE ||
    p.startsWith(SHELLS_D)
  );
}


function capturedUnder(packages: PackageMetadata[], dir: string): { rel: string; text: string }[] {
  return [...capturedFilesUnder(packages.map((p) => asDeb(p).captured), dir)].map(([rel, text]) => ({ rel, text }));
}

/** The unit file systemctl would find for a name, with the units its Also= pulls in. */
function unitEffects(unit: string, packages: PackageMetadata[], seen = new Set<string>()): Effect[] | string {
  if (seen.has(unit)) return [];
  seen.add(unit);
  for (const dir of UNIT_DIRS) {
    const text = capturedText(packages, `${dir}/${unit}`);
    if (text === undefined) continue;
    const effects: Effect[] = [{ kind: 'enable-unit', path: `/${dir === 'usr/lib/systemd/system' ? 'lib/systemd/system' : dir}/${unit}`, text }];
    for (const also of installSection(text).also) {
      const more = unitEffects(also, packages, seen);
      if (typeof more === 'string') return more;
      effects.push(...more);
    }
    return effects;
  }
  // An instance of a template unit: getty@tty1.service is enabled from getty@.service.
  const m = /^([^@/]+)@([^@/.]+)\.([a-z]+)$/.exec(unit);
  if (m) {
    const template = unitEffects(`${m[1]}@.${m[3]}`, packages, seen);
    if (typeof template !== 'string') return template.map((e, i) => (i === 0 && e.kind === 'enable-unit' ? { ...e, instance: m[2]! } : e));
  }
  return `unit ${unit}: no package in the image ships its file`;
}

/** `deb-systemd-helper enable UNIT…` (dh_installsystemd's postinst: enabled on a fresh install). */
export function debSystemdHelper(args: string[], ctx: ScriptContext): CommandResult {
  const words = args.filter((a) => a !== '--quiet' && a !== '--user');
  const [action, ...units] = words;
  // Bookkeeping of previous installs and of removal; on a fresh install they change nothing.
  if (['unmask', 'update-state', 'was-enabled', 'debian-installed', 'purge', 'mask', 'disable', 'is-enabled'].includes(action ?? '')) return { inert: true };
  if (action !== 'enable' || !units.length) return { unrecognized: `deb-systemd-helper ${args.join(' ')}` };
  return enable(units, ctx);
}

/** `systemctl [--no-reload|--system|--quiet] enable UNIT…`; everything else talks to a running systemd. */
export function systemctl(args: string[], ctx: ScriptContext): CommandResult {
  const words = args.filter((a) => !a.startsWith('-'));
  if (words[0] === 'enable') return enable(words.slice(1), ctx);
  if (['preset', 'preset-all', 'disable', 'mask', 'unmask', 'link', 'reenable', 'set-default', 'add-wants', 'add-requires'].includes(words[0] ?? '')) {
    return { unrecognized: `systemctl ${args.join(' ')}` };
  }
  return { inert: true };
}

function enable(units: string[], ctx: ScriptContext): CommandResult {
  const effects: Effect[] = [];
  for (const u of units) {
    if (/[$`*]/.test(u)) return { unrecognized: `enable ${u}: not known before the script runs` };
    const found = unitEffects(u.includes('.') ? u : `${u}.service`, ctx.packages);
    if (typeof found === 'string') return { unrecognized: found };
    effects.push(...found);
  }
  return { effects };
}

/** `update-rc.d NAME defaults` (the LSB header decides the runlevels); `remove` is inert on a fresh install. */
export function updateRcD(args: string[], ctx: ScriptContext): CommandResult {
  const words = args.filter((a) => a !== '-f');
  const [name, action] = words;
  if (action === 'remove') return { inert: true };
  if (action === 'disable' && words.length === 2 && name) return { effects: [{ kind: 'disable-service', name }] };
  // `defaults NN [NN]`: sequence numbers are ignored since dependency-based boot (a warning only).
  const priorities = words.slice(2);
  if (!name || action !== 'defaults' || priorities.length > 2 || !priorities.every((p) => /^\d{1,2}$/.test(p))) return { unrecognized: `update-rc.d ${args.join(' ')}` };
  const text = capturedText(ctx.packages, `etc/init.d/${name}`);
  if (text === undefined) return { unrecognized: `update-rc.d ${name}: no package in the image ships /etc/init.d/${name}` };
  return { effects: [{ kind: 'enable-initscript', name, text }] };
}

/** `systemd-sysusers [--root DIR] [FILE…]`: the named files (basenames resolve in sysusers.d), or every one. */
export function systemdSysusers(args: string[], ctx: ScriptContext): CommandResult {
  return configFiles('systemd-sysusers', args, ctx, SYSUSERS_DIR, 'sysusers', []);
}

/** `systemd-tmpfiles --create [FILE…]`: as sysusers; other modes (--clean, --remove) act at run time. */
export function systemdTmpfiles(args: string[], ctx: ScriptContext): CommandResult {
  if (!args.includes('--create')) return { unrecognized: `systemd-tmpfiles ${args.join(' ')}` };
  return configFiles('systemd-tmpfiles', args, ctx, TMPFILES_DIR, 'tmpfiles', ['--create', '--boot']);
}

function configFiles(tool: string, args: string[], ctx: ScriptContext, dir: string, kind: 'sysusers' | 'tmpfiles', flags: string[]): CommandResult {
  const files: string[] = [];
  const prefixes: string[] = [];
  const excluded: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const prefix = kind === 'tmpfiles' ? /^--(exclude-)?prefix=(\/.*)$/.exec(a) : null;
    if (a === '--root') i++;
    else if (a.startsWith('--root=') || flags.includes(a)) continue;
    else if (prefix) (prefix[1] ? excluded : prefixes).push(prefix[2]!);
    else if (a.startsWith('-')) return { unrecognized: `${tool}: option ${a} is not understood` };
    else files.push(a);
  }
  const chosen = files.length
    ? files.map((f) => {
        const rel = f.includes('/') ? canonicalPath(f.replace(/^\$\{?DPKG_ROOT(:-)?\}?/, '').replace(/^\/+/, '')) : `${dir}${f}`;
        return { rel, text: capturedText(ctx.packages, rel) };
      })
    : capturedUnder(ctx.packages, dir);
  const missing = chosen.find((c) => c.text === undefined);
  if (missing) return { unrecognized: `${tool} ${missing.rel}: no package in the image ships it` };
  const within = (text: string) => (prefixes.length || excluded.length ? linesUnderPrefixes(text, prefixes, excluded) : text);
  return { effects: chosen.map((c) => ({ kind, file: `/${c.rel}`, text: within(c.text!) })) };
}

/**
 * `--prefix=P` / `--exclude-prefix=P`: only the lines whose path is (or is not) under P; the
 * others become blank, so messages keep their line numbers.
 */
function linesUnderPrefixes(text: string, prefixes: string[], excluded: string[]): string {
  const under = (p: string, prefix: string) => p === prefix || p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  return text
    .split('\n')
    .map((line) => {
      const p = line.trim().split(/\s+/)[1];
      if (line.trim() === '' || line.trim().startsWith('#') || p === undefined) return line;
      const keep = (!prefixes.length || prefixes.some((x) => under(p, x))) && !excluded.some((x) => under(p, x));
      return keep ? line : '';
    })
    .join('\n');
}

/** `add-shell SHELL…` */
export function addShell(args: string[]): CommandResult {
  if (!args.length || args.some((a) => !a.startsWith('/') || /[$`]/.test(a))) return { unrecognized: `add-shell ${args.join(' ')}` };
  return { effects: args.map((p) => ({ kind: 'login-shell', path: p })) };
}

/**
 * `update-shells` (debianutils): /etc/shells from its template and every package's shells.d
 * file, each shell also under its merged-/usr real path, as dpkg-realpath finds it; the state
 * file remembers which shells came from packages.
 */
export function updateShells(ctx: ScriptContext): CommandResult {
  const sources = [SHELLS_TEMPLATE, ...capturedUnder(ctx.packages, SHELLS_D).map((c) => c.rel)];
  const shells: string[] = [];
  for (const rel of sources) {
    const text = capturedText(ctx.packages, rel);
    if (text === undefined) continue;
    for (const raw of text.split('\n')) {
      const line = raw.split('#')[0]!;
      if (!line) continue;
      shells.push(line);
      const real = `/${canonicalPath(path.posix.dirname(line).replace(/^\/+/, ''))}/${path.posix.basename(line)}`;
      if (real !== line) shells.push(real);
    }
  }
  const unique = [...new Set(shells)];
  return {
    effects: [
      ...unique.map((p): Effect => ({ kind: 'login-shell', path: p })),
      { kind: 'file', path: '/var/lib/shells.state', mode: 0o644, user: 'root', group: 'root', content: Buffer.from(unique.map((s) => `${s}\n`).join('')).toString('base64'), ifMissing: false },
    ],
  };
}

/** `dpkg-statoverride [--update] [--force…] --add USER GROUP MODE PATH`; --update applies it now. */
export function dpkgStatoverride(args: string[]): CommandResult {
  const words = args.filter((a) => !/^--(force.*|quiet|update)$/.test(a));
  if (words[0] !== '--add' || words.length !== 5) return { unrecognized: `dpkg-statoverride ${args.join(' ')}` };
  const [, user, group, modeText, target] = words as [string, string, string, string, string];
  if (!/^[0-7]{3,4}$/.test(modeText) || !target.startsWith('/') || /[$`]/.test(user + group + target)) return { unrecognized: `dpkg-statoverride ${args.join(' ')}` };
  const mode = parseInt(modeText, 8);
  if (!args.includes('--update')) return { unrecognized: `dpkg-statoverride without --update: recorded only, applied at the next unpack` };
  return { effects: [{ kind: 'attributes', path: target, user, group, mode, override: true }] };
}

/** dh_python3's byte-compilation: a cache Python itself writes on first import. */
export function pythonBytecode(name: string): CommandResult {
  return { effects: [{ kind: 'left-out', tool: name, reason: 'Python writes __pycache__ on first import where it can, and runs from source where it cannot' }] };
}

/**
 * dh_runit's `NAME=… ENABLE=… runit-helper postinst "$@"` on an image without runit: the
 * supervise directory under /run, and, when enabled, the service's link in runsvdir/default
 * (the package ships that directory). With runit in the image, make_svlinks and sv run too:
 * not translated.
 */
export function runitHelper(args: string[], variables: Record<string, string>, ctx: ScriptContext): CommandResult {
  if (args[0] !== 'postinst') return args[0] === 'prerm' || args[0] === 'postrm' ? { inert: true } : { unrecognized: `runit-helper ${args.join(' ')}` };
  const name = variables.NAME;
  if (name === undefined || !/^[A-Za-z0-9._@-]+$/.test(name)) return { unrecognized: 'runit-helper: NAME is not known before the script runs' };
  if (ctx.pathType('/lib/runit/make_svlinks') !== 'absent' || ctx.pathType('/sbin/runit') !== 'absent') return { unrecognized: 'runit-helper with runit in the image (make_svlinks, sv)' };
  const effects: Effect[] = [];
  if (ctx.pathType('/run/runit/supervise') !== 'directory') effects.push({ kind: 'directory', path: '/run/runit/supervise', mode: 0o755, user: 'root', group: 'root' });
  if (variables.ENABLE === 'yes') effects.push({ kind: 'symlink', path: `/etc/runit/runsvdir/default/${name}`, target: `/etc/sv/${name}`, ifMissing: true });
  return { effects };
}
