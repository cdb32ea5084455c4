/**
 * The image as one package's scripts find it while they run: the packages' files and what the
 * scripts of packages configured earlier made (`ScriptContext`), plus what this package's own
 * scripts have made so far (`effects`, which the reader appends to): a postinst sees its
 * preinst's marker file, and a test after `rm -f /bin/sh` finds nothing there.
 */
import type { Effect } from '../../src/translate/effects.js';
import { EffectView } from '../../src/translate/effectView.js';
import { globParts, globPaths } from '../../src/translate/globNames.js';
import type { ScriptContext } from '../types.js';
import { packageFile } from './capturedFile.js';
import type { KnownText } from './imageQueries.js';
import { canonicalPath } from './mergedUsr.js';

const keyOf = (abs: string) => canonicalPath(abs.replace(/^\/+/, ''));

export class PackageScriptView {
  private readonly own = new EffectView(keyOf);
  private seen = 0;
  /** While a guard is judged again: only the effects made before its test ran count. */
  private upTo: number | undefined;
  private readonly earlierViews = new Map<number, EffectView>();

  constructor(
    private readonly image: ScriptContext,
    private readonly effects: readonly Effect[],
  ) {}

  /** The context for one script: preinst runs before the package's own files are unpacked. */
  context(script: 'preinst' | 'postinst'): ScriptContext {
    const unpacked = script === 'preinst' ? this.image.pathTypeBeforeUnpack : this.image.pathType;
    return {
      ...this.image,
      pathType: (abs) => this.type(abs) ?? unpacked(abs),
      directory: (abs) => this.directory(abs) ?? this.image.directory?.(abs),
      glob: (pattern) => this.glob(script, pattern),
    };
  }

  /** `fn` as the test of a guard that ran when `made` effects had been made. */
  asBefore<T>(made: number, fn: () => T): T {
    this.upTo = made;
    try {
      return fn();
    } finally {
      this.upTo = undefined;
    }
  }

  /** sh's pathname expansion: the image's paths, and what this package's scripts made or removed so far. */
  glob(script: 'preinst' | 'postinst', pattern: string): string[] | undefined {
    const fromImage = (script === 'preinst' ? this.image.globBeforeUnpack : this.image.glob)?.(pattern);
    const parts = globParts(pattern);
    if (fromImage === undefined || parts === undefined) return undefined;
    const listed = fromImage.map((p) => p.slice(p.lastIndexOf('/') + 1));
    return globPaths(parts, pattern, this.current().names(keyOf(parts.dir), listed));
  }

  /** A file's text as the script finds it: written by this package, an earlier one, or shipped (and kept by unpack). */
  text(ctx: ScriptContext, abs: string): KnownText | undefined {
    const mine = [...this.effects].reverse().find((e) => (e.kind === 'file' || e.kind === 'symlink' || e.kind === 'remove') && e.path === abs);
    // A copy read from a layer at build time has no text here.
    if (mine) return mine.kind === 'file' && !mine.copyOf ? { text: Buffer.from(mine.content, 'base64').toString('utf8'), mode: mine.mode, user: mine.user, group: mine.group } : undefined;
    const earlier = ctx.fileText?.(abs);
    if (earlier !== undefined) return { text: earlier, mode: 0o644, user: 'root', group: 'root' };
    const shipped = ctx.pathType(abs) === 'file' ? packageFile(this.image.packages, abs) : undefined;
    return shipped === undefined ? undefined : { text: Buffer.from(shipped.content, 'base64').toString('utf8'), mode: shipped.mode, user: 'root', group: 'root' };
  }

  private type(abs: string) {
    if (this.upTo !== undefined && this.upTo < this.effects.length) return this.viewAt(this.upTo).type(abs);
    return this.current().type(abs);
  }

  private directory(abs: string) {
    const own = this.current();
    const a = own.attributes(abs);
    return own.type(abs) === 'directory' && a?.mode !== undefined && a.user !== undefined && a.group !== undefined ? { mode: a.mode, user: a.user, group: a.group } : undefined;
  }

  private current(): EffectView {
    this.own.apply(this.effects.slice(this.seen));
    this.seen = this.effects.length;
    return this.own;
  }

  private viewAt(n: number): EffectView {
    let v = this.earlierViews.get(n);
    if (!v) {
      v = new EffectView(keyOf);
      v.apply(this.effects.slice(0, n));
      this.earlierViews.set(n, v);
    }
    return v;
  }
}
