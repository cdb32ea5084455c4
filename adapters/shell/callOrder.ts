/**
 * The commands of a script in the order they run, with each call of a function the script
 * defines replaced by that function's body, bound to the call's words. Maintainer scripts wrap
 * their work in helpers (`check_alternatives "uptime" "/usr/bin" "1"`): only with $1… bound to a
 * call's arguments can a guard such as `[ -e "$2/$1.procps" ]` or a command's words be known.
 */
import type { ShellCommand, ShellScript } from './shellCommands.js';

/** One run of a command: the command itself at top level, or a copy per call of its function. */
export type CalledCommand = ShellCommand & {
  /**
   * The call this copy runs in: its function's arguments (undefined when the call's words are not
   * known) and whether the call itself surely runs ('always') or may ('maybe').
   */
  call?: { args: string[] | undefined; holds: 'always' | 'maybe' };
  /** The command as the script has it, of which this is a copy (recognizers that read a helper's body see that one). */
  written?: ShellCommand;
};

export interface CallOrder {
  commands: CalledCommand[];
  /** Whether a function's body can run (writes and other per-body records are filtered by it). */
  live(fn: string | undefined): boolean;
}

export interface CallOrderOptions {
  /** Where running starts: top level (default), or a function called with these arguments (pacman's post_install). */
  entry?: { function: string; args: string[] };
  /** Whether a command's own guards hold, read with its frame's arguments. */
  holds(c: CalledCommand): 'always' | 'never' | 'maybe';
  /** A call's arguments after expansion, or undefined when any of them is not known. */
  argsOf(call: CalledCommand): string[] | undefined;
}

/** More calls than any maintainer script makes; a script beyond it is read the cautious way. */
const MAX_COPIES = 5000;

/**
 * Follows calls from the entry. A command named by an expansion (`$cmd`) or `eval` could call any
 * function, and recursion has no fixed unrolling: then every function counts as live and its body
 * is read once, in source order, with $1… unknown — what the reader did before binding.
 */
export function callOrder(script: ShellScript, options: CallOrderOptions): CallOrder {
  const defined = new Set(script.functions);
  const bodies = new Map<string | undefined, ShellCommand[]>();
  for (const c of script.commands) {
    const list = bodies.get(c.function) ?? [];
    list.push(c);
    bodies.set(c.function, list);
  }
  const reached = new Set<string | undefined>();
  const out: CalledCommand[] = [];
  let unfollowable = false;

  const walk = (fn: string | undefined, call: CalledCommand['call'], stack: string[]): void => {
    reached.add(fn);
    for (const c of bodies.get(fn) ?? []) {
      if (unfollowable) return;
      const copy: CalledCommand = call === undefined ? c : { ...c, call, written: c };
      const own = options.holds(copy);
      if (own === 'never') continue;
      if (c.dynamic || c.command === 'eval') {
        unfollowable = true;
        return;
      }
      if (!defined.has(c.command)) {
        out.push(copy);
        continue;
      }
      if (stack.includes(c.command) || out.length > MAX_COPIES) {
        unfollowable = true;
        return;
      }
      const holds = own === 'always' && (call === undefined || call.holds === 'always') ? 'always' : 'maybe';
      walk(c.command, { args: options.argsOf(copy), holds }, [...stack, c.command]);
    }
  };
  const entry = options.entry;
  walk(entry?.function, entry === undefined ? undefined : { args: entry.args, holds: 'always' }, entry === undefined ? [] : [entry.function]);
  if (!unfollowable) return { commands: out, live: (fn) => reached.has(fn) };

  // The cautious reading: every body a call names, in source order, with $1… of functions
  // unknown; all of them when an expansion or eval could call any.
  const live = new Set<string | undefined>([entry?.function]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of script.commands) {
      if (!live.has(c.function) || options.holds(c) === 'never') continue;
      const called = c.dynamic || c.command === 'eval' ? script.functions : defined.has(c.command) ? [c.command] : [];
      for (const f of called.filter((x) => !live.has(x))) {
        live.add(f);
        grew = true;
      }
    }
  }
  const commands = script.commands.filter((c) => live.has(c.function) && !defined.has(c.command) && options.holds(c) !== 'never');
  return { commands, live: (fn) => live.has(fn) };
}

/** How a copy's guards combine with its call's: a call that may not run makes every command in it a maybe. */
export function holdsInCall(c: CalledCommand, own: 'always' | 'never' | 'maybe'): 'always' | 'never' | 'maybe' {
  return own === 'always' && c.call?.holds === 'maybe' ? 'maybe' : own;
}
