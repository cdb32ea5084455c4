/**
 * The paths one package has shipped so far, and the checks every format's unpacker makes on each
 * new entry before it may reach a layer: what dpkg, apk-tools and libalpm refuse, or what would
 * leave the extracted tree to the whim of whichever tool unpacks the layer.
 */
import { UserError } from '../src/errors.js';
import type { LayerEntry, UnpackLimits } from './types.js';

export class PackageTree {
  /** Where each entry lands (relative, canonical) → its type, in the package's order. */
  private readonly types = new Map<string, LayerEntry['type']>();

  constructor(
    private readonly label: string,
    private readonly limits: Pick<UnpackLimits, 'maxEntries'>,
  ) {}

  /**
   * Admit an entry landing at `path` (shipped as `shipped`): refuses a name no package database
   * can record, a path shipped before with another type, a path beneath something that is not a
   * directory, and a hard link to anything but an earlier regular file of the package.
   */
  admit(entry: LayerEntry, shipped: string): void {
    checkName(shipped, 'entry', this.label);
    if (entry.linkname !== undefined) checkName(entry.linkname, `link target of "${shipped}"`, this.label, { newlineAllowed: true });
    const path = entry.path;
    const before = this.types.get(path);
    if (before !== undefined && before !== entry.type) {
      throw new UserError(`${this.label}: refusing tar entry "${shipped}": the package ships this path twice, as a ${before} and as a ${entry.type}`);
    }
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
      const ancestor = this.types.get(path.slice(0, slash));
      if (ancestor === undefined || ancestor === 'directory') continue;
      throw new UserError(
        ancestor === 'symlink'
          ? `${this.label}: refusing tar entry "${shipped}": it lies beneath the symlink "${path.slice(0, slash)}" the package shipped before it, so where it lands would be left to the tool that extracts the layer`
          : `${this.label}: refusing tar entry "${shipped}": it lies beneath "${path.slice(0, slash)}", which the package shipped as a ${ancestor}, not a directory`,
      );
    }
    if (entry.type === 'hardlink' && this.types.get(entry.linkname ?? '') !== 'file') {
      throw new UserError(`${this.label}: refusing hard link "${shipped}" to "${entry.linkname}": its target is not an earlier regular file of the package`);
    }
    this.types.set(path, entry.type);
    if (this.types.size > this.limits.maxEntries) {
      throw new UserError(
        `${this.label}: it ships more than ${this.limits.maxEntries} entries, the limit ([limits] max_files in image.toml, or --max-files): raise it if the package really has that many files`,
      );
    }
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
