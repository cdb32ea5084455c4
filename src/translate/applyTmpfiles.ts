import type { FinalEntry } from '../../adapters/types.js';
import { orderConfigFiles, parseId } from './sysusersConf.js';
import { tmpfilesArgument, tmpfilesPath, type TmpfilesLine } from './tmpfilesConf.js';

/** What the packages put at a path (relative, no leading "/"). */
export interface ExistingPath {
  /** 'other': a non-directory of unknown kind (a file or a link; a fifo or device). */
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits (07777); anything above is ignored. */
  mode: number;
  uid: number;
  gid: number;
  /** A symlink's target, when known: needed to resolve paths through it and to compare L lines. */
  target?: string;
  /** A file's content, when known: needed to rewrite it (w, or new owner/mode on an existing file). */
  content?: Buffer;
}

/** What `applyTmpfiles` knows of the image. */
export interface TmpfilesContext {
  existing(relPath: string): ExistingPath | undefined;
  /** uid of a user name (systemd-tmpfiles reads /etc/passwd of the root); numbers are parsed here. */
  uidOf(name: string): number | undefined;
  gidOf(name: string): number | undefined;
  /** Names inside a directory the packages install, for Z lines; without it Z stops at the path itself. */
  list?(relPath: string): string[];
}

/** What the tool would have changed, and what could not be reproduced. */
export interface TmpfilesResult {
  /** What the final layer adds or replaces: new objects, and existing ones with a new mode or owner. */
  entries: FinalEntry[];
  /** Lines whose effect cannot be reproduced from what is known here, each naming file and line. */
  notApplied: string[];
  /** Lines the real tool would reject or fail on (so they change nothing here either). */
  failed: string[];
}

type NodeType = ExistingPath['type'];

interface Node {
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  target?: string;
  content?: Buffer;
}

type Creation = 'normal' | 'existing' | 'force' | 'copy';

interface Item {
  line: TmpfilesLine;
  type: string;
  path: string;
  arg?: Buffer;
  uid?: number;
  gid?: number;
  uidOnlyCreate: boolean;
  gidOnlyCreate: boolean;
  mode: number;
  modeSet: boolean;
  masked: boolean;
  modeOnlyCreate: boolean;
  done: boolean;
}

interface ItemArray {
  path: string;
  items: Item[];
  parent?: ItemArray;
}

const TAKES_OWNERSHIP = 'fFdeDvqQpLcbCwxXrR';
const GLOB_TYPES = 'wexXrRzZtTaAhH';
const DIRECTORY_TYPES = 'dDvqQ';
const SYMLINK_MAX = 32;

/**
 * Emulate `systemd-tmpfiles --create --root=<image>` (systemd 252) on a described image, without
 * `--boot` (so `!` lines do nothing) and without credentials (so `^` lines do nothing).
 * `lines` are all files' lines, each naming its file: files run in basename order, and a later
 * file with an already seen basename replaces the earlier one. Per path the tool keeps the lines
 * that agree and ignores conflicting ones (first wins); a path's parent lines run first; plain
 * paths before glob types. Parent directories are made 0755 root:root; new files 0644, new
 * directories 0755 unless the line gives a mode. Symlinks are followed within the image root.
 * Subvolumes (v, q, Q) are plain directories, as on a non-btrfs root.
 */
export function applyTmpfiles(lines: TmpfilesLine[], ctx: TmpfilesContext): TmpfilesResult {
  const run = new TmpfilesRun(ctx);
  run.load(orderByFile(lines));
  run.processAll();
  return run.result();
}

/**
 * Lines regrouped into file occurrences (a new one whenever the file changes or its line numbers
 * restart, so a file applied twice counts once), then ordered and overridden like systemd's
 * configuration directories.
 */
function orderByFile(lines: TmpfilesLine[]): TmpfilesLine[] {
  const groups: { file: string; lines: TmpfilesLine[] }[] = [];
  for (const l of lines) {
    const last = groups[groups.length - 1];
    const prev = last?.lines[last.lines.length - 1];
    if (last !== undefined && prev !== undefined && last.file === l.source.file && l.source.line > prev.source.line) last.lines.push(l);
    else groups.push({ file: l.source.file, lines: [l] });
  }
  return orderConfigFiles(groups).flatMap((g) => g.lines);
}

type Resolved = { ok: true; rel: string; node: Node | undefined } | { ok: false; unknown: boolean; error: string };

class TmpfilesRun {
  private readonly nodes = new Map<string, Node | null>();
  /** Paths whose lower-layer content was removed (replaced by another type). */
  private readonly cleared = new Set<string>();
  private readonly lastItem = new Map<string, Item>();
  private readonly items = new Map<string, ItemArray>();
  private readonly globs = new Map<string, ItemArray>();
  private readonly notApplied: string[] = [];
  private readonly failed: string[] = [];

  constructor(private readonly ctx: TmpfilesContext) {}

  // ---- reading lines into per-path arrays, as systemd-tmpfiles' parse_line does ----

  load(lines: TmpfilesLine[]): void {
    for (const line of lines) {
      // Without --boot and without credentials the tool drops these lines while parsing.
      if (line.modifiers.boot || line.modifiers.credential) continue;
      const item = this.toItem(line);
      if (item !== undefined) this.insert(item);
    }
    for (const a of [...this.items.values(), ...this.globs.values()]) a.parent = this.parentArray(a.path);
  }

  private toItem(line: TmpfilesLine): Item | undefined {
    const type = line.type === 'm' ? 'z' : line.type;
    const path = tmpfilesPath(line);
    let arg = tmpfilesArgument(line);
    if ((type === 'L' || type === 'C') && arg === undefined) arg = Buffer.from(`/usr/share/factory${path}`);
    const item: Item = {
      line,
      type,
      path,
      arg,
      uidOnlyCreate: line.user?.onlyCreate ?? false,
      gidOnlyCreate: line.group?.onlyCreate ?? false,
      mode: line.mode?.value ?? (DIRECTORY_TYPES.includes(type) ? 0o755 : 0o644),
      modeSet: line.mode !== undefined,
      masked: line.mode?.masked ?? false,
      modeOnlyCreate: line.mode?.onlyCreate ?? false,
      done: false,
    };
    if (type === 'C' && !this.copySourceExists(item)) return undefined;
    if (line.user !== undefined) {
      item.uid = ownerId(line.user.name, (n) => this.ctx.uidOf(n));
      if (item.uid === undefined) return void this.report(this.notApplied, item, `unknown user "${line.user.name}"`);
    }
    if (line.group !== undefined) {
      item.gid = ownerId(line.group.name, (n) => this.ctx.gidOf(n));
      if (item.gid === undefined) return void this.report(this.notApplied, item, `unknown group "${line.group.name}"`);
    }
    return item;
  }

  /** The tool checks C sources while parsing, before anything is created, and drops lines without one. */
  private copySourceExists(item: Item): boolean {
    const r = this.resolve(item.arg?.toString() ?? '', { followLast: false, safe: false });
    if (!r.ok && r.unknown) this.report(this.notApplied, item, `cannot tell whether the copy source exists (${r.error})`);
    return r.ok && r.node !== undefined;
  }

  private insert(item: Item): void {
    const map = GLOB_TYPES.includes(item.type) ? this.globs : this.items;
    const array = map.get(item.path) ?? { path: item.path, items: [] };
    map.set(item.path, array);
    if (array.items.some((e) => !compatible(e, item) && !(e.type === 'w' && item.type === 'w' && e.line.modifiers.force && item.line.modifiers.force))) return;
    array.items.push(item);
    // Creating lines first, then by type letter; Array.prototype.sort is stable like glibc's qsort here.
    array.items.sort((a, b) => Number(!owns(a.type)) - Number(!owns(b.type)) || a.type.charCodeAt(0) - b.type.charCodeAt(0));
  }

  /** The nearest ancestor path with lines of its own (plain first, then glob), processed first. */
  private parentArray(path: string): ItemArray | undefined {
    for (let p = path.slice(0, path.lastIndexOf('/')); p !== ''; p = p.slice(0, p.lastIndexOf('/'))) {
      const j = this.items.get(p) ?? this.globs.get(p);
      if (j !== undefined) return j;
    }
    return undefined;
  }

  // ---- running them ----

  processAll(): void {
    for (const a of this.items.values()) this.processArray(a);
    for (const a of this.globs.values()) this.processArray(a);
  }

  private processArray(a: ItemArray): void {
    if (a.parent !== undefined) this.processArray(a.parent);
    for (const item of a.items) {
      if (item.done) continue;
      item.done = true;
      this.create(item);
    }
  }

  private create(it: Item): void {
    const rel = it.path.slice(1);
    if (rel === '') return this.report(this.notApplied, it, 'lines on the root directory itself are not reproduced');
    if (GLOB_TYPES.includes(it.type) && /[*?[{]/.test(it.path)) return this.report(this.notApplied, it, 'glob patterns need a listing of the image');
    switch (it.type) {
      case 'f':
      case 'F':
        if (!this.mkdirParents(it, 'file')) return;
        return it.type === 'F' || it.line.modifiers.force ? this.truncateFile(it) : this.createFile(it);
      case 'd':
      case 'D':
      case 'v':
      case 'q':
      case 'Q':
        if (!this.mkdirParents(it, 'directory')) return;
        return this.createDirectory(it);
      case 'L':
        if (!this.mkdirParents(it, 'symlink')) return;
        return this.createSymlink(it);
      case 'C':
        if (!this.mkdirParents(it, undefined)) return;
        return this.copy(it);
      case 'w':
        return this.write(it);
      case 'e':
        return this.emptyDirectory(it);
      case 'z':
        return this.adjust(it, false);
      case 'Z':
        return this.adjust(it, true);
      case 'p':
      case 'c':
      case 'b':
        if (!this.mkdirParents(it, undefined)) return;
        return this.report(this.notApplied, it, it.type === 'p' ? 'the final layer cannot hold a fifo' : 'device nodes are not made in images');
      case 't':
      case 'T':
      case 'a':
      case 'A':
      case 'h':
      case 'H':
        return this.report(this.notApplied, it, 'extended attributes, ACLs and file attributes are not carried by the final layer');
      default:
        // x, X, r, R: nothing to do on --create.
        return;
    }
  }

  // ---- the item types ----

  private createDirectory(it: Item): void {
    const at = this.openParent(it);
    if (at === undefined) return;
    const node = this.get(at.rel);
    if (node === undefined) {
      const made = this.newNode(at.parent, { type: 'directory', mode: it.mode & 0o1777, uid: 0, gid: 0 });
      this.put(at.rel, made, it);
      return this.setPerms(it, at.rel, made, 'normal');
    }
    // An existing non-directory (even a link to one) makes the line fail, as does an unknown kind.
    if (node.type !== 'directory') return this.report(this.failed, it, `/${at.rel} already exists and is not a directory`);
    this.setPerms(it, at.rel, node, 'existing');
  }

  private createFile(it: Item): void {
    const at = this.openParent(it);
    if (at === undefined) return;
    const node = this.get(at.rel);
    if (node === undefined) {
      const made = this.newNode(at.parent, { type: 'file', mode: it.mode & 0o7777, uid: 0, gid: 0, content: it.arg ?? Buffer.alloc(0) });
      this.put(at.rel, made, it);
      return this.setPerms(it, at.rel, made, 'normal');
    }
    if (node.type === 'other') return this.unknownUnlessNoop(it, at.rel);
    if (node.type !== 'file') return this.report(this.failed, it, `/${at.rel} exists and is not a regular file`);
    this.setPerms(it, at.rel, node, 'existing');
  }

  /** f+ and F: (re)write the content of a regular file, creating it if needed. */
  private truncateFile(it: Item): void {
    const at = this.openParent(it);
    if (at === undefined) return;
    const node = this.get(at.rel);
    const content = it.arg ?? Buffer.alloc(0);
    if (node === undefined) {
      const made = this.newNode(at.parent, { type: 'file', mode: it.mode & 0o7777, uid: 0, gid: 0, content });
      this.put(at.rel, made, it);
      return this.setPerms(it, at.rel, made, 'normal');
    }
    if (node.type === 'other') return this.report(this.notApplied, it, `the kind of /${at.rel} (file or link) is not known`);
    if (node.type !== 'file') return this.report(this.failed, it, `/${at.rel} exists and is not a regular file`);
    const rewritten = { ...node, content };
    this.put(at.rel, rewritten, it);
    this.setPerms(it, at.rel, rewritten, 'existing');
  }

  private createSymlink(it: Item): void {
    const at = this.openParent(it);
    if (at === undefined) return;
    const target = it.arg?.toString() ?? '';
    const node = this.get(at.rel);
    let creation: Creation = 'existing';
    let current = node;
    if (node === undefined) {
      creation = 'normal';
    } else if (node.type === 'other' || (node.type === 'symlink' && node.target === undefined)) {
      if (!it.line.modifiers.force) return this.unknownUnlessNoop(it, at.rel);
      current = undefined;
    } else if (!(node.type === 'symlink' && node.target === target)) {
      if (!it.line.modifiers.force) return;
      current = undefined;
    }
    if (current === undefined) {
      // L+ replaces whatever is there, a directory with everything below it.
      if (node !== undefined) this.remove(at.rel);
      current = this.newNode(at.parent, { type: 'symlink', mode: 0o777, uid: 0, gid: 0, target });
      this.put(at.rel, current, it);
      if (node !== undefined) creation = 'force';
    }
    this.setPerms(it, at.rel, current, creation);
  }

  private copy(it: Item): void {
    const at = this.openParent(it);
    if (at === undefined) return;
    const from = this.resolve(it.arg?.toString() ?? '', { followLast: false, safe: false });
    if (!from.ok || from.node === undefined) return this.report(this.failed, it, 'the copy source vanished');
    const src = from.node;
    const there = this.get(at.rel);
    // Into an empty directory the tool merges a source tree: what is below neither is listed here.
    if (there?.type === 'directory' && src.type === 'directory') return this.report(this.notApplied, it, 'copying a directory tree is not reproduced');
    if (there === undefined) {
      if (src.type === 'file' && src.content !== undefined) {
        this.put(at.rel, { type: 'file', mode: src.mode, uid: it.uid ?? src.uid, gid: it.gid ?? src.gid, content: src.content }, it);
      } else if (src.type === 'symlink' && src.target !== undefined) {
        this.put(at.rel, { type: 'symlink', mode: 0o777, uid: it.uid ?? src.uid, gid: it.gid ?? src.gid, target: src.target }, it);
      } else {
        return this.report(this.notApplied, it, src.type === 'directory' ? 'copying a directory tree is not reproduced' : `the content of ${it.arg?.toString() ?? ''} is not known`);
      }
    }
    const made = this.get(at.rel);
    const followed = this.resolve(it.arg?.toString() ?? '', { followLast: true, safe: false });
    if (made === undefined || !followed.ok || followed.node === undefined) return;
    if (made.type === 'other' || followed.node.type === 'other') return this.unknownUnlessNoop(it, at.rel);
    // The tool only adjusts a target of the same kind as the (followed) source.
    if (made.type === followed.node.type) this.setPerms(it, at.rel, made, 'copy');
  }

  private write(it: Item): void {
    if (!this.exists(it.path)) return;
    const at = this.openParent(it);
    if (at === undefined) return;
    const r = this.resolve(it.path, { followLast: true, safe: false });
    if (!r.ok) return r.unknown ? this.report(this.notApplied, it, r.error) : undefined;
    const node = r.node;
    if (node === undefined) return;
    if (node.type === 'directory') return this.report(this.failed, it, `/${r.rel} is a directory`);
    if (node.type !== 'file') return this.report(this.notApplied, it, `writing into /${r.rel} (not a known regular file)`);
    const arg = it.arg ?? Buffer.alloc(0);
    if (node.content === undefined) return this.report(this.notApplied, it, `the current content of /${r.rel} is not known`);
    // w overwrites from the start without truncating; w+ appends.
    const content = it.line.modifiers.force ? Buffer.concat([node.content, arg]) : Buffer.concat([arg, node.content.subarray(arg.length)]);
    const written = { ...node, content };
    this.put(r.rel, written, it);
    this.setPerms(it, r.rel, written, 'existing');
  }

  private emptyDirectory(it: Item): void {
    if (!this.exists(it.path)) return;
    const r = this.resolve(it.path, { followLast: true, safe: true });
    if (!r.ok) return this.report(r.unknown ? this.notApplied : this.failed, it, r.error);
    if (r.node === undefined) return;
    if (r.node.type === 'other') return this.unknownUnlessNoop(it, r.rel);
    if (r.node.type !== 'directory') return;
    this.setPerms(it, r.rel, r.node, 'existing');
  }

  /** z (path itself, not following a final link) and Z (everything below too). */
  private adjust(it: Item, recursive: boolean): void {
    if (!this.exists(it.path)) return;
    const r = this.resolve(it.path, { followLast: false, safe: !recursive });
    if (!r.ok) return this.report(r.unknown ? this.notApplied : this.failed, it, r.error);
    if (r.node === undefined) return;
    this.setPerms(it, r.rel, r.node, 'existing');
    if (recursive && r.node.type === 'directory') this.adjustBelow(it, r.rel);
  }

  private adjustBelow(it: Item, rel: string): void {
    const names = this.childrenOf(rel);
    if (names === undefined) return this.report(this.notApplied, it, `only /${rel} itself was adjusted: what the packages install below it is not listed`);
    for (const name of names) {
      const child = `${rel}/${name}`;
      const node = this.get(child);
      if (node === undefined) continue;
      this.setPerms(it, child, node, 'existing');
      if (node.type === 'directory') this.adjustBelow(it, child);
    }
  }

  // ---- permissions ----

  /** fd_set_perms: chown/chmod per the line; `:`-prefixed values only when the line created the object. */
  private setPerms(it: Item, rel: string, node: Node, creation: Creation): void {
    if (!it.modeSet && it.uid === undefined && it.gid === undefined) return;
    if (node.type === 'other') return this.report(this.notApplied, it, `the kind of /${rel} is not known`);
    const existing = creation === 'existing';
    const uid = it.uid !== undefined && !(existing && it.uidOnlyCreate) ? it.uid : node.uid;
    const gid = it.gid !== undefined && !(existing && it.gidOnlyCreate) ? it.gid : node.gid;
    let mode = node.mode;
    if (it.modeSet && !(existing && it.modeOnlyCreate) && node.type !== 'symlink') mode = it.masked ? maskedMode(it.mode, node) : it.mode;
    if (uid === node.uid && gid === node.gid && mode === node.mode) return;
    this.put(rel, { ...node, uid, gid, mode }, it);
  }

  private unknownUnlessNoop(it: Item, rel: string): void {
    if (it.modeSet || it.uid !== undefined || it.gid !== undefined) this.report(this.notApplied, it, `the kind of /${rel} is not known`);
  }

  // ---- parents ----

  /** mkdir -p of the parents (0755 root), or with `=` the replacing walk that removes wrong types. */
  private mkdirParents(it: Item, child: NodeType | undefined): boolean {
    if (it.line.modifiers.replace) return this.mkdirParentsReplacing(it, child);
    const parts = it.path.split('/').filter((c) => c !== '');
    for (let k = 1; k < parts.length; k++) {
      const parent = this.resolve(`/${parts.slice(0, k - 1).join('/')}`, { followLast: true, safe: false });
      if (!parent.ok || parent.node?.type !== 'directory') break;
      const rel = join(parent.rel, parts[k - 1] ?? '');
      // mkdir_parents chmods to exactly 0755 after mkdir: a set-gid parent passes its group, not the bit.
      if (this.get(rel) === undefined) this.put(rel, { ...this.newNode(parent.node, { type: 'directory', mode: 0o755, uid: 0, gid: 0 }), mode: 0o755 }, it);
    }
    return true;
  }

  private mkdirParentsReplacing(it: Item, child: NodeType | undefined): boolean {
    const parts = it.path.split('/').filter((c) => c !== '');
    let dir = '';
    let dirNode = this.get('') ?? ROOT;
    for (const [k, name] of parts.entries()) {
      const rel = join(dir, name);
      const node = this.get(rel);
      if (k === parts.length - 1) {
        if (child !== undefined && node !== undefined && node.type !== child) {
          if (node.type === 'other') return this.stop(it, this.notApplied, `the kind of /${rel} is not known`);
          this.remove(rel);
        }
        return true;
      }
      const followed = node?.type === 'symlink' ? this.resolve(`/${rel}`, { followLast: true, safe: false }) : undefined;
      if (node?.type === 'other' || (followed !== undefined && !followed.ok && followed.unknown)) return this.stop(it, this.notApplied, `the kind of /${rel} is not known`);
      const target = followed?.ok ? followed.node : node;
      if (target?.type === 'directory') {
        if (dirNode.uid !== 0 && target.uid !== dirNode.uid) return this.stop(it, this.failed, `unsafe path transition to /${rel}`);
        dir = followed?.ok ? followed.rel : rel;
        dirNode = target;
        continue;
      }
      if (node !== undefined) this.remove(rel);
      const made = this.newNode(dirNode, { type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      this.put(rel, made, it);
      dir = rel;
      dirNode = made;
    }
    return true;
  }

  private stop(it: Item, list: string[], why: string): boolean {
    this.report(list, it, why);
    return false;
  }

  /** path_open_parent_safe: the parent directory, through links within the root, without unsafe owner changes. */
  private openParent(it: Item): { rel: string; parent: Node } | undefined {
    if (it.path.split('/').includes('..')) return void this.report(this.failed, it, 'path not normalized');
    const slash = it.path.lastIndexOf('/');
    const r = this.resolve(it.path.slice(0, slash) || '/', { followLast: true, safe: true });
    if (!r.ok) return void this.report(r.unknown ? this.notApplied : this.failed, it, r.error);
    if (r.node === undefined || r.node.type !== 'directory') {
      return void this.report(r.node?.type === 'other' ? this.notApplied : this.failed, it, `parent of ${it.path} is not a directory`);
    }
    return { rel: join(r.rel, it.path.slice(slash + 1)), parent: r.node };
  }

  /** New objects take the group (and, for directories, the set-gid bit) of a set-gid parent. */
  private newNode(parent: Node | undefined, node: Node): Node {
    if (parent === undefined || (parent.mode & 0o2000) === 0) return node;
    return { ...node, gid: parent.gid, mode: node.type === 'directory' ? node.mode | 0o2000 : node.mode };
  }

  /** Whether something is at the path, links not followed at the end (what glob() finds). */
  private exists(path: string): boolean {
    const r = this.resolve(path, { followLast: false, safe: false });
    return r.ok && r.node !== undefined;
  }

  // ---- the tree: the packages' paths with this run's changes over them ----

  /** chase_symlinks within the root; a missing last component is `node: undefined`. */
  private resolve(path: string, opts: { followLast: boolean; safe: boolean }): Resolved {
    const todo = path.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let prev = this.get('') ?? ROOT;
    let follows = SYMLINK_MAX;
    const fail = (error: string, unknown = false): Resolved => ({ ok: false, unknown, error });
    while (todo.length > 0) {
      const name = todo.shift() ?? '';
      if (name === '..') {
        done.pop();
        continue;
      }
      const rel = join(done.join('/'), name);
      const node = this.get(rel);
      if (node === undefined) return todo.length === 0 ? { ok: true, rel, node } : fail(`/${rel}: no such file or directory`);
      if (opts.safe && prev.uid !== 0 && node.uid !== prev.uid) return fail(`unsafe path transition to /${rel}`);
      prev = node;
      const last = todo.length === 0;
      if (node.type === 'symlink' && !(last && !opts.followLast)) {
        if (node.target === undefined) return fail(`the target of the link /${rel} is not known`, true);
        if (--follows <= 0) return fail(`/${rel}: too many levels of symbolic links`);
        if (node.target.startsWith('/')) done.length = 0;
        todo.unshift(...node.target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      if (!last && node.type !== 'directory') return fail(`/${rel} is not a directory`, node.type === 'other');
      done.push(name);
      if (last) return { ok: true, rel: done.join('/'), node };
    }
    return { ok: true, rel: done.join('/'), node: this.get(done.join('/')) ?? (done.length === 0 ? ROOT : undefined) };
  }

  private get(rel: string): Node | undefined {
    const mine = this.nodes.get(rel);
    if (mine !== undefined) return mine ?? undefined;
    if (!this.lowerVisible(rel)) return undefined;
    const e = this.ctx.existing(rel);
    if (e === undefined) return undefined;
    return { type: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, target: e.target, content: e.content };
  }

  /** Lower-layer paths at or under a removed path are gone. */
  private lowerVisible(rel: string): boolean {
    for (let p = rel; ; p = p.slice(0, p.lastIndexOf('/'))) {
      if (this.cleared.has(p)) return false;
      if (!p.includes('/')) return true;
    }
  }

  private put(rel: string, node: Node, it: Item): void {
    this.nodes.set(rel, node);
    this.lastItem.set(rel, it);
  }

  /** rm -rf: the path and everything this run made below it; lower-layer content is hidden. */
  private remove(rel: string): void {
    for (const key of [...this.nodes.keys()]) if (key.startsWith(`${rel}/`)) this.nodes.delete(key);
    this.nodes.delete(rel);
    this.nodes.set(rel, null);
    this.cleared.add(rel);
  }

  private childrenOf(rel: string): string[] | undefined {
    const names = new Set<string>();
    for (const [key, node] of this.nodes) {
      if (node !== null && key.startsWith(`${rel}/`) && !key.slice(rel.length + 1).includes('/')) names.add(key.slice(rel.length + 1));
    }
    const lower = this.lowerVisible(rel) ? this.ctx.existing(rel) : undefined;
    if (lower?.type === 'directory') {
      if (this.ctx.list === undefined) return undefined;
      for (const n of this.ctx.list(rel)) names.add(n);
    }
    return [...names].sort();
  }

  // ---- output ----

  private report(list: string[], it: Item, why: string): void {
    list.push(`${it.line.source.file}:${it.line.source.line}: ${it.line.type} ${it.line.path}: ${why}`);
  }

  result(): TmpfilesResult {
    const entries: FinalEntry[] = [];
    for (const [rel, node] of this.nodes) {
      if (node === null || this.sameAsLower(rel, node)) continue;
      const entry = this.entry(rel, node);
      if (entry !== undefined) entries.push(entry);
    }
    return { entries, notApplied: this.notApplied, failed: this.failed };
  }

  private sameAsLower(rel: string, node: Node): boolean {
    const e = this.lowerVisible(rel) ? this.ctx.existing(rel) : undefined;
    if (e === undefined || e.type !== node.type || (e.mode & 0o7777) !== node.mode || e.uid !== node.uid || e.gid !== node.gid) return false;
    if (node.type === 'symlink') return e.target === node.target;
    return node.type !== 'file' || (e.content !== undefined && node.content !== undefined && e.content.equals(node.content));
  }

  private entry(rel: string, node: Node): FinalEntry | undefined {
    const it = this.lastItem.get(rel);
    const cannot = (why: string): undefined => {
      if (it !== undefined) this.report(this.notApplied, it, why);
      return undefined;
    };
    switch (node.type) {
      case 'directory':
        // A fresh directory where the packages have one would still show their content.
        if (this.cleared.has(rel) && this.ctx.existing(rel)?.type === 'directory') return cannot(`/${rel} was emptied, which the final layer cannot express`);
        return { path: rel, type: 'directory', mode: node.mode, uid: node.uid, gid: node.gid };
      case 'file':
        if (node.content === undefined) return cannot(`the content of /${rel} is not known, so it cannot be written with its new owner or mode`);
        return { path: rel, type: 'file', mode: node.mode, uid: node.uid, gid: node.gid, content: node.content };
      case 'symlink':
        if (node.uid !== 0 || node.gid !== 0) return cannot(`the link /${rel} would be owned by ${node.uid}:${node.gid}, which the final layer cannot express`);
        if (node.target === undefined) return undefined;
        return { path: rel, type: 'symlink', linkname: node.target };
      default:
        return undefined;
    }
  }
}

const ROOT: Node = { type: 'directory', mode: 0o755, uid: 0, gid: 0 };

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function owns(type: string): boolean {
  return TAKES_OWNERSHIP.includes(type);
}

/** systemd resolves numbers (strictly), then "root", then the image's account files. */
function ownerId(name: string, lookup: (name: string) => number | undefined): number | undefined {
  return parseId(name) ?? (name === 'root' ? 0 : lookup(name));
}

/** `~` modes: keep a class's r/w/x only where the current mode has some; set-id bits only on directories. */
function maskedMode(mode: number, node: Node): number {
  let m = mode;
  for (const bit of [0o111, 0o222, 0o444]) if ((node.mode & bit) === 0) m &= ~bit;
  if (node.type !== 'directory') m &= ~0o7000;
  return m;
}

/** item_compatible: lines for one path that create it must agree on everything they set. */
function compatible(a: Item, b: Item): boolean {
  if (!owns(a.type) || !owns(b.type)) return true;
  const argA = a.arg ?? Buffer.alloc(0);
  const argB = b.arg ?? Buffer.alloc(0);
  return (
    argA.equals(argB) &&
    a.uid === b.uid &&
    a.uidOnlyCreate === b.uidOnlyCreate &&
    a.gid === b.gid &&
    a.gidOnlyCreate === b.gidOnlyCreate &&
    a.modeSet === b.modeSet &&
    a.mode === b.mode &&
    a.modeOnlyCreate === b.modeOnlyCreate &&
    a.masked === b.masked &&
    a.line.age === b.line.age
  );
}
