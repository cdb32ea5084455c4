/**
 * How Debian scripts put configuration files in place from the package's own templates:
 * `ucf NEW DEST` (on a fresh install DEST does not exist, so NEW is copied) and `cp [-p|-a] SRC
 * DEST`. The sources are package files the scripts name, which unpack captured.
 */
import path from 'node:path';
import type { Effect } from '../../src/translate/effects.js';
import type { ScriptContext } from '../types.js';
import type { KnownText } from './imageQueries.js';
import { packageFile } from './capturedFile.js';
import { asDeb } from './debMetadata.js';
import type { CommandResult } from './serviceCommands.js';

const LITERAL = /^\/[^\s$`*?[\]]+$/;

/** ucf's operands past its options (--sum-file and --state-dir take a value), and what else it was told. */
export function ucfArguments(args: string[]): { files: string[]; purge: boolean; unknown?: string } {
  const files: string[] = [];
  let purge = false;
  let unknown: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--sum-file' || a === '--state-dir') i++;
    // Whichever of --purge and an unknown option comes first decides.
    else if (a === '--purge') purge ||= unknown === undefined;
    else if (/^--(three-way|debconf-ok|verbose|debug=\d+)$/.test(a) || a.startsWith('--sum-file=')) continue;
    else if (a.startsWith('-')) unknown ??= purge ? undefined : a;
    else files.push(a);
  }
  return { files, purge, ...(unknown !== undefined ? { unknown } : {}) };
}

/**
 * `ucf [--three-way] [--debconf-ok] [--sum-file F] NEW DEST`: a fresh install copies NEW, keeping
 * its mode; NEW is a package file, or one the script made whose text is known (samba-common's
 * smb.conf, edited from the template).
 */
export function ucf(args: string[], ctx: ScriptContext, made?: (abs: string) => KnownText | undefined): CommandResult {
  const { files, purge, unknown } = ucfArguments(args);
  if (purge) return { inert: true }; // a removal: nothing on install
  if (unknown !== undefined) return { unrecognized: `ucf: option ${unknown} is not understood` };
  const [source, dest] = files;
  if (files.length !== 2 || !LITERAL.test(source!) || !LITERAL.test(dest!)) return { unrecognized: `ucf ${args.join(' ')}: not a package file to a path` };
  const file = packageFile(ctx.packages, source!);
  const written = file === undefined ? made?.(source!) : undefined;
  if (written !== undefined) return { effects: [{ kind: 'file', path: dest!, mode: written.mode, user: 'root', group: 'root', content: Buffer.from(written.text).toString('base64'), ifMissing: true }] };
  if (file === undefined) return { unrecognized: `ucf ${source}: neither a file a package in the image ships nor one the script made with known text` };
  return { effects: [{ kind: 'file', path: dest!, mode: file.mode, user: 'root', group: 'root', content: file.content, ifMissing: true }] };
}

/**
 * `ucfr PACKAGE FILE` registers the file with ucf for a later purge; ucf's registry and hashfile
 * are not written (an upgrade inside the image sees the file as unregistered).
 */
export function ucfr(): CommandResult {
  return { inert: true };
}

/** `cp [-p|-a|-f] SRC DEST` of a package file: DEST gets its content, with its mode under -p/-a, else as umask 022 leaves it. */
export function copyPackageFile(args: string[], ctx: ScriptContext): CommandResult | undefined {
  const opts = args.filter((a) => a.startsWith('-'));
  const files = args.filter((a) => !a.startsWith('-'));
  if (files.length === 2 && LITERAL.test(files[0]!) && ctx.pathType(files[0]!) === 'directory') return copyPackageTree(opts, files[0]!, files[1]!, ctx);
  if (opts.some((o) => !/^-[apfZ]+$|^--(preserve|archive|force)$/.test(o)) || files.length !== 2 || !LITERAL.test(files[0]!) || !LITERAL.test(files[1]!)) return undefined;
  const file = packageFile(ctx.packages, files[0]!);
  const keep = keepsMode(opts);
  const dest = ctx.pathType(files[1]!) === 'directory' ? path.posix.join(files[1]!, path.posix.basename(files[0]!)) : files[1]!;
  if (file === undefined) {
    // Another package's file (unpack keeps only what a package's own scripts name): the builder
    // copies it from that package's layer. umask 022 applies to its mode unless -p/-a.
    if (ctx.pathType(files[0]!) !== 'file') return undefined;
    return { effects: [layerCopy(files[0]!, dest, keep)] };
  }
  const effect: Effect = { kind: 'file', path: dest, mode: keep ? file.mode : file.mode & 0o755, user: 'root', group: 'root', content: file.content, ifMissing: false };
  return { effects: [effect] };
}

/**
 * `cp -r|-R|-a SRC DEST` of a directory packages ship (tomcat10's default ROOT webapp): DEST (or
 * DEST/SRC's name when DEST is a directory) with SRC's directories and files, each file read
 * from its package's layer. Without -a or -p, modes are under umask 022 and root owns all.
 */
function copyPackageTree(opts: string[], src: string, destWord: string, ctx: ScriptContext): CommandResult | undefined {
  if (!opts.some((o) => /^-[a-zA-Z]*[rRa]/.test(o) || o === '--recursive' || o === '--archive')) return { unrecognized: `cp ${src}: a directory without -r` };
  if (opts.some((o) => !/^-[rRapfZ]+$|^--(recursive|preserve|archive|force)$/.test(o)) || !LITERAL.test(destWord)) return undefined;
  const keep = keepsMode(opts);
  const dest = ctx.pathType(destWord) === 'directory' ? path.posix.join(destWord, path.posix.basename(src)) : destWord;
  if (ctx.pathType(dest) !== 'absent') return { unrecognized: `cp -r ${src} ${dest}: copying over what is there is not modelled` };
  const rel = src.replace(/^\/+|\/+$/g, '');
  const metas = ctx.packages.map(asDeb);
  const dirs = new Map(metas.flatMap((m) => m.directories).filter((d) => d.path === rel || d.path.startsWith(`${rel}/`)).map((d) => [d.path, d]));
  const files = [...new Set(metas.flatMap((m) => m.paths).filter((p) => p.startsWith(`${rel}/`)))].sort();
  const at = (p: string) => path.posix.join(dest, p.slice(rel.length));
  const effects: Effect[] = [];
  for (const d of [...dirs.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    effects.push({ kind: 'directory', path: at(d.path), mode: keep ? d.mode : d.mode & 0o755, user: 'root', group: 'root' });
  }
  for (const f of files) effects.push(layerCopy(`/${f}`, at(f), keep));
  return { effects };
}

/** cp -p and -a keep the source's mode (and owner); plain cp leaves it under the umask. */
function keepsMode(opts: string[]): boolean {
  return opts.some((o) => /^-[a-zA-Z]*[pa]/.test(o) || o === '--preserve' || o === '--archive');
}

/** A copy of a packaged file the builder reads from its package's layer (unpack kept no bytes of it). */
function layerCopy(source: string, dest: string, keepMode: boolean): Effect {
  return { kind: 'file', path: dest, mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: false, copyOf: { path: source, keepMode } };
}
