/**
 * The paths one package has shipped so far, and what every format's unpacker does with each new
 * entry before it may reach a layer: the checks dpkg, apk-tools and libalpm make, and their way
 * with an entry beneath the package's own symlink, so that no layer entry ever lies beneath a
 * symlink (where it would land would otherwise be left to the tool that extracts the layer).
 */
import { UserError } from '../src/errors.js';
import type { LayerEntry, UnpackLimits } from './types.js';

/**
 * What the format's installer does with an entry beneath a symlink the same package shipped
 * earlier: dpkg fails (it renames symlinks into place only once the package is unpacked, so the
 * directory is not there yet: "unable to create …: No such file or directory"); libalpm
 * (libarchive, secure symlinks) replaces the symlink with a directory and extracts into it;
 * apk-tools is not checked here (not installable on this machine), so it is refused rather than
 * guessed.
 */
export type OwnSymlinkPolicy = 'refuse' | 'replace-with-directory';

/**
 * What the names and link targets of one package may add up to. They are held for the whole
 * build (layer index, package database, conflict checks), so their total bounds its memory as
 * much as the number of entries does; the largest in Debian bookworm (sagemath-doc) is 8.9 MB.
 */
export const NAME_BYTES_LIMIT = 32 * 1024 * 1024;

export class PackageTree {
  /** Each path the package ships (where the format puts it, relative) → its type, in the package's order. */
  private readonly types = new Map<string, LayerEntry['type']>();
  private nameBytes = 0;

  constructor(
    private readonly label: string,
    private readonly limits: Pick<UnpackLimits, 'maxEntries'>,
    private readonly policy: OwnSymlinkPolicy,
  ) {}

  /**
   * Admit an entry shipped as `shipped` whose `path` is where the format puts it: refuses a name
   * no package database can record, deals with symlinks of the package above it as its installer
   * does (the directories that replace them are returned, to be written before the entry), and
   * refuses a path shipped before with another type, a path beneath something that is not a
   * directory, and a hard link to anything but an earlier regular file of the package.
   */
  admit(entry: LayerEntry, shipped: string): LayerEntry[] {
    checkName(shipped, 'entry', this.label);
    if (entry.linkname !== undefined) checkName(entry.linkname, `link target of "${shipped}"`, this.label, { newlineAllowed: true });
    const replaced = this.ownSymlinksAbove(entry, shipped);
    const path = entry.path;
    const before = this.types.get(path);
    if (before !== undefined && before !== entry.type) {
      throw new UserError(`${this.label}: refusing tar entry "${shipped}": the package ships this path twice, as a ${before} and as a ${entry.type}`);
    }
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
      const ancestor = this.types.get(path.slice(0, slash));
      if (ancestor === undefined || ancestor === 'directory') continue;
      throw new UserError(`${this.label}: refusing tar entry "${shipped}": it lies beneath "${path.slice(0, slash)}", which the package shipped as a ${ancestor}, not a directory`);
    }
    if (entry.type === 'hardlink' && this.types.get(entry.linkname ?? '') !== 'file') {
      throw new UserError(`${this.label}: refusing hard link "${shipped}" to "${entry.linkname}": its target is not an earlier regular file of the package`);
    }
    this.types.set(path, entry.type);
    this.nameBytes += shipped.length + (entry.linkname?.length ?? 0);
    if (this.nameBytes > NAME_BYTES_LIMIT) {
      throw new UserError(
        `${this.label}: its entry names and link targets add up to more than ${NAME_BYTES_LIMIT / 1024 / 1024} MiB (the largest real packages have under 10 MB): the package is malformed or hostile; leave it out of the image or report it to its repository`,
      );
    }
    if (this.types.size > this.limits.maxEntries) {
      throw new UserError(
        `${this.label}: it ships more than ${this.limits.maxEntries} entries, the limit ([limits] max_files in image.toml, or --max-files): raise it if the package really has that many files`,
      );
    }
    return replaced;
  }

  /**
   * The package's own symlinks above `entry`, dealt with as its installer does: refused, or each
   * replaced by a directory (returned, to be written before the entry: root's, 0755 as libarchive
   * makes it under pacman's umask, with the entry's time).
   */
  private ownSymlinksAbove(entry: LayerEntry, shipped: string): LayerEntry[] {
    const replaced: LayerEntry[] = [];
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (this.types.get(ancestor) !== 'symlink') continue;
      if (this.policy === 'refuse') {
        throw new UserError(
          `${this.label}: refusing tar entry "${shipped}": it lies beneath "${ancestor}", a symlink the package itself shipped before it; its installer cannot unpack that either, and where it would land would be left to the tool that extracts the layer`,
        );
      }
      this.types.set(ancestor, 'directory');
      replaced.push({ path: ancestor, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: entry.mtime, size: 0 });
    }
    return replaced;
  }
}

/**
 * Names must be valid UTF-8 (the tar reader turns invalid bytes into U+FFFD) without NUL, and,
 * because dpkg's .list and the other databases are line-based, without a newline.
 */
function checkName(name: string, what: string, label: string, opts: { newlineAllowed?: boolean } = {}): void {
  const bad = name.includes('\uFFFD')
    ? 'is not valid UTF-8'
    : name.includes('\0')
      ? 'holds a NUL byte'
      : !opts.newlineAllowed && /[\n\r]/.test(name)
        ? 'holds a line break, which the package database (one path per line) cannot record'
        : undefined;
  if (bad) throw new UserError(`${label}: refusing ${what} ${JSON.stringify(name)}: the name ${bad}`);
}
