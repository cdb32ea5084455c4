/**
 * Config files a script builds in a scratch file first: `tmp=$(mktemp)`, `cp TEMPLATE "$tmp"`,
 * maybe a `sed -i` that the fresh install does not take, then `ucf "$tmp" DEST` or
 * `mv "$tmp" DEST` (openssh-server's sshd_config, dh_apparmor's local profile). The content is
 * followed through the commands that run, in order; anything else that touches the scratch
 * file (a sed that runs, a write to it) makes its content unknown, and then the file it becomes
 * is reported rather than guessed.
 */
import type { FileEffect } from '../../src/translate/effects.js';
import type { PackageMetadata } from '../types.js';
import { packageFile } from './capturedFile.js';
import { ucfArguments } from './configFileCommands.js';

interface Scratch {
  /** Base64 content, or undefined once something unknown changed it. */
  content?: string;
  mode: number;
}

export class ScratchFiles {
  private readonly files = new Map<string, Scratch>();

  constructor(
    /** Variables that only ever hold `$(mktemp)`. */
    private readonly names: Set<string>,
    private readonly packages: PackageMetadata[],
  ) {}

  /** The scratch variable a word names ("$tmp", "${tmp}"), if any. */
  nameOf(word: string): string | undefined {
    const m = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(word);
    return m && this.names.has(m[1]!) ? m[1] : undefined;
  }

  /**
   * Follow one command that runs; `always` says whether it surely runs. Returns the effects it
   * has, undefined when it does not involve a scratch file, or a reason it cannot be followed.
   */
  follow(name: string, args: string[], always: boolean): { effects: FileEffect[] } | { unrecognized: string } | undefined {
    // Operands, past options (ucf's --sum-file takes a value).
    const words = name === 'ucf' ? ucfArguments(args).files : args.filter((a) => !a.startsWith('-'));
    const scratchArgs = words.map((w) => this.nameOf(w));
    if (!scratchArgs.some(Boolean)) return undefined;
    if (name === 'cp' && words.length === 2 && scratchArgs[1] && !scratchArgs[0]) {
      const source = /^\/[^\s$`*?]+$/.test(words[0]!) ? packageFile(this.packages, words[0]!) : undefined;
      // Only a copy that surely happens gives known content (otherwise it may still be empty).
      this.files.set(scratchArgs[1], source && always ? source : { mode: 0o600 });
      return { effects: [] };
    }
    if ((name === 'ucf' || name === 'mv' || name === 'cp') && scratchArgs[0] && !scratchArgs[1]) {
      const dest = words[1];
      const file = this.files.get(scratchArgs[0]);
      if (words.length !== 2 || !dest?.startsWith('/') || /[$`*?]/.test(dest)) return { unrecognized: `${name} ${args.join(' ')}: destination not known` };
      if (file?.content === undefined) return { unrecognized: `${name} of a scratch file to ${dest}: its content is not known before the script runs` };
      // ucf copies only when the destination is absent: a fresh install's case.
      return { effects: [{ kind: 'file', path: dest, mode: file.mode, user: 'root', group: 'root', content: file.content, ifMissing: name === 'ucf' }] };
    }
    if (name === 'rm') return { effects: [] };
    if (name === 'chmod' && words.length === 2 && /^[0-7]{3,4}$/.test(words[0]!) && scratchArgs[1]) {
      const file = this.files.get(scratchArgs[1]);
      if (file) file.mode = parseInt(words[0]!, 8);
      return { effects: [] };
    }
    // sed -i and anything else on the scratch file: its content is no longer known. A scratch
    // file going anywhere else than a known path is reported, not followed.
    for (const n of scratchArgs) if (n) this.files.set(n, { mode: this.files.get(n)?.mode ?? 0o600 });
    if (['ucf', 'mv', 'cp', 'install'].includes(name)) return { unrecognized: `${name} ${args.join(' ')}: a scratch file not followed` };
    return { effects: [] };
  }

  /** A write through a redirection (`echo … > "$tmp"`) makes the content unknown. */
  written(target: string): void {
    const n = this.nameOf(target);
    if (n) this.files.set(n, { mode: this.files.get(n)?.mode ?? 0o600 });
  }
}
