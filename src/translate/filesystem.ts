import type { FinalEntry, InstalledDirectory } from '../../adapters/types.js';
import { UserError } from '../errors.js';
import { changedMode, type AttributesEffect, type FilesystemEffect, type ModeChange } from './effects.js';
import { xattrsAfter } from './fileCapability.js';

export interface FilesystemContext {
  /** Account name (or numeric string) → id, from the image's final account files. */
  uidOf(name: string): number | undefined;
  gidOf(name: string): number | undefined;
  /** Canonical relative paths of every non-directory the packages install. */
  installed: ReadonlySet<string>;
  /** Directories the packages install, by canonical relative path. */
  directories: ReadonlyMap<string, InstalledDirectory>;
  /** Where an absolute path a script names lands in the image (merged-/usr), relative. */
  canonical: (absPath: string) => string;
  /** The name of a user's login group (its passwd entry's group), for `chown USER:`. */
  loginGroupOf?: (user: string) => string | undefined;
  /** Canonical paths that a command left out on purpose would have made, and that command. */
  leftOut?: ReadonlyMap<string, string>;
}

/** One effect with the package whose script (or "image.toml") it comes from. */
export interface Tagged<E> {
  source: string;
  effect: E;
}

/**
 * A packaged file whose owner or mode scripts change, or that a script copies elsewhere: the
 * final layer carries a copy of it.
 */
export interface CopyUp {
  /** Canonical relative path. */
  path: string;
  /** The packaged file copied to `path` (canonical), when it is not `path` itself (`cp SRC DEST`). */
  from?: string;
  /** The changes in the order they were made (chown clears set-id bits and capabilities, so order matters). */
  changes: CopyUpChange[];
  /** The package whose script asked first, for reporting. */
  source: string;
}

export interface CopyUpChange {
  mode?: number;
  modeChange?: Pick<ModeChange, 'clear' | 'add'>;
  uid?: number;
  gid?: number;
  /** setcap's text. */
  capability?: string;
}

export interface AppliedFilesystem {
  entries: FinalEntry[];
  /** Packaged files to copy into the final layer with the owner and mode scripts gave them, by path. */
  copyUps: CopyUp[];
  /** tmpfiles.d lines that declare what was applied, by source (package). */
  tmpfiles: Map<string, string[]>;
  /** What could not be applied, by source. */
  unresolved: Tagged<string>[];
  /** Changes not applied on purpose, by source: they belong to a result left out. */
  notes: Tagged<string>[];
}

/**
 * Final-layer entries for directories, links and files that scripts would create, and owner and
 * mode changes to directories. Effects apply in order, as the scripts would have run: an
 * `ifMissing` effect finds what packages install and what earlier effects made; otherwise the
 * later effect for a path wins. Each applied effect is also declared as a tmpfiles.d line, so the
 * image says how its state came about and systemd-tmpfiles can restore it.
 */
export function applyFilesystem(effects: Tagged<FilesystemEffect>[], ctx: FilesystemContext): AppliedFilesystem {
  const unresolved: Tagged<string>[] = [];
  const notes: Tagged<string>[] = [];
  const declared = new Map<string, Declared[]>();
  const declare = (source: string, d: Declared) => declared.set(source, [...(declared.get(source) ?? []), d]);
  const made = new Map<string, FinalEntry>();
  const copyUps = new Map<string, CopyUp>();
  for (const [index, { source, effect }] of effects.entries()) {
    const e = effect.kind === 'attributes' && effect.loginGroup ? withLoginGroup(effect, ctx, (msg) => unresolved.push({ source, effect: msg })) : effect;
    const path = ctx.canonical(e.path);
    if (path === '' || path.split('/').includes('..')) throw new UserError(`${source}: would create "${e.path}", outside the image or at its root`);
    const id = (what: 'user' | 'group', name: string): number => {
      const found = what === 'user' ? ctx.uidOf(name) : ctx.gidOf(name);
      if (found !== undefined) return found;
      unresolved.push({ source, effect: `${e.path}: ${what} "${name}" is not defined in the image; left to root` });
      return 0;
    };
    const shipped = ctx.installed.has(path);
    const copied = copyUps.get(path)?.from !== undefined;
    // Whatever a later step makes at a copy's path replaces the copy.
    const replaces = e.kind === 'remove' || e.kind === 'directory' || e.kind === 'symlink' || (e.kind === 'file' && !e.ifMissing);
    if (copied && replaces) copyUps.delete(path);
    if (e.kind === 'remove') {
      // Removed and made again (dash's `rm -f /bin/sh` before linking it anew): the new one stands.
      const remade = effects.slice(index + 1).some(({ effect: x }) => (x.kind === 'file' || x.kind === 'symlink') && ctx.canonical(x.path) === path);
      if (shipped && !e.recursive && remade) continue;
      if (shipped || ctx.directories.has(path)) {
        unresolved.push({ source, effect: `${e.path}: removing what a package installs is not applied (it needs a whiteout)` });
        continue;
      }
      const gone = (p: string) => p === path || (e.recursive && p.startsWith(`${path}/`));
      const under = [...made.keys()].find((p) => !e.recursive && p.startsWith(`${path}/`));
      if (under !== undefined) {
        unresolved.push({ source, effect: `${e.path}: rm without -r of a directory that is not empty (/${under}); not applied` });
        continue;
      }
      for (const p of [...made.keys()].filter(gone)) made.delete(p);
      // Nothing is made there any more, so nothing is declared there either.
      for (const [s, ds] of declared) declared.set(s, ds.filter((d) => !gone(ctx.canonical(d.path))));
      continue;
    }
    if (e.kind === 'directory') {
      // mkdir on an installed file fails, and so would the script.
      if (shipped) throw new UserError(`${source}: a script creates the directory ${e.path}, but a package installs a file there`);
      made.set(path, { path, type: 'directory', mode: e.mode, uid: id('user', e.user), gid: id('group', e.group) });
      declare(source, { type: 'd', path: e.path, mode: e.mode, user: e.user, group: e.group });
    } else if (e.kind === 'attributes') {
      const target = made.get(path) ?? shippedDirectory(ctx.directories.get(path));
      if (target === undefined && (shipped || copied)) {
        // chown/chmod/statoverride of a packaged file (ssh-agent setgid _ssh): a copy in the
        // final layer carries the change; later changes to the same file add to it.
        const change: CopyUpChange = definedOnly({
          uid: e.user !== undefined ? id('user', e.user) : undefined,
          gid: e.group !== undefined ? id('group', e.group) : undefined,
          mode: e.mode,
          modeChange: e.modeChange && { clear: e.modeChange.clear, add: e.modeChange.add },
          capability: e.capability,
        });
        const earlier = copyUps.get(path);
        copyUps.set(path, { ...earlier, path, source: earlier?.source ?? source, changes: [...(earlier?.changes ?? []), change] });
        // The packaged mode is read from its layer later, so a symbolic change declares none;
        // capabilities have no tmpfiles.d line (its `t` writes text, not setcap's bytes).
        if (e.mode !== undefined || e.user !== undefined || e.group !== undefined) declare(source, { type: 'z', path: e.path, mode: e.mode, user: e.user, group: e.group });
        continue;
      }
      if (target === undefined || target.type === 'symlink' || (e.capability !== undefined && target.type !== 'file')) {
        const mode = e.mode !== undefined ? `mode ${e.mode.toString(8).padStart(4, '0')}` : e.modeChange ? `mode ${e.modeChange.text}` : '';
        const change = [e.user !== undefined || e.group !== undefined ? `owner ${e.user ?? ''}:${e.group ?? ''}` : '', mode, e.capability !== undefined ? `capabilities ${e.capability}` : ''].filter(Boolean).join(', ');
        const what = e.capability !== undefined ? 'regular file' : 'directory';
        const leftOutBy = target === undefined ? ctx.leftOut?.get(path) : undefined;
        if (leftOutBy !== undefined) notes.push({ source, effect: `${e.path}: ${change} goes with what ${leftOutBy} makes at first start` });
        else unresolved.push({ source, effect: `${e.path}: no such ${what} in the image, so ${change} is not applied` });
        continue;
      }
      const newMode = e.mode ?? (e.modeChange ? changedMode(target.mode, e.modeChange) : undefined);
      const changed = { ...target, ...(newMode !== undefined ? { mode: newMode } : {}), ...(e.user !== undefined ? { uid: id('user', e.user) } : {}), ...(e.group !== undefined ? { gid: id('group', e.group) } : {}) };
      if (changed.type === 'file') changed.xattrs = xattrsAfter(changed.xattrs, { chown: e.user !== undefined || e.group !== undefined, capability: e.capability });
      made.set(path, changed);
      if (newMode === undefined && e.user === undefined && e.group === undefined) continue;
      // A chown right after the source's own mkdir or touch belongs on that line: tmpfiles makes
      // the path with its owner at once (and refuses a root-owned file under a user's directory).
      const own = declared.get(source)?.find((d) => d.path === e.path && d.type !== 'L' && d.type !== 'L+');
      if (own) Object.assign(own, definedOnly({ mode: newMode, user: e.user, group: e.group }));
      else declare(source, { type: 'z', path: e.path, mode: newMode, user: e.user, group: e.group });
    } else if (e.ifMissing && (shipped || copied || made.has(path) || ctx.directories.has(path))) {
      continue;
    } else if (e.kind === 'file' && e.copyOf) {
      // cp of another package's file: read from its layer by the builder, under umask 022 unless -p.
      made.delete(path);
      // Without -p the copy is root's, and set-id bits are not copied.
      const umask: CopyUpChange[] = e.copyOf.keepMode ? [] : [{ uid: 0, gid: 0 }, { modeChange: { clear: 0o7022, add: 0 } }];
      copyUps.set(path, { path, from: ctx.canonical(e.copyOf.path), source, changes: umask });
    } else if (e.kind === 'symlink') {
      // In the final layer a link replaces the lower layers' directory with everything under it.
      const hidden = [...ctx.installed].find((p) => p.startsWith(`${path}/`));
      if (hidden !== undefined) {
        throw new UserError(`${source}: a script turns ${e.path} into a link to ${e.target}, which would hide /${hidden} that a package installs under it`);
      }
      made.set(path, { path, type: 'symlink', linkname: e.target });
      declare(source, { type: e.ifMissing ? 'L' : 'L+', path: e.path, target: e.target });
    } else {
      made.set(path, { path, type: 'file', mode: e.mode, uid: id('user', e.user), gid: id('group', e.group), content: Buffer.from(e.content, 'base64') });
      // tmpfiles can state an empty file; content is applied but not declared.
      if (e.content === '') declare(source, { type: e.ifMissing ? 'f' : 'f+', path: e.path, mode: e.mode, user: e.user, group: e.group });
    }
  }
  const tmpfiles = new Map([...declared].map(([source, ds]) => [source, ds.map(tmpfilesLine)]));
  return { entries: [...made.values()], copyUps: [...copyUps.values()], tmpfiles, unresolved, notes };
}

/** `chown USER:` with the group made explicit: the user's login group, or none (reported) when the user is unknown. */
function withLoginGroup(e: AttributesEffect, ctx: FilesystemContext, report: (msg: string) => void): AttributesEffect {
  const { loginGroup: _, ...rest } = e;
  const group = e.user === undefined ? undefined : ctx.loginGroupOf?.(e.user);
  if (group === undefined) report(`${e.path}: the login group of "${e.user ?? ''}" is not known; only the owner is applied`);
  return group === undefined ? rest : { ...rest, group };
}

/** One tmpfiles.d line to be written. */
interface Declared {
  type: 'd' | 'z' | 'f' | 'f+' | 'L' | 'L+';
  path: string;
  mode?: number;
  user?: string;
  group?: string;
  target?: string;
}

/** The fields of `o` that are set (an attributes effect changes only those). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function shippedDirectory(d: InstalledDirectory | undefined): FinalEntry | undefined {
  return d && { path: d.path, type: 'directory', mode: d.mode, uid: d.uid, gid: d.gid };
}

function tmpfilesLine(d: Declared): string {
  if (d.type === 'L' || d.type === 'L+') return `${d.type} ${quote(d.path)} - - - - ${quote(d.target ?? '')}`;
  const m = d.mode === undefined ? '-' : d.mode.toString(8).padStart(4, '0');
  return `${d.type} ${quote(d.path)} ${m} ${d.user ?? '-'} ${d.group ?? '-'} -`;
}

/** tmpfiles.d fields are split on whitespace; quote the rare path that has some. */
function quote(s: string): string {
  return /[\s"'\\]/.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : s;
}
