import path from 'node:path';
import { changedMode, composedModeChange, type Effect, type ModeChange } from './effects.js';
import { definedOnly } from './filesystem.js';

/** What earlier effects left at a path: its type, and the mode and owner they gave it. */
export interface MadePath {
  type: 'file' | 'directory' | 'absent';
  mode?: number;
  /** A symbolic chmod of a path whose mode the effects do not give: to apply to its packaged mode. */
  modeChange?: Pick<ModeChange, 'clear' | 'add'>;
  user?: string;
  group?: string;
}

/**
 * The paths earlier scripts made, changed or removed, as a later script would find them: a
 * postinst sees its preinst's marker file, a package configured later sees /etc/hosts that
 * netbase's postinst wrote and /usr/local with the mode base-files' postinst gave it. Keys are
 * what `key` makes of a script's absolute path (canonical for merged-/usr).
 */
export class EffectView {
  private readonly types = new Map<string, MadePath['type']>();
  private readonly attrs = new Map<string, Omit<MadePath, 'type'>>();
  private readonly texts = new Map<string, string>();

  constructor(private readonly key: (absPath: string) => string) {}

  apply(effects: readonly Effect[]): void {
    for (const e of effects) {
      if (!('path' in e) || !e.path.startsWith('/')) continue;
      const k = this.key(path.posix.normalize(e.path));
      switch (e.kind) {
        case 'directory':
          this.types.set(k, 'directory');
          this.attrs.set(k, { mode: e.mode, user: e.user, group: e.group });
          for (let d = path.posix.dirname(k); d !== '.' && d !== '' && d !== '/'; d = path.posix.dirname(d)) if (this.types.get(d) !== 'directory') this.types.set(d, 'directory');
          break;
        case 'file':
        case 'symlink':
          this.types.set(k, 'file');
          this.attrs.delete(k);
          // A copy read from a layer at build time has no text here.
          if (e.kind === 'file' && !e.copyOf) this.texts.set(k, Buffer.from(e.content, 'base64').toString('utf8'));
          else this.texts.delete(k);
          break;
        case 'remove':
          for (const p of [...this.types.keys()]) if (p === k || (e.recursive && p.startsWith(`${k}/`))) this.types.set(p, 'absent');
          this.types.set(k, 'absent');
          this.texts.delete(k);
          break;
        case 'attributes': {
          const was = this.attrs.get(k);
          const next = { ...was, ...definedOnly({ mode: e.mode, user: e.user, group: e.group }) };
          if (e.mode !== undefined) delete next.modeChange;
          if (e.modeChange && next.mode !== undefined) next.mode = changedMode(next.mode, e.modeChange);
          else if (e.modeChange) next.modeChange = was?.modeChange ? composedModeChange(was.modeChange, e.modeChange) : { clear: e.modeChange.clear, add: e.modeChange.add };
          this.attrs.set(k, next);
          break;
        }
        default:
          break;
      }
    }
  }

  /** The names in a directory (by its key): `names` as listed before, with what earlier effects made added and what they removed taken out. */
  names(dirKey: string, names: Iterable<string>): Set<string> {
    const out = new Set(names);
    for (const [k, t] of this.types) {
      if (path.posix.dirname(k) !== dirKey) continue;
      if (t === 'absent') out.delete(path.posix.basename(k));
      else out.add(path.posix.basename(k));
    }
    return out;
  }

  /** The type earlier effects left at a path; undefined where they did not make or remove it. */
  type(absPath: string): MadePath['type'] | undefined {
    return this.types.get(this.key(path.posix.normalize(absPath)));
  }

  /** The text of a file earlier effects wrote (undefined for one they did not, or removed). */
  text(absPath: string): string | undefined {
    return this.texts.get(this.key(path.posix.normalize(absPath)));
  }

  /** Mode and owner earlier effects set, also on a path a package ships. */
  attributes(absPath: string): Omit<MadePath, 'type'> | undefined {
    return this.attrs.get(this.key(path.posix.normalize(absPath)));
  }
}
