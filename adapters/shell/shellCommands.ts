/**
 * A small POSIX-sh reader for maintainer scripts: it finds the simple commands a script can run,
 * with their arguments and redirections, without running anything. It tokenizes the way sh does
 * (quotes, escapes, continuations, comments, heredocs, $(…), `…`, ${…}, $((…))) and follows just
 * enough grammar to tell command words from everything else: reserved words, case patterns,
 * `for` word lists, assignments, redirection targets and function definitions.
 *
 * It is not a full shell parser: aliases, `eval`'d strings and code built at run time are out of
 * reach (a command word that is an expansion is reported as `dynamic`), and bash-only syntax is
 * handled only where it is cheap ([[ … ]], `function f`, $'…', <(…)).
 *
 * Each command and redirection also carries its guards: the case items, if/while tests and
 * `&&`/`||` left sides it sits behind, so a caller can tell which branches a given invocation
 * (`postinst configure ""`) takes. scriptConditions.ts evaluates them.
 */

export interface HereDoc {
  body: string;
  /** Unquoted delimiter: $… and `…` in the body are expanded (and their commands run). */
  expands: boolean;
}

export interface Redirect {
  /** The operator as written, with its fd: ">", "2>", ">>", "<", "<<-", ">&"… */
  op: string;
  /** The target word (quotes removed, expansions as written); a heredoc's delimiter. */
  target: string;
  line: number;
  heredoc?: HereDoc;
  /** The function whose body holds the redirection, if any. */
  function?: string;
  /** When it takes effect: those of the command (simple or compound) it belongs to. */
  guards: Guard[];
}

export interface ShellCommand {
  /** The command word, quotes removed; expansions stay as written ("$idl"). */
  command: string;
  args: string[];
  /** 1-based line of the command word. */
  line: number;
  /** The command word contains an expansion, so what runs is only known at run time. */
  dynamic: boolean;
  redirects: Redirect[];
  /** The innermost function whose body holds the command; undefined at top level. */
  function?: string;
  /** The command word and arguments as written (quotes kept), to re-expand with known values. For `[[`, also its operators and the closing `]]`. */
  raw: string[];
  /** The conditions under which it runs, outermost first (relative to its function's body). */
  guards: Guard[];
  /** A `shift` or `set -- …` before it in the same body may have replaced $1, $2, …. */
  shifted?: boolean;
  /** The simple command whose output it reads through a pipe (`getcap /bin/ip | grep -q ip`). */
  input?: ShellCommand;
  /** A return, exit or continue whose leaving is modelled as a guard on the commands after it. */
  exitGuarded?: boolean;
  /** It runs inside a `$(…)` or `` `…` ``: its output is that substitution's, not its caller's. */
  inSubstitution?: boolean;
  /** Its place among the script's commands and assignments, as Assignment.seq. */
  seq?: number;
}

/**
 * What decides whether a command runs. Inside a function body, guards stop at the body: the
 * callers' guards are not included. Only branching is recorded: an earlier `exit`, `return`,
 * `break` or a failure under `set -e` is not a guard, and a for body has none (its word list is
 * not evaluated).
 */
export type Guard =
  | {
      /** Inside a case item: runs when `subject` matches one of `patterns` and none of `excluded`. */
      kind: 'case';
      /** The case word as written, e.g. "$1" with its quotes. */
      subject: string;
      /** The item's patterns as written (quotes kept: a quoted `*` is literal). After `;&` fall-through, also the previous item's. */
      patterns: string[];
      /** Patterns of earlier items that end in `;;`: a subject matching those never reaches this item. */
      excluded: string[];
      /** The function whose body holds the case: there, $1… are the function's arguments. */
      function?: string;
      /** As ShellCommand.shifted, for a subject or pattern naming $1…. */
      shifted?: boolean;
    }
  /**
   * In `then` (expect true), `else` and later `elif`s (one expect-false guard per earlier test), or
   * a while (true) / until (false) body, which runs at all only if the first test gives that.
   */
  | {
      kind: 'if';
      condition: Condition;
      expect: boolean;
      /** A while/until body: it may run again, so later lines can run before earlier ones. */
      loop?: true;
    }
  /** After `a &&` (expect true) or `a ||` (expect false); `a` is everything to the left (left-associative). */
  | { kind: 'and-or'; condition: Condition; expect: boolean }
  /**
   * In a `for NAME in WORDS; do` body: it runs once per word, with NAME set to it. `words` as
   * written (quotes kept); undefined for `for NAME; do`, which loops over "$@".
   */
  | { kind: 'for'; variable: string; words: string[] | undefined; function?: string; shifted?: boolean };

/** An exit status as a boolean (success = true). */
export type Condition =
  /** A simple command's status; for a pipeline, its last command. */
  | { kind: 'command'; command: ShellCommand }
  | { kind: 'not'; operand: Condition }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  /** The status of a compound command (if, case, a loop) or a bare assignment: not modelled. */
  | { kind: 'unknown' };

export interface Assignment {
  name: string;
  /** Quotes removed, expansions as written. */
  value: string;
  /** The value as written, quotes kept. */
  raw: string;
  line: number;
  function?: string;
  /** As for a command at the same place. */
  guards: Guard[];
  shifted?: boolean;
  /** Its place among the script's commands and assignments (several share a line: `X=…; cmd $X`). */
  seq?: number;
}

export interface ShellScript {
  /** Every simple command, in source order (commands inside $(…) before the one using them). */
  commands: ShellCommand[];
  /** Names of the functions the script defines. */
  functions: string[];
  /** Plain `NAME=value` assignments (not those after a command word, such as `export X=1`). */
  assignments: Assignment[];
  /** Every redirection that may write a file, on simple and compound commands alike. */
  writes: Redirect[];
}

/** Extract the commands of a POSIX shell script. */
export function commandWords(script: string): ShellScript {
  const out: ShellScript = { commands: [], functions: [], assignments: [], writes: [] };
  const ctx: ParseContext = { out, shifted: new Set(), shiftedInLoop: new Set(), seq: 0 };
  parseList(new Lexer(script, 1, ctx, undefined, []), false, undefined, []);
  markShiftedLoops(ctx);
  return out;
}

/** State shared by every lexer and list parser of one script. */
interface ParseContext {
  out: ShellScript;
  /** Bodies (function name, undefined for top level) where a `shift`/`set --` was met so far. */
  shifted: Set<string | undefined>;
  /** Loops (their guards) with a `shift`/`set --` in their body: an earlier line of it may run after it. */
  shiftedInLoop: Set<Guard>;
  /** The next Assignment.seq / ShellCommand.seq. */
  seq: number;
}

/** `set -e` only sets options; `set -- a b` or `set $x` replaces the positional parameters. */
function setsPositionals(args: string[]): boolean {
  return args.some((a, i) => a === '--' || (!/^[-+]/.test(a) && !/^[-+][A-Za-z]*o$/.test(args[i - 1] ?? '')));
}

function markShiftedLoops(ctx: ParseContext): void {
  if (ctx.shiftedInLoop.size === 0) return;
  const { out, shiftedInLoop: loops } = ctx;
  const inside = (x: { guards: Guard[] }) => x.guards.some((g) => loops.has(g));
  for (const c of out.commands) if (inside(c)) c.shifted = true;
  for (const a of out.assignments) if (inside(a)) a.shifted = true;
  for (const x of [...out.commands, ...out.assignments, ...out.writes]) {
    if (!inside(x)) continue;
    for (const g of x.guards) if ((g.kind === 'case' || g.kind === 'for') && !loops.has(g)) g.shifted = true;
  }
}

type Token =
  | { type: 'word'; text: string; raw: string; quoted: boolean; dynamic: boolean; pos: number }
  | { type: 'op'; text: string; pos: number }
  | { type: 'newline'; pos: number }
  | { type: 'eof'; pos: number };

type WordToken = Extract<Token, { type: 'word' }>;

/** Accumulates one word while lexing. */
interface WordAcc {
  text: string;
  quoted: boolean;
  dynamic: boolean;
}

interface PendingHereDoc {
  delimiter: string;
  stripTabs: boolean;
  quoted: boolean;
  redirect: Redirect;
}

const OPERATORS = ['&&', '||', ';;&', ';;', ';&', '|&', '&>>', '&>', '<<<', '<<-', '<<', '>>', '>&', '<&', '<>', '>|', '<', '>', '|', '&', ';', '(', ')'];
const REDIRECT = /^(\d*(<<<|<<-|<<|>>|>&|<&|<>|>\||<|>)|&>>?)$/;
const OUTPUT_REDIRECT = /^(\d*(>>|>&|<>|>\||>)|&>>?)$/;
const METACHARS = ' \t\n;&|()<>';
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

class Lexer {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly heredocs: PendingHereDoc[] = [];
  /** The function the parser is in; commands found while lexing (in $(…)) belong to it. */
  currentFunction: string | undefined;
  /** The guards where the parser is: commands in a $(…) run only when its word is reached. */
  currentGuards: Guard[];
  readonly out: ShellScript;

  constructor(
    private readonly src: string,
    private readonly firstLine: number,
    readonly ctx: ParseContext,
    fn: string | undefined,
    guards: Guard[],
  ) {
    for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.lineStarts.push(i + 1);
    this.currentFunction = fn;
    this.currentGuards = guards;
    this.out = ctx.out;
  }

  line(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return this.firstLine + lo;
  }

  /** Register a heredoc; its body starts after the next newline token. */
  hereDoc(redirect: Redirect, delimiter: WordToken, stripTabs: boolean): void {
    this.heredocs.push({ delimiter: delimiter.text, stripTabs, quoted: delimiter.quoted, redirect });
  }

  next(): Token {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '#') {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end < 0 ? this.src.length : end;
      } else break;
    }
    const start = this.pos;
    const c = this.src[start];
    if (c === undefined) return { type: 'eof', pos: start };
    if (c === '\n') {
      this.pos++;
      this.readHereDocBodies();
      return { type: 'newline', pos: start };
    }
    // Process substitution <(…) / >(…) (bash) is a word, not a redirection.
    if ((c === '<' || c === '>') && this.src[start + 1] === '(') return this.readWord();
    const io = /^\d+(?=[<>])/.exec(this.src.slice(start, start + 12))?.[0] ?? '';
    for (const op of OPERATORS) {
      if (this.src.startsWith(op, start + io.length) && (io === '' || REDIRECT.test(io + op))) {
        this.pos = start + io.length + op.length;
        return { type: 'op', text: io + op, pos: start };
      }
    }
    return this.readWord();
  }

  private readWord(): WordToken {
    const start = this.pos;
    const acc: WordAcc = { text: '', quoted: false, dynamic: false };
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) break;
      if ((c === '<' || c === '>') && this.src[this.pos + 1] === '(' && this.pos === start) {
        this.pos += 2;
        this.parseSubstitution();
        acc.text += this.src.slice(start, this.pos);
        acc.dynamic = true;
        continue;
      }
      if (METACHARS.includes(c)) break;
      if (c === '\\') {
        if (this.src[this.pos + 1] !== '\n') acc.text += this.src[this.pos + 1] ?? '';
        acc.quoted = true;
        this.pos += 2;
      } else if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        const stop = end < 0 ? this.src.length : end;
        acc.text += this.src.slice(this.pos + 1, stop);
        acc.quoted = true;
        this.pos = stop + 1;
      } else if (c === '"') {
        this.pos++;
        this.readDoubleQuoted(acc, '"');
        acc.quoted = true;
      } else if (c === '`') {
        this.readBackticks(acc);
      } else if (c === '$') {
        this.readDollar(acc, false);
      } else {
        acc.text += c;
        this.pos++;
      }
    }
    return { type: 'word', text: acc.text, raw: this.src.slice(start, this.pos), quoted: acc.quoted, dynamic: acc.dynamic, pos: start };
  }

  /** Inside "…" (terminator '"') or an expanding heredoc body (terminator null: to the end). */
  readDoubleQuoted(acc: WordAcc, terminator: '"' | null): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === terminator) {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const n = this.src[this.pos + 1];
        if (n === '\n') this.pos += 2;
        else if (n === '$' || n === '`' || n === '\\' || (n === '"' && terminator === '"')) {
          acc.text += n;
          this.pos += 2;
        } else {
          acc.text += c;
          this.pos++;
        }
      } else if (c === '`') this.readBackticks(acc);
      else if (c === '$') this.readDollar(acc, true);
      else {
        acc.text += c;
        this.pos++;
      }
    }
  }

  /** `$…`: parameter, ${…}, $(…), $((…)), $'…'; the expansion is kept as written. */
  private readDollar(acc: WordAcc, inDoubleQuotes: boolean): void {
    const start = this.pos;
    const n = this.src[start + 1];
    if (n === '(' && this.src[start + 2] === '(') {
      this.pos += 3;
      this.skipArithmetic();
    } else if (n === '(') {
      this.pos += 2;
      this.parseSubstitution();
    } else if (n === '{') {
      this.pos += 2;
      this.skipBraced(inDoubleQuotes);
    } else if (n === "'" && !inDoubleQuotes) {
      // $'…' (bash): backslash escapes, no expansion; kept roughly (escapes left as written).
      let i = start + 2;
      while (i < this.src.length && this.src[i] !== "'") i += this.src[i] === '\\' ? 2 : 1;
      acc.text += this.src.slice(start + 2, i);
      acc.quoted = true;
      this.pos = i + 1;
      return;
    } else if (n !== undefined && /[A-Za-z_]/.test(n)) {
      this.pos = start + 1 + /^[A-Za-z0-9_]*/.exec(this.src.slice(start + 1))![0].length;
    } else if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
      this.pos = start + 2;
    } else {
      acc.text += '$';
      this.pos++;
      return;
    }
    acc.text += this.src.slice(start, this.pos);
    acc.dynamic = true;
  }

  /** `…`: the body, with \` \\ \$ unescaped, is a script of its own. */
  private readBackticks(acc: WordAcc): void {
    const start = this.pos;
    let body = '';
    this.pos++;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === '`') break;
      const n = this.src[this.pos + 1];
      if (c === '\\' && (n === '`' || n === '\\' || n === '$')) {
        body += n;
        this.pos += 2;
      } else {
        body += c;
        this.pos++;
      }
    }
    this.pos++;
    parseList(new Lexer(body, this.line(start), this.ctx, this.currentFunction, this.currentGuards), false, this.currentFunction, this.currentGuards, true);
    acc.text += this.src.slice(start, Math.min(this.pos, this.src.length));
    acc.dynamic = true;
  }

  /** After `$(` or `<(`: the commands up to the matching `)`, parsed on this same input. */
  private parseSubstitution(): void {
    const fn = this.currentFunction;
    const guards = this.currentGuards;
    parseList(this, true, fn, guards);
    // The rest of the word belongs to the outer parser's position again.
    this.currentFunction = fn;
    this.currentGuards = guards;
  }

  /** After `$((`: to the matching `))`, still finding $(…) and `…` inside. */
  private skipArithmetic(): void {
    let depth = 0;
    const scratch: WordAcc = { text: '', quoted: false, dynamic: false };
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) {
          this.pos += this.src[this.pos + 1] === ')' ? 2 : 1;
          return;
        }
        depth--;
      } else if (c === '$') {
        this.readDollar(scratch, true);
        continue;
      } else if (c === '`') {
        this.readBackticks(scratch);
        continue;
      } else if (c === '"') {
        this.pos++;
        this.readDoubleQuoted(scratch, '"');
        continue;
      } else if (c === '\\') this.pos++;
      this.pos++;
    }
  }

  /** After `${`: to the matching `}`, with nested quotes and expansions. */
  private skipBraced(inDoubleQuotes: boolean): void {
    const scratch: WordAcc = { text: '', quoted: false, dynamic: false };
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === '}') {
        this.pos++;
        return;
      }
      if (c === '$') this.readDollar(scratch, inDoubleQuotes);
      else if (c === '`') this.readBackticks(scratch);
      else if (c === '"') {
        this.pos++;
        this.readDoubleQuoted(scratch, '"');
      } else if (c === "'" && !inDoubleQuotes) {
        const end = this.src.indexOf("'", this.pos + 1);
        this.pos = end < 0 ? this.src.length : end + 1;
      } else this.pos += c === '\\' ? 2 : 1;
    }
  }

  /** At the start of a line after `<<WORD`: take each pending body, up to its delimiter line. */
  private readHereDocBodies(): void {
    for (const h of this.heredocs.splice(0)) {
      const bodyStart = this.pos;
      let body = '';
      while (this.pos < this.src.length) {
        const nl = this.src.indexOf('\n', this.pos);
        const end = nl < 0 ? this.src.length : nl;
        const raw = this.src.slice(this.pos, end);
        const text = h.stripTabs ? raw.replace(/^\t+/, '') : raw;
        this.pos = nl < 0 ? this.src.length : nl + 1;
        if (text === h.delimiter) break;
        body += `${text}\n`;
      }
      h.redirect.heredoc = { body, expands: !h.quoted };
      if (!h.quoted) {
        // Command substitutions in an unquoted heredoc run when the heredoc is read.
        const sub = new Lexer(body, this.line(bodyStart), this.ctx, h.redirect.function, h.redirect.guards);
        sub.readDoubleQuoted({ text: '', quoted: false, dynamic: false }, null);
      }
    }
  }
}

/** One compound list being read (a body, an if/while test, a group): where its and-or list stands. */
interface ListState {
  /** Guards of everything in the list. */
  guards: Guard[];
  /** Status of the and-or list left of `op`. */
  andOr: Condition | undefined;
  op: '&&' | '||' | undefined;
  /** The current pipeline began with `!`. */
  negate: boolean;
  /** Status of the latest pipeline element read (simple or compound command). */
  element: Condition | undefined;
  /** `&&`, `||` or `|` waits for its right side: a newline does not end the and-or list. */
  open: boolean;
  /** Status of the last complete and-or list, which is the list's own exit status. */
  last: Condition | undefined;
}

interface FrameBase {
  /** The function this compound command is the body of. */
  fn: string | undefined;
  list: ListState;
}
interface GroupFrame extends FrameBase {
  kind: 'brace' | 'subshell';
  /** Whether $1… had been replaced before a subshell began: after it, they are as they were. */
  shiftedBefore?: boolean;
}
interface IfFrame extends FrameBase {
  kind: 'if';
  /** Guards of the if command itself. */
  outer: Guard[];
  /** The tests of `if` and each `elif` read so far. */
  conds: Condition[];
  /** Reading a test (after if/elif), not a branch. */
  testing: boolean;
  sawElse?: boolean;
}
interface LoopFrame extends FrameBase {
  kind: 'while' | 'until' | 'for';
  outer: Guard[];
  /** Before `do`: the while/until test, or a for loop's header. */
  testing: boolean;
  /** A for loop's variable and its word list as written (none read: "$@"). */
  variable?: string;
  words?: string[];
}
interface CaseFrame extends FrameBase {
  kind: 'case';
  outer: Guard[];
  subject: string;
  /** The current item's patterns (with those it falls through from). */
  patterns: string[];
  /** Patterns read before the item's `)`. */
  pending: string[];
  excluded: string[];
  /** The previous item ended in `;&`. */
  fallthrough: boolean;
}
type Frame = GroupFrame | IfFrame | LoopFrame | CaseFrame;

type Mode =
  | 'normal'
  | 'caseSubject' // after `case`: the word matched
  | 'caseIn' // expecting `in`
  | 'casePattern' // patterns up to `)`, or `esac`
  | 'forName' // after `for`: the loop variable
  | 'forIn' // expecting `in`, `do`, `;` or a newline
  | 'forWords' // the word list up to `;` or a newline
  | 'functionName' // after `function` (bash)
  | 'functionParen' // after `name(`: expecting `)`
  | 'doubleBracket'; // inside [[ … ]] (bash): operators there are test syntax

const AFTER_COMPOUND = new Set(['then', 'elif', 'else', 'do', 'fi', 'done', 'esac', '}']);
const UNKNOWN: Condition = { kind: 'unknown' };

const newList = (guards: Guard[]): ListState => ({ guards, andOr: undefined, op: undefined, negate: false, element: undefined, open: false, last: undefined });

function resetList(l: ListState): void {
  l.andOr = undefined;
  l.op = undefined;
  l.negate = false;
  l.element = undefined;
  l.open = false;
}

/** The status of the and-or list read so far, through the current pipeline. */
function chain(l: ListState): Condition {
  const e = l.element ?? UNKNOWN;
  const p: Condition = l.negate ? { kind: 'not', operand: e } : e;
  return l.andOr && l.op ? { kind: l.op === '&&' ? 'and' : 'or', left: l.andOr, right: p } : p;
}

const failed = (conds: Condition[]): Guard[] => conds.map((condition) => ({ kind: 'if', condition, expect: false }));

/**
 * Walk tokens, tracking whether the next word is in command position and which compound
 * commands and and-or lists enclose it. With `nested`, stop at the `)` that closes a $(…) or
 * <(…) (the lexer has just consumed the opening). Malformed input never throws: a closing word
 * without its opener is skipped, one that skips unclosed frames drops them.
 */
function parseList(lex: Lexer, nested: boolean, outerFn: string | undefined, baseGuards: Guard[], inSubstitution = nested): void {
  const { out, ctx } = lex;
  const root = newList(baseGuards);
  const stack: Frame[] = [];
  let mode: Mode = 'normal';
  let cmdPos = true;
  let cmd: ShellCommand | undefined;
  /** Redirections met before the command word (`< file grep …`). */
  let early: Redirect[] = [];
  let pendingOp: string | undefined;
  /** A `name()` was just read: the next compound command is the body of `name`. */
  let bodyOf: string | undefined;
  let definingName: string | undefined;
  let pushedBack: Token | undefined;
  /** The simple command before a `|`, for the next command's input. */
  let pipedFrom: ShellCommand | undefined;

  const currentFn = (): string | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.fn !== undefined) return stack[i]!.fn;
    return outerFn;
  };
  const top = (): Frame | undefined => stack[stack.length - 1];
  const list = (): ListState => top()?.list ?? root;
  /** Guards at this point: the list's, and the `&&`/`||` left side the current pipeline follows. */
  const here = (): Guard[] => {
    const l = list();
    return l.andOr && l.op ? [...l.guards, { kind: 'and-or', condition: l.andOr, expect: l.op === '&&' }] : l.guards;
  };
  /**
   * The guard of the outermost loop that encloses this point within the current body (later lines
   * of it may run before earlier ones), and the subshell it sits in, if any.
   */
  const enclosingLoop = (): Guard | undefined => {
    let found: Guard | undefined;
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]!;
      if ((f.kind === 'while' || f.kind === 'until' || f.kind === 'for') && !f.testing) found = f.list.guards.at(-1) ?? found;
      if (f.fn !== undefined || f.kind === 'subshell') break;
    }
    return found;
  };

  const finish = (): void => {
    if (cmd) {
      cmd.seq = ctx.seq++;
      out.commands.push(cmd);
      // `local NAME=VALUE` in a function assigns as a bare assignment would, scoped to the call.
      if (cmd.command === 'local' && cmd.function !== undefined) {
        cmd.args.forEach((arg, i) => {
          const raw = cmd!.raw[i + 1] ?? '';
          if (!ASSIGNMENT.test(raw)) return;
          const a: Assignment = { name: /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw)![0], value: arg.slice(arg.indexOf('=') + 1), raw: raw.slice(raw.indexOf('=') + 1), line: cmd!.line, function: cmd!.function, guards: cmd!.guards };
          if (cmd!.shifted) a.shifted = true;
          out.assignments.push(a);
        });
      }
      list().element = { kind: 'command', command: cmd };
      if (cmd.command === 'shift' || (cmd.command === 'set' && setsPositionals(cmd.args))) {
        // In a loop, the whole loop body sees it; in a subshell, only the rest of the subshell
        // (closeGroup forgets it: sgml-base's `( while read line; do set -- $line; … done ) << DATA`).
        ctx.shifted.add(cmd.function);
        const loop = enclosingLoop();
        if (loop) ctx.shiftedInLoop.add(loop);
      }
    }
    cmd = undefined;
    early = [];
  };
  /** `;`, `&` or a newline ends the and-or list, unless an operator still waits for its right side. */
  const endAndOr = (): void => {
    finish();
    const l = list();
    if (l.open) return;
    if (l.element !== undefined) l.last = chain(l);
    // `[ -f "$x" ] || return 0`: the rest of this list runs only when the left side held
    // (`… && exit` only when it failed); `|| continue` likewise for the rest of a loop's body.
    const leaves = l.element?.kind === 'command' && /^(return|exit|continue|break)$/.test(l.element.command.command);
    if (leaves && l.andOr && l.op && !l.negate) {
      l.guards = [...l.guards, { kind: 'and-or', condition: l.andOr, expect: l.op === '||' }];
      (l.element as { command: ShellCommand }).command.exitGuarded = true;
    } else if (leaves && !l.andOr && !l.negate) {
      // A plain `exit 0`: nothing after it in this list runs (libnewt's stray line after it).
      const command = (l.element as { command: ShellCommand }).command;
      l.guards = [...l.guards, { kind: 'if', condition: { kind: 'command', command: { ...command, command: 'false', args: [], raw: ['false'], redirects: [] } }, expect: true }];
      command.exitGuarded = true;
    }
    resetList(l);
  };
  /** The end of a compound list (at then, do, fi, `}`…): its exit status. */
  const closeList = (l: ListState): Condition => {
    finish();
    if (l.open) l.last = UNKNOWN;
    else if (l.element !== undefined) l.last = chain(l);
    resetList(l);
    return l.last ?? UNKNOWN;
  };
  /** Start a compound command here; a function body's guards start afresh. */
  const open = (make: (fn: string | undefined, outer: Guard[]) => Frame): void => {
    const fn = bodyOf;
    const outer = fn !== undefined ? [] : here();
    bodyOf = undefined;
    list().open = false;
    stack.push(make(fn, outer));
  };
  const nearest = (...kinds: Frame['kind'][]): number => {
    for (let i = stack.length - 1; i >= 0; i--) if (kinds.includes(stack[i]!.kind)) return i;
    return -1;
  };
  /** The frame at i, dropping any left unclosed above it. */
  const unwind = (i: number): Frame => {
    finish();
    stack.length = i + 1;
    return stack[i]!;
  };
  /** Pop the frame at i; the compound command's status becomes the enclosing pipeline's. */
  const closeFrame = (i: number, status: Condition): void => {
    stack.length = i;
    const l = list();
    l.element = status;
    l.open = false;
    cmdPos = false;
  };
  /** `}` or `)`: a group's status is its list's; a function definition's is not modelled. */
  const closeGroup = (kind: 'brace' | 'subshell'): boolean => {
    const i = nearest(kind);
    if (i < 0) return false;
    const f = unwind(i);
    const status = closeList(f.list);
    if (f.kind === 'subshell' && !f.shiftedBefore) ctx.shifted.delete(currentFn());
    closeFrame(i, f.fn !== undefined ? UNKNOWN : status);
    return true;
  };
  const ifWord = (w: 'then' | 'elif' | 'else'): void => {
    const i = nearest('if');
    if (i < 0) return;
    const f = unwind(i);
    if (f.kind !== 'if') return;
    if (w === 'then') {
      if (!f.testing) return;
      const condition = closeList(f.list);
      f.list = newList([...f.outer, ...failed(f.conds), { kind: 'if', condition, expect: true }]);
      f.conds.push(condition);
      f.testing = false;
    } else {
      closeList(f.list);
      f.list = newList([...f.outer, ...failed(f.conds)]);
      f.testing = w === 'elif';
      if (w === 'else') f.sawElse = true;
    }
  };
  const doWord = (): void => {
    cmdPos = true;
    const i = nearest('while', 'until', 'for');
    if (i < 0) return;
    const f = unwind(i);
    if ((f.kind !== 'while' && f.kind !== 'until' && f.kind !== 'for') || !f.testing) return;
    f.testing = false;
    // The body runs at all only if the first test passes; a for body runs once per word.
    if (f.kind !== 'for') f.list = newList([...f.outer, { kind: 'if', condition: closeList(f.list), expect: f.kind === 'while', loop: true }]);
    else if (f.variable !== undefined) {
      const fn = currentFn();
      const guard: Guard = { kind: 'for', variable: f.variable, words: f.words };
      if (fn !== undefined) guard.function = fn;
      if (ctx.shifted.has(fn)) guard.shifted = true;
      f.list = newList([...f.outer, guard]);
    }
  };
  const openItem = (f: CaseFrame): void => {
    f.patterns = f.fallthrough ? [...f.patterns, ...f.pending] : f.pending;
    f.pending = [];
    f.fallthrough = false;
    const fn = currentFn();
    const guard: Guard = { kind: 'case', subject: f.subject, patterns: f.patterns, excluded: f.excluded };
    if (fn !== undefined) guard.function = fn;
    if (ctx.shifted.has(fn)) guard.shifted = true;
    f.list = newList([...f.outer, guard]);
  };
  const closeCompound = (kind: 'if' | 'loop' | 'case'): boolean => {
    const i = kind === 'loop' ? nearest('while', 'until', 'for') : nearest(kind);
    if (i < 0) return false;
    const f = unwind(i);
    const last = closeList(f.list);
    closeFrame(i, UNKNOWN);
    // `if [ -e /etc/hosts ]; then return 0; fi`: what follows in this list runs only when the
    // test failed (an if with one branch, ending in a plain return or exit).
    const [cond] = f.kind === 'if' && f.conds.length === 1 && !f.sawElse ? f.conds : [];
    const leaves = last.kind === 'command' && /^(return|exit|continue|break)$/.test(last.command.command);
    if (cond && leaves) {
      list().guards = [...list().guards, { kind: 'if', condition: cond, expect: false }];
      (last as { command: ShellCommand }).command.exitGuarded = true;
    }
    return true;
  };

  for (;;) {
    lex.currentFunction = currentFn();
    lex.currentGuards = here();
    const tok = pushedBack ?? lex.next();
    pushedBack = undefined;

    if (pendingOp !== undefined) {
      const op = pendingOp;
      pendingOp = undefined;
      if (tok.type === 'word') {
        const r: Redirect = { op, target: tok.text, line: lex.line(tok.pos), function: currentFn(), guards: here() };
        if (op.endsWith('<<') || op.endsWith('<<-')) lex.hereDoc(r, tok, op.endsWith('-'));
        const fdDup = (op.endsWith('>&') || op.endsWith('<&')) && /^(\d+|-)$/.test(tok.text);
        if (OUTPUT_REDIRECT.test(op) && !fdDup) out.writes.push(r);
        if (cmd) cmd.redirects.push(r);
        else if (cmdPos) early.push(r);
        continue;
      }
    }

    if (tok.type === 'eof') {
      finish();
      return;
    }

    if (mode === 'caseSubject') {
      if (tok.type === 'word') {
        const f = top();
        if (f?.kind === 'case') f.subject = tok.raw;
        mode = 'caseIn';
      }
      continue;
    }
    if (mode === 'caseIn') {
      if (tok.type === 'word' && tok.text === 'in') mode = 'casePattern';
      continue;
    }
    if (mode === 'casePattern') {
      const f = top();
      if (tok.type === 'word' && !tok.quoted && tok.text === 'esac') {
        if (f?.kind === 'case') closeFrame(stack.length - 1, UNKNOWN);
        mode = 'normal';
        cmdPos = false;
      } else if (tok.type === 'op' && tok.text === ')') {
        if (f?.kind === 'case') openItem(f);
        mode = 'normal';
        cmdPos = true;
      } else if (tok.type === 'word' && f?.kind === 'case') f.pending.push(tok.raw);
      // Pattern words, `|`, a leading `(` and blank lines are not commands.
      continue;
    }
    if (mode === 'forName') {
      const f = stack[stack.length - 1];
      if (f?.kind === 'for' && tok.type === 'word' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(tok.text)) f.variable = tok.text;
      mode = 'forIn';
      continue;
    }
    if (mode === 'forIn' || mode === 'forWords') {
      const f = stack[stack.length - 1];
      if (tok.type === 'word' && mode === 'forIn' && tok.text === 'in') {
        mode = 'forWords';
        if (f?.kind === 'for') f.words = [];
      } else if (tok.type === 'word' && mode === 'forWords' && f?.kind === 'for') f.words?.push(tok.raw);
      else if (tok.type === 'newline' || (tok.type === 'op' && tok.text === ';')) {
        if (mode === 'forWords' || tok.type === 'op') {
          mode = 'normal';
          cmdPos = true;
        }
      } else if (tok.type === 'word' && mode === 'forIn' && tok.text === 'do') {
        mode = 'normal';
        doWord();
      }
      continue;
    }
    if (mode === 'functionName') {
      if (tok.type === 'word') {
        definingName = tok.text;
        mode = 'functionParen';
        const after = lex.next();
        if (after.type === 'op' && after.text === '(') continue;
        // `function name {`: no parentheses; the token read ahead starts the body.
        pushedBack = after;
        mode = 'normal';
        defineFunction(tok.text);
      } else mode = 'normal';
      continue;
    }
    if (mode === 'functionParen') {
      mode = 'normal';
      if (tok.type === 'op' && tok.text === ')' && definingName !== undefined) defineFunction(definingName);
      continue;
    }
    if (mode === 'doubleBracket') {
      if (tok.type === 'word' && tok.text === ']]') mode = 'normal';
      else if (tok.type === 'word') cmd?.args.push(tok.text);
      if (tok.type !== 'newline') cmd?.raw.push(tok.type === 'word' ? tok.raw : tok.text);
      continue;
    }

    if (tok.type === 'newline') {
      endAndOr();
      cmdPos = true;
      continue;
    }

    if (tok.type === 'op') {
      const op = tok.text;
      if (REDIRECT.test(op)) {
        pendingOp = op;
      } else if (op === '(') {
        if (cmd && cmd.args.length === 0 && cmd.redirects.length === 0 && !cmd.dynamic) {
          // `name ()`: a function definition, not a call.
          definingName = cmd.command;
          cmd = undefined;
          mode = 'functionParen';
        } else if (cmdPos && !cmd) {
          open((fn, outer) => ({ kind: 'subshell', fn, list: newList(outer), shiftedBefore: ctx.shifted.has(currentFn()) }));
        }
      } else if (op === ')') {
        if (!closeGroup('subshell')) {
          finish();
          if (nested) return;
          cmdPos = false;
        }
      } else if (op === ';;' || op === ';&' || op === ';;&') {
        const f = top();
        if (f?.kind === 'case') {
          closeList(f.list);
          // `;;` ends the case for subjects this item matched; `;;&` (bash) goes on testing.
          if (op === ';;') f.excluded = [...f.excluded, ...f.patterns];
          f.fallthrough = op === ';&';
          if (!f.fallthrough) f.patterns = [];
          f.list = newList(f.outer);
          mode = 'casePattern';
        } else finish();
        cmdPos = false;
      } else if (op === '&&' || op === '||') {
        finish();
        const l = list();
        l.andOr = chain(l);
        l.op = op;
        l.negate = false;
        l.element = undefined;
        l.open = true;
        cmdPos = true;
      } else if (op === '|' || op === '|&') {
        finish();
        const from = list().element;
        pipedFrom = from?.kind === 'command' && op === '|' ? from.command : undefined;
        list().element = undefined;
        list().open = true;
        cmdPos = true;
      } else {
        // ; &
        endAndOr();
        cmdPos = true;
      }
      continue;
    }

    // A word.
    if (cmd) {
      cmd.args.push(tok.text);
      cmd.raw.push(tok.raw);
      continue;
    }
    // After `fi`, `done`, `}`, `)` only redirections, operators or a closing reserved word
    // (`if (a) then`, `fi done`) may follow.
    if (!cmdPos && (tok.quoted || !AFTER_COMPOUND.has(tok.text))) continue;
    if (!tok.quoted) {
      const w = tok.text;
      if (w === 'if') {
        open((fn, outer) => ({ kind: 'if', fn, list: newList(outer), outer, conds: [], testing: true }));
        cmdPos = true;
        continue;
      }
      if (w === 'while' || w === 'until') {
        open((fn, outer) => ({ kind: w, fn, list: newList(outer), outer, testing: true }));
        cmdPos = true;
        continue;
      }
      if (w === 'then' || w === 'elif' || w === 'else') {
        ifWord(w);
        cmdPos = true;
        continue;
      }
      if (w === 'do') {
        doWord();
        continue;
      }
      if (w === 'fi' || w === 'done') {
        closeCompound(w === 'fi' ? 'if' : 'loop');
        cmdPos = false;
        continue;
      }
      if (w === '!') {
        list().negate = !list().negate;
        cmdPos = true;
        continue;
      }
      if (w === 'time') {
        cmdPos = true;
        continue;
      }
      if (w === '{') {
        open((fn, outer) => ({ kind: 'brace', fn, list: newList(outer) }));
        continue;
      }
      if (w === '}') {
        closeGroup('brace');
        cmdPos = false;
        continue;
      }
      if (w === 'esac' && closeCompound('case')) continue;
      if (w === 'case') {
        open((fn, outer) => ({ kind: 'case', fn, list: newList(outer), outer, subject: '', patterns: [], pending: [], excluded: [], fallthrough: false }));
        mode = 'caseSubject';
        continue;
      }
      if (w === 'for') {
        open((fn, outer) => ({ kind: 'for', fn, list: newList(outer), outer, testing: true }));
        mode = 'forName';
        continue;
      }
      if (w === 'function') {
        mode = 'functionName';
        continue;
      }
    }
    if (ASSIGNMENT.test(tok.raw)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(tok.raw)![0];
      const fn = currentFn();
      const a: Assignment = {
        name,
        value: tok.text.slice(tok.text.indexOf('=') + 1),
        raw: tok.raw.slice(tok.raw.indexOf('=') + 1),
        line: lex.line(tok.pos),
        function: fn,
        guards: here(),
      };
      if (ctx.shifted.has(fn)) a.shifted = true;
      a.seq = ctx.seq++;
      out.assignments.push(a);
      // A bare assignment's status (that of its last $(…)) is not modelled; a command word after it replaces this.
      list().element = UNKNOWN;
      list().open = false;
      continue;
    }
    bodyOf = undefined;
    const fn = currentFn();
    cmd = { command: tok.text, args: [], line: lex.line(tok.pos), dynamic: tok.dynamic, redirects: early, function: fn, raw: [tok.raw], guards: here() };
    if (inSubstitution) cmd.inSubstitution = true;
    if (ctx.shifted.has(fn)) cmd.shifted = true;
    if (pipedFrom) cmd.input = pipedFrom;
    pipedFrom = undefined;
    list().open = false;
    early = [];
    cmdPos = false;
    if (!tok.quoted && tok.text === '[[') mode = 'doubleBracket';
  }

  function defineFunction(name: string): void {
    if (!out.functions.includes(name)) out.functions.push(name);
    bodyOf = name;
    definingName = undefined;
    cmdPos = true;
  }
}
