/**
 * The commands of a script in the order they run, with each call of a function the script
 * defines replaced by that function's body, bound to the call's words, and each `for` loop over
 * words known before the script runs unrolled, its variable bound to each word in turn.
 * Maintainer scripts wrap their work in helpers (`check_alternatives "uptime" "/usr/bin" "1"`)
 * and loops (`for ext in gz bz2 xz; do rm -f pci.ids.$ext; done`): only with those bound can a
 * guard such as `[ -e "$2/$1.procps" ]` or a command's words be known.
 */
import { expandedWords, guardsHold, inBlockOf, knownWords, loopWords, variablesAt, type ScriptEnv } from './scriptConditions.js';
import { filterOutput, readBindings } from './pipelineOutput.js';
import { commandWords, type Guard, type ShellCommand, type ShellScript } from './shellCommands.js';

type ForGuard = Extract<Guard, { kind: 'for' }>;

/** One run of a command: the command itself at top level, or a copy per call of its function. */
export type CalledCommand = ShellCommand & {
  /**
   * The call this copy runs in: its function's arguments (undefined when the call's words are not
   * known) and whether the call itself surely runs ('always') or may ('maybe').
   */
  call?: { args: string[] | undefined; holds: 'always' | 'maybe' };
  /** The command as the script has it, of which this is a copy (recognizers that read a helper's body see that one). */
  written?: ShellCommand;
  /** Loop variables and the word this run of the loop body has for each. */
  loops?: Record<string, string>;
  /** The loops (their guards) unrolled around this run: each holds for this round. */
  rounds?: readonly Guard[];
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
  /** The words a for loop takes, read where its body starts; undefined when not known. */
  loopWords(loop: ForGuard, first: CalledCommand): string[] | undefined;
  /** The variables each round of `PRODUCER | while read VAR…` binds, from the producer's known output; undefined when not known. */
  readRounds?(read: ShellCommand, at: CalledCommand): Record<string, string>[] | undefined;
  /** What a command word with an expansion runs, when known there. */
  commandName?(c: CalledCommand): string | undefined;
}

/** The `read` of a `while read VAR…` loop's guard, when that is its whole test. */
function readLoop(g: Guard): ShellCommand | undefined {
  return g.kind === 'if' && g.loop === true && g.expect && g.condition.kind === 'command' && g.condition.command.command === 'read' ? g.condition.command : undefined;
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
    walkList(bodies.get(fn) ?? [], call, stack, {}, new Set(), []);
  };
  /**
   * Runs `list` (a body, or one loop body) with these loop variables; `open` are the loops
   * already entered around it, `rounds` those of them unrolled.
   */
  const walkList = (list: ShellCommand[], call: CalledCommand['call'], stack: string[], loops: Record<string, string>, open: ReadonlySet<Guard>, rounds: readonly Guard[]): void => {
    for (let i = 0; i < list.length && !unfollowable; i++) {
      const c = list[i]!;
      const copyOf = (x: ShellCommand): CalledCommand => (call === undefined && !Object.keys(loops).length ? x : { ...x, call, written: x, loops, rounds });
      const loop = c.guards.find((g) => !open.has(g) && (g.kind === 'for' || readLoop(g) !== undefined));
      if (loop) {
        // The loop body: the commands from here on inside the same loop.
        let end = i;
        while (end < list.length && list[end]!.guards.includes(loop)) end++;
        const body = list.slice(i, end);
        i = end - 1;
        const inner = new Set([...open, loop]);
        // A `continue` the reader turned into guards (`[ -e "$d" ] || continue`) is modelled; break is not.
        const exits = body.some((x) => x.command === 'break' || (x.command === 'continue' && !x.exitGuarded));
        const read = readLoop(loop);
        const bindings = exits
          ? undefined
          : loop.kind === 'for'
            ? options.loopWords(loop, copyOf(c))?.map((w) => ({ [loop.variable]: w }))
            : options.readRounds?.(read!, copyOf(read!));
        if (bindings === undefined) walkList(body, call, stack, loops, inner, rounds);
        else for (const b of bindings) walkList(body, call, stack, { ...loops, ...b }, inner, [...rounds, loop]);
        continue;
      }
      const copy = copyOf(c);
      const own = options.holds(copy);
      if (own === 'never') continue;
      // A command word that expands to a known program (`$hook` bound by its loop) runs that program.
      const named = c.dynamic ? options.commandName?.(copy) : undefined;
      if ((c.dynamic && (named === undefined || defined.has(named))) || c.command === 'eval') {
        unfollowable = true;
        return;
      }
      if (out.length > MAX_COPIES) {
        unfollowable = true;
        return;
      }
      if (!defined.has(c.command)) {
        out.push(copy);
        continue;
      }
      if (stack.includes(c.command)) {
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

/** A point of a script whose environment can be asked for: a command (maybe a copy), a guard-holding write. */
type Site = { line: number; function?: string; guards: Guard[]; call?: CalledCommand['call']; loops?: Record<string, string>; rounds?: readonly Guard[] };

export interface FollowedScript extends CallOrder {
  /** The environment at a command or write: its call's $1…, its loop variables, the variables assigned before it. */
  envOf(x: Site): ScriptEnv;
  /** Whether a command surely runs, may run, or never does, its call's guards included. */
  holds(c: CalledCommand): 'always' | 'never' | 'maybe';
}

/**
 * callOrder with the environment every format's reader uses: `base` (the script's arguments and
 * constants), a call's arguments in its function's body, loop variables, and what variablesAt
 * knows before each command (`setAt`: variables a command sets, such as debconf's RET).
 */
export function followScript(
  text: string,
  script: ShellScript,
  base: ScriptEnv,
  opts: { entry?: CallOrderOptions['entry']; setAt?: (line: number, fn: string | undefined) => Record<string, string> } = {},
): FollowedScript {
  // A `$(…)` body of helper calls and loops that only echo: run as a function of this script.
  const printed = new Map<string, string | undefined>();
  // It sees the variables and arguments known where it runs (openvpn's loop variable in
  // `$(basename $f | sed …)`).
  const substitutionOutput = (body: string, at: Pick<ScriptEnv, 'variables' | 'args'> = base): string | undefined => {
    const key = `${body}\0${JSON.stringify(at.variables)}\0${JSON.stringify(at.args)}`;
    if (printed.has(key)) return printed.get(key);
    printed.set(key, undefined); // a substitution within itself stays unknown
    const name = '__layerpkg_substitution';
    const combined = `${text}\n${name}() {\n${body}\n}\n`;
    const env: ScriptEnv = { ...base, variables: { ...base.variables, ...at.variables }, substitutionOutput };
    const inner = followScript(combined, commandWords(combined), env, { entry: { function: name, args: at.args } });
    let out: string | undefined = '';
    // A command piped into the next one gives it its output instead of printing it.
    const piped = new Set(inner.commands.flatMap((c) => (c.input ? [c.input] : [])));
    const printedBy = new Map<ShellCommand, string>();
    for (const c of inner.commands) {
      // A command of a `$(…)` within the body prints into that substitution, not into this output.
      if (c.function === name && c.inSubstitution) continue;
      const words = inner.holds(c) === 'always' && !c.redirects.some((r) => !/^2>$/.test(r.op) || r.target !== '/dev/null') ? knownWords(c, inner.envOf(c)) : undefined;
      const input = c.input ? printedBy.get(c.input) : undefined;
      const line = words === undefined || (c.input && input === undefined) ? undefined : (filterOutput(words, input, inner.envOf(c).variables) ?? (c.input ? undefined : base.commandOutput?.(words)));
      if (line === undefined) {
        out = undefined;
        break;
      }
      if (piped.has(c.written ?? c)) printedBy.set(c.written ?? c, line);
      else out += line;
    }
    printed.set(key, out);
    return out;
  };
  // A call's status, where its body surely reaches a `return N` (apache2's is_fresh_install).
  const statuses = new Map<string, boolean | undefined>();
  const functionStatus = (name: string, args: string[]): boolean | undefined => {
    if (!script.functions.includes(name)) return undefined;
    const key = `${name}\0${JSON.stringify(args)}`;
    if (statuses.has(key)) return statuses.get(key);
    statuses.set(key, undefined); // a function whose status depends on itself stays unknown
    const inner = followScript(text, script, { ...base, functionStatus }, { entry: { function: name, args }, setAt: opts.setAt });
    let status: boolean | undefined;
    for (const c of inner.commands) {
      if (c.function !== name || (c.command !== 'return' && c.command !== 'exit')) continue;
      const holds = inner.holds(c);
      if (holds === 'never') continue;
      const code = holds === 'always' && c.command === 'return' ? (knownWords(c, inner.envOf(c))?.[1] ?? '0') : undefined;
      status = code === undefined || !/^\d+$/.test(code) ? undefined : Number(code) === 0;
      break;
    }
    statuses.set(key, status);
    return status;
  };
  base = base.substitutionOutput ? base : { ...base, substitutionOutput };
  base = base.functionStatus ? base : { ...base, functionStatus };
  // Each command's environment is asked for several times (liveness, guards, words): once is enough.
  const envs = new Map<object, ScriptEnv>();
  const envOf = (x: Site): ScriptEnv => {
    let e = envs.get(x);
    if (!e) {
      const frame: ScriptEnv = x.call?.args === undefined ? base : { ...base, args: x.call.args, frame: x.function };
      const looped: ScriptEnv = x.loops ? { ...frame, variables: { ...frame.variables, ...x.loops }, loops: x.loops, ...(x.rounds?.length ? { rounds: new Set(x.rounds) } : {}) } : frame;
      const variables = variablesAt(text, script, looped, x, opts.setAt);
      const cwd = workingDirectory(script, x, { ...looped, variables });
      envs.set(x, (e = { ...looped, variables, ...(cwd !== undefined ? { cwd } : {}) }));
    }
    return e;
  };
  const holds = (c: CalledCommand) => holdsInCall(c, guardsHold(c.guards, envOf(c)));
  const order = callOrder(script, {
    entry: opts.entry,
    holds,
    argsOf: (c) => knownWords(c, envOf(c))?.slice(1),
    loopWords: (loop, first) => loopWords(loop, envOf(first)),
    readRounds: (read, at) => {
      const producer = read.input;
      if (!producer) return undefined;
      const words = knownWords(producer, envOf({ ...producer, loops: at.loops, rounds: at.rounds, call: at.call }));
      const text = words === undefined ? undefined : (filterOutput(words, undefined, envOf(at).variables) ?? base.commandOutput?.(words));
      return text === undefined ? undefined : readBindings(read, text, envOf(at).variables.IFS);
    },
    commandName: (c) => {
      const [word] = expandedWords(c, envOf(c));
      return word === undefined || /[$`]/.test(word) ? undefined : word;
    },
  });
  return { ...order, envOf, holds };
}

/**
 * The directory the last `cd` before a command, in its function, made current (cron's
 * `cd $crondir/crontabs` before `for tab_name in *`): only when that cd encloses the command and
 * names one absolute directory; otherwise not known, as before any cd.
 */
function workingDirectory(script: ShellScript, x: Site, env: ScriptEnv): string | undefined {
  const cd = script.commands.filter((c) => c.command === 'cd' && c.function === x.function && c.line < x.line).at(-1);
  if (cd === undefined || !inBlockOf(cd.guards, x.guards)) return undefined;
  const words = knownWords(cd, env);
  const dir = words?.length === 2 ? words[1]! : undefined;
  return dir !== undefined && dir.startsWith('/') && !dir.split('/').includes('..') ? dir.replace(/(.)\/+$/, '$1') : undefined;
}
