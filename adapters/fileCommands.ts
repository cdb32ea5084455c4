/**
 * coreutils-style file commands as maintainer scripts of every format use them (mkdir, chown,
 * chmod, touch, ln -s, rm), turned into filesystem effects. Arguments are words a shell reader
 * has unquoted; one with an unexpanded `$…` or backquote where a value matters is not guessed.
 */
import path from 'node:path';
import type { Effect, FilesystemEffect, ModeChange } from '../src/translate/effects.js';
import { parseCapabilities } from '../src/translate/fileCapability.js';
import { definedOnly } from '../src/translate/filesystem.js';
import { parseSymbolicMode } from './symbolicMode.js';
import type { ScriptContext } from './types.js';

export type FileCommandResult = { effects: FilesystemEffect[] } | { unrecognized: string };

const DYNAMIC = /[$`*?[]/;

/** Split leading options from operands; `--` ends options. Long options with values are given. */
function parseArgs(args: string[], withValue: Set<string>): { opts: Map<string, string>; operands: string[] } | string {
  const opts = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (withValue.has(name)) opts.set(name, eq < 0 ? (args[++i] ?? '') : a.slice(eq + 1));
      else opts.set(name, '');
    } else if (a.startsWith('-') && a.length > 1 && operands.length === 0) {
      for (let j = 1; j < a.length; j++) {
        const flag = `-${a[j]}`;
        if (withValue.has(flag)) {
          opts.set(flag, j + 1 < a.length ? a.slice(j + 1) : (args[++i] ?? ''));
          break;
        }
        opts.set(flag, '');
      }
    } else operands.push(a);
  }
  const dynamic = operands.find((o) => DYNAMIC.test(o));
  return dynamic !== undefined ? `"${dynamic}" is not known before the script runs` : { opts, operands };
}

/** An octal mode; GNU tools take leading zeros beyond four digits (mariadb's `chmod 04755`). */
function octal(mode: string): number | undefined {
  return /^0*[0-7]{1,4}$/.test(mode) ? parseInt(mode, 8) : undefined;
}

/** Only these options change nothing we model (SELinux contexts, verbosity). */
function unknownOption(opts: Map<string, string>, known: string[]): string | undefined {
  return [...opts.keys()].find((o) => !known.includes(o));
}

/**
 * `mkdir [-p] [-m MODE] DIR…`: a directory each, 0755 root unless -m. A directory that exists
 * already (shipped by a package) is left as it is, as mkdir -p does.
 */
export function mkdirEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>): FileCommandResult {
  const p = parseArgs(args, new Set(['-m', '--mode', '--context']));
  if (typeof p === 'string') return { unrecognized: `mkdir: ${p}` };
  const bad = unknownOption(p.opts, ['-p', '--parents', '-m', '--mode', '-v', '--verbose', '-Z', '--context']);
  if (bad) return { unrecognized: `mkdir: option ${bad} is not understood` };
  const modeText = p.opts.get('-m') ?? p.opts.get('--mode');
  const mode = modeText === undefined ? 0o755 : octal(modeText);
  if (mode === undefined) return { unrecognized: `mkdir: mode "${modeText}" is not an octal mode` };
  const effects: FilesystemEffect[] = [];
  for (const dir of p.operands) {
    if (!dir.startsWith('/')) return { unrecognized: `mkdir: relative path ${dir}` };
    if (ctx.pathType(dir) === 'directory') continue;
    effects.push({ kind: 'directory', path: normalize(dir), mode, user: 'root', group: 'root' });
  }
  return { effects };
}

/** `chown [-R] [-h] USER[:GROUP] PATH…` (also `:GROUP`, `USER.GROUP`, and `USER:` for the user's login group). */
export function chownEffects(args: string[], ctx: Pick<ScriptContext, 'pathType' | 'glob'>): FileCommandResult {
  const p = parseArgs(args, new Set(['--reference', '--from']));
  if (typeof p === 'string') return { unrecognized: `chown: ${p}` };
  const bad = unknownOption(p.opts, ['-R', '--recursive', '-h', '--no-dereference', '-v', '--verbose', '-c', '--changes', '-f', '--silent', '--quiet']);
  if (bad) return { unrecognized: `chown: option ${bad} is not understood` };
  const [owner, ...paths] = p.operands;
  const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*?)?(?:[:.]([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/.exec(owner ?? '');
  const login = owner !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]*:$/.test(owner);
  if (login) return attributeEffects('chown', paths, { user: owner.slice(0, -1), loginGroup: true }, recursive(p.opts), ctx);
  if (!owner || !m || (m[1] === undefined && m[2] === undefined) || owner.endsWith(':')) return { unrecognized: `chown: owner "${owner ?? ''}" is not understood` };
  return attributeEffects('chown', paths, { user: m[1], group: m[2] }, recursive(p.opts), ctx);
}

/** `chgrp [-R] [-h] GROUP PATH…` */
export function chgrpEffects(args: string[], ctx: Pick<ScriptContext, 'pathType' | 'glob'>): FileCommandResult {
  const p = parseArgs(args, new Set(['--reference']));
  if (typeof p === 'string') return { unrecognized: `chgrp: ${p}` };
  const bad = unknownOption(p.opts, ['-R', '--recursive', '-h', '--no-dereference', '-v', '--verbose', '-c', '--changes', '-f', '--silent', '--quiet']);
  if (bad) return { unrecognized: `chgrp: option ${bad} is not understood` };
  const [group, ...paths] = p.operands;
  if (!group || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(group)) return { unrecognized: `chgrp: group "${group ?? ''}" is not understood` };
  return attributeEffects('chgrp', paths, { group }, recursive(p.opts), ctx);
}

/**
 * `chmod [-R] MODE PATH…`, octal or symbolic (`u+s`, `g+rwx`): a symbolic mode is kept as a
 * change, applied to the mode the path has when the translation knows it.
 */
export function chmodEffects(args: string[], ctx: Pick<ScriptContext, 'pathType' | 'glob'>): FileCommandResult {
  const p = parseArgs(args, new Set(['--reference']));
  if (typeof p === 'string') return { unrecognized: `chmod: ${p}` };
  const bad = unknownOption(p.opts, ['-R', '--recursive', '-v', '--verbose', '-c', '--changes', '-f', '--silent', '--quiet']);
  if (bad) return { unrecognized: `chmod: option ${bad} is not understood` };
  const [modeText = '', ...paths] = p.operands;
  const mode = octal(modeText);
  if (mode !== undefined) return attributeEffects('chmod', paths, { mode }, recursive(p.opts), ctx);
  const modeChange = parseSymbolicMode(modeText);
  if (typeof modeChange === 'string') return { unrecognized: `chmod: ${modeChange}` };
  return attributeEffects('chmod', paths, { modeChange }, recursive(p.opts), ctx);
}

/** setcap's exit status where the translation applies it: success (the image's files carry it). */
export function setcapSucceeds(args: string[], ctx: Pick<ScriptContext, 'pathType'>): true | undefined {
  return 'effects' in setcapEffects(args, ctx) ? true : undefined;
}

/**
 * `setcap CAPS FILE…` (pairs; `-q` quiet): file capabilities on a file, which the final layer
 * carries as its security.capability attribute. Removing them (`-r`) or checking (`-v`) is not
 * modelled.
 */
export function setcapEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>): FileCommandResult {
  const words = args.filter((a) => a !== '-q');
  if (words.some((w) => w.startsWith('-'))) return { unrecognized: `setcap ${args.join(' ')}: only CAPS FILE pairs are modelled` };
  if (!words.length || words.length % 2 !== 0) return { unrecognized: `setcap ${args.join(' ')}: not CAPS FILE pairs` };
  const effects: FilesystemEffect[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const [text, file] = [words[i]!, words[i + 1]!];
    if (DYNAMIC.test(text) || DYNAMIC.test(file)) return { unrecognized: `setcap: "${DYNAMIC.test(text) ? text : file}" is not known before the script runs` };
    const parsed = parseCapabilities(text);
    if (typeof parsed === 'string') return { unrecognized: `setcap: ${parsed}` };
    if (!file.startsWith('/')) return { unrecognized: `setcap: relative path ${file}` };
    // setcap fails on anything but a regular file (and follows no link to one).
    if (ctx.pathType(file) !== 'file') return { unrecognized: `setcap: ${file} is not a regular file in the image` };
    effects.push({ kind: 'attributes', path: normalize(file), capability: text });
  }
  return { effects };
}

function recursive(opts: Map<string, string>): boolean {
  return opts.has('-R') || opts.has('--recursive');
}

function attributeEffects(
  tool: string,
  paths: string[],
  change: { user?: string; group?: string; loginGroup?: boolean; mode?: number; modeChange?: ModeChange },
  isRecursive: boolean,
  ctx: Pick<ScriptContext, 'pathType' | 'glob'>,
): FileCommandResult {
  if (!paths.length) return { unrecognized: `${tool}: no path` };
  const effects: FilesystemEffect[] = [];
  for (const target of paths) {
    if (!target.startsWith('/')) return { unrecognized: `${tool}: relative path ${target}` };
    // Recursion into what a packaged directory holds would reach files in lower layers: not
    // modelled. Over an empty one (tomcat10's webapps) it changes the directory alone.
    if (isRecursive && ctx.pathType(target) === 'directory' && !isEmptyDirectory(target, ctx)) return { unrecognized: `${tool} -R ${target}: a packaged tree, changed file by file` };
    effects.push({ kind: 'attributes', path: normalize(target), ...definedOnly(change) });
  }
  return { effects };
}

/** Whether pathname expansion finds nothing in a directory, dot files included. */
function isEmptyDirectory(dir: string, ctx: Pick<ScriptContext, 'glob'>): boolean {
  const base = dir.replace(/\/+$/, '');
  const found = [ctx.glob?.(`${base}/*`), ctx.glob?.(`${base}/.*`)];
  return found.every((m) => m !== undefined && m.every((p) => /\/\.\.?$/.test(p)));
}

/** `touch FILE…`: an empty file where there is none (an existing one only gets a new time). */
export function touchEffects(args: string[]): FileCommandResult {
  // Times are not modelled (every layer's are clamped); only whether touch creates a file is.
  const p = parseArgs(args, new Set(['-r', '--reference', '-d', '--date', '-t']));
  if (typeof p === 'string') return { unrecognized: `touch: ${p}` };
  const bad = unknownOption(p.opts, ['-c', '--no-create', '-h', '--no-dereference', '-r', '--reference', '-d', '--date', '-t', '-a', '-m']);
  if (bad) return { unrecognized: `touch: option ${bad} is not understood` };
  // -h changes a link's own times and, like -c, never creates anything.
  if (['-c', '--no-create', '-h', '--no-dereference'].some((o) => p.opts.has(o))) return { effects: [] };
  const effects: FilesystemEffect[] = [];
  for (const f of p.operands) {
    if (!f.startsWith('/')) return { unrecognized: `touch: relative path ${f}` };
    effects.push({ kind: 'file', path: normalize(f), mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true });
  }
  return { effects };
}

/** `ln -s [-f] [-n] TARGET LINK`: a link; into LINK when it is a directory, as ln does. */
export function lnEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>): FileCommandResult {
  const p = parseArgs(args, new Set());
  if (typeof p === 'string') return { unrecognized: `ln: ${p}` };
  const bad = unknownOption(p.opts, ['-s', '--symbolic', '-f', '--force', '-n', '--no-dereference', '-T', '--no-target-directory', '-v', '--verbose', '-r', '--relative']);
  if (bad) return { unrecognized: `ln: option ${bad} is not understood` };
  if (!p.opts.has('-s') && !p.opts.has('--symbolic')) return { unrecognized: 'ln: a hard link' };
  if (p.opts.has('-r') || p.opts.has('--relative')) return { unrecognized: 'ln -r: relative link computed by ln' };
  const [target, link] = p.operands;
  if (p.operands.length !== 2 || !target || !link || !link.startsWith('/')) return { unrecognized: `ln: ${p.operands.join(' ')} is not TARGET /LINK` };
  const noTargetDir = p.opts.has('-T') || p.opts.has('--no-target-directory') || p.opts.has('-n') || p.opts.has('--no-dereference');
  const at = !noTargetDir && ctx.pathType(link) === 'directory' ? path.posix.join(link, path.posix.basename(target)) : link;
  return { effects: [{ kind: 'symlink', path: normalize(at), target, ifMissing: !(p.opts.has('-f') || p.opts.has('--force')) }] };
}

/**
 * `rm [-f] [-r] PATH…`: a no-op for paths that are not there, a remove effect for what earlier
 * effects made (`mkdir /x`, later `rm -r /x`) and for packaged files (the translation keeps such
 * a removal only where a later step makes the path again; otherwise it would need a whiteout,
 * and is reported). Undefined for a packaged directory or a path not known.
 */
export function rmEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>, earlier: readonly Effect[] = []): { effects: FilesystemEffect[] } | undefined {
  const p = parseArgs(args, new Set());
  if (typeof p === 'string' || !p.operands.length) return undefined;
  if (unknownOption(p.opts, ['-f', '--force', '-r', '-R', '--recursive', '-v', '--verbose'])) return undefined;
  // rm takes -r as well as -R.
  const isRecursive = p.opts.has('-r') || recursive(p.opts);
  const effects: FilesystemEffect[] = [];
  for (const o of p.operands.map(normalize)) {
    if (!o.startsWith('/')) return undefined;
    // What scripts made (a preinst's marker file) goes; an absent path is a no-op. A packaged
    // file's removal stands only if a later step makes it again (else it needs a whiteout,
    // which the translation reports).
    const made = earlier.some((e) => (e.kind === 'file' || e.kind === 'symlink' || e.kind === 'directory') && (e.path === o || e.path.startsWith(`${o}/`)));
    const type = ctx.pathType(o);
    if (made || type === 'file') effects.push({ kind: 'remove', path: o, recursive: isRecursive });
    else if (type !== 'absent') return undefined;
  }
  return { effects };
}

/**
 * `rmdir` of directories that are not there (an upgrade's cleanup: systemd's old .wants
 * directory) changes nothing; of one only an earlier effect made and nothing was put in, it is
 * not made after all. Undefined when a package ships it: that would need a whiteout.
 */
export function rmdirEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>, earlier: readonly Effect[] = []): { effects: FilesystemEffect[] } | undefined {
  const p = parseArgs(args, new Set());
  if (typeof p === 'string' || !p.operands.length) return undefined;
  if (unknownOption(p.opts, ['--ignore-fail-on-non-empty', '-p', '--parents', '-v', '--verbose'])) return undefined;
  const effects: FilesystemEffect[] = [];
  for (const o of p.operands.map(normalize)) {
    const made = earlier.some((e) => e.kind === 'directory' && e.path === o);
    if (!o.startsWith('/') || (!made && ctx.pathType(o) !== 'absent')) return undefined;
    if (made && !earlier.some((e) => 'path' in e && e.path.startsWith(`${o}/`))) effects.push({ kind: 'remove', path: o, recursive: false });
  }
  return { effects };
}

/**
 * `mv [-f] [-T] FROM TO` of what an earlier effect of the same package made (dash's
 * `ln -sf dash /bin/sh.tmp; mv -f /bin/sh.tmp /bin/sh`): the same link or file at TO, and
 * nothing left at FROM. Undefined for anything else: moving a packaged file would need a copy
 * and a whiteout, which are not modelled here.
 */
export function mvEffects(args: string[], ctx: Pick<ScriptContext, 'pathType'>, earlier: readonly Effect[] = []): { effects: FilesystemEffect[] } | undefined {
  const p = parseArgs(args, new Set());
  if (typeof p === 'string' || p.operands.length !== 2) return undefined;
  if (unknownOption(p.opts, ['-f', '--force', '-T', '--no-target-directory', '-v', '--verbose'])) return undefined;
  const [from, to] = p.operands.map(normalize) as [string, string];
  if (!from.startsWith('/') || !to.startsWith('/') || ctx.pathType(to) === 'directory') return undefined;
  const made = [...earlier].reverse().find((e): e is Extract<FilesystemEffect, { kind: 'symlink' | 'file' }> => (e.kind === 'symlink' || e.kind === 'file') && e.path === from);
  if (made === undefined || earlier.some((e) => 'path' in e && e.path.startsWith(`${from}/`))) return undefined;
  return { effects: [{ kind: 'remove', path: from, recursive: false }, { ...made, path: to, ifMissing: false }] };
}

function normalize(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
}

/**
 * The file command `name` as effects, for any format's scripts; undefined for a command that is
 * not one of them (or an `rm` that would remove something: not modelled).
 */
export function fileCommandEffects(name: string, args: string[], ctx: Pick<ScriptContext, 'pathType' | 'glob'>, earlier: readonly Effect[] = []): FileCommandResult | undefined {
  switch (name) {
    case 'mkdir':
      return mkdirEffects(args, ctx);
    case 'chown':
      return chownEffects(args, ctx);
    case 'chgrp':
      return chgrpEffects(args, ctx);
    case 'chmod':
      return chmodEffects(args, ctx);
    case 'touch':
      return touchEffects(args);
    case 'ln':
      return lnEffects(args, ctx);
    case 'rm':
      return rmEffects(args, ctx, earlier);
    case 'mv':
      return mvEffects(args, ctx, earlier);
    case 'rmdir':
      return rmdirEffects(args, ctx, earlier);
    case 'install':
      return installEffects(args);
    case 'setcap':
      return setcapEffects(args, ctx);
    default:
      return undefined;
  }
}

/**
 * `install -d [-m MODE] [-o USER] [-g GROUP] DIR…` (directories) and `install [-m …] /dev/null
 * FILE` (an empty file); copying a real file needs its content and is not handled here.
 */
export function installEffects(args: string[]): FileCommandResult {
  const p = parseArgs(args, new Set(['-m', '--mode', '-o', '--owner', '-g', '--group']));
  if (typeof p === 'string') return { unrecognized: `install: ${p}` };
  const bad = unknownOption(p.opts, ['-d', '--directory', '-m', '--mode', '-o', '--owner', '-g', '--group', '-v', '--verbose', '-D', '-p', '--preserve-timestamps']);
  if (bad) return { unrecognized: `install: option ${bad} is not understood` };
  const modeText = p.opts.get('-m') ?? p.opts.get('--mode');
  const user = p.opts.get('-o') ?? p.opts.get('--owner') ?? 'root';
  const group = p.opts.get('-g') ?? p.opts.get('--group') ?? 'root';
  if (p.opts.has('-d') || p.opts.has('--directory')) {
    const mode = modeText === undefined ? 0o755 : octal(modeText);
    if (mode === undefined) return { unrecognized: `install: mode "${modeText}" is not octal` };
    if (p.operands.some((d) => !d.startsWith('/'))) return { unrecognized: 'install -d: relative path' };
    return { effects: p.operands.map((d) => ({ kind: 'directory', path: normalize(d), mode, user, group })) };
  }
  const [source, dest, ...rest] = p.operands;
  const mode = modeText === undefined ? 0o755 : octal(modeText);
  if (source !== '/dev/null' || !dest?.startsWith('/') || rest.length || mode === undefined) return { unrecognized: `install ${args.join(' ')}: copies a file` };
  return { effects: [{ kind: 'file', path: normalize(dest), mode, user, group, content: '', ifMissing: false }] };
}
