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
}

export interface Assignment {
  name: string;
  /** Quotes removed, expansions as written. */
  value: string;
  line: number;
  function?: string;
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
  parseList(new Lexer(script, 1, out, undefined), false, undefined);
  return out;
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

  constructor(
    private readonly src: string,
    private readonly firstLine: number,
    readonly out: ShellScript,
    fn: string | undefined,
  ) {
    for (let i = 0; i < src.length; i++) if (src[i] === '\n') this.lineStarts.push(i + 1);
    this.currentFunction = fn;
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
    parseList(new Lexer(body, this.line(start), this.out, this.currentFunction), false, this.currentFunction);
    acc.text += this.src.slice(start, Math.min(this.pos, this.src.length));
    acc.dynamic = true;
  }

  /** After `$(` or `<(`: the commands up to the matching `)`, parsed on this same input. */
  private parseSubstitution(): void {
    parseList(this, true, this.currentFunction);
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
        const sub = new Lexer(body, this.line(bodyStart), this.out, h.redirect.function);
        sub.readDoubleQuoted({ text: '', quoted: false, dynamic: false }, null);
      }
    }
  }
}

type Frame = { kind: 'brace' | 'subshell' | 'case'; fn: string | undefined };

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

const SKIP_RESERVED = new Set(['if', 'then', 'elif', 'else', 'do', 'while', 'until', '!', 'time']);
const AFTER_COMPOUND = new Set(['then', 'elif', 'else', 'do', 'fi', 'done', 'esac', '}']);

/**
 * Walk tokens, tracking whether the next word is in command position. With `nested`, stop at the
 * `)` that closes a $(…) or <(…) (the lexer has just consumed the opening).
 */
function parseList(lex: Lexer, nested: boolean, outerFn: string | undefined): void {
  const out = lex.out;
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

  const currentFn = (): string | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.fn !== undefined) return stack[i]!.fn;
    return outerFn;
  };
  const finish = (): void => {
    if (cmd) out.commands.push(cmd);
    cmd = undefined;
    early = [];
  };
  const top = (): Frame | undefined => stack[stack.length - 1];

  for (;;) {
    lex.currentFunction = currentFn();
    const tok = pushedBack ?? lex.next();
    pushedBack = undefined;

    if (pendingOp !== undefined) {
      const op = pendingOp;
      pendingOp = undefined;
      if (tok.type === 'word') {
        const r: Redirect = { op, target: tok.text, line: lex.line(tok.pos), function: currentFn() };
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
      if (tok.type === 'word') mode = 'caseIn';
      continue;
    }
    if (mode === 'caseIn') {
      if (tok.type === 'word' && tok.text === 'in') {
        stack.push({ kind: 'case', fn: undefined });
        mode = 'casePattern';
      }
      continue;
    }
    if (mode === 'casePattern') {
      if (tok.type === 'word' && !tok.quoted && tok.text === 'esac') {
        if (top()?.kind === 'case') stack.pop();
        mode = 'normal';
        cmdPos = false;
      } else if (tok.type === 'op' && tok.text === ')') {
        mode = 'normal';
        cmdPos = true;
      }
      // Pattern words, `|`, a leading `(` and blank lines are not commands.
      continue;
    }
    if (mode === 'forName') {
      mode = 'forIn';
      continue;
    }
    if (mode === 'forIn' || mode === 'forWords') {
      if (tok.type === 'word' && mode === 'forIn' && tok.text === 'in') mode = 'forWords';
      else if (tok.type === 'newline' || (tok.type === 'op' && tok.text === ';')) {
        if (mode === 'forWords' || tok.type === 'op') {
          mode = 'normal';
          cmdPos = true;
        }
      } else if (tok.type === 'word' && mode === 'forIn' && tok.text === 'do') {
        mode = 'normal';
        cmdPos = true;
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
      continue;
    }

    if (tok.type === 'newline') {
      finish();
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
          stack.push({ kind: 'subshell', fn: bodyOf });
          bodyOf = undefined;
        }
      } else if (op === ')') {
        finish();
        if (top()?.kind === 'subshell') stack.pop();
        else if (nested) return;
        cmdPos = false;
      } else if (op === ';;' || op === ';&' || op === ';;&') {
        finish();
        if (top()?.kind === 'case') mode = 'casePattern';
        cmdPos = false;
      } else {
        // ; & && || | |&
        finish();
        cmdPos = true;
      }
      continue;
    }

    // A word.
    if (cmd) {
      cmd.args.push(tok.text);
      continue;
    }
    // After `fi`, `done`, `}`, `)` only redirections, operators or a closing reserved word
    // (`if (a) then`, `fi done`) may follow.
    if (!cmdPos && (tok.quoted || !AFTER_COMPOUND.has(tok.text))) continue;
    if (!tok.quoted) {
      const w = tok.text;
      if (SKIP_RESERVED.has(w)) {
        cmdPos = true;
        continue;
      }
      if (w === 'fi' || w === 'done') {
        cmdPos = false;
        continue;
      }
      if (w === '{') {
        stack.push({ kind: 'brace', fn: bodyOf });
        bodyOf = undefined;
        continue;
      }
      if (w === '}') {
        if (top()?.kind === 'brace') stack.pop();
        cmdPos = false;
        continue;
      }
      if (w === 'esac' && top()?.kind === 'case') {
        stack.pop();
        cmdPos = false;
        continue;
      }
      if (w === 'case') {
        mode = 'caseSubject';
        continue;
      }
      if (w === 'for') {
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
      out.assignments.push({ name, value: tok.text.slice(tok.text.indexOf('=') + 1), line: lex.line(tok.pos), function: currentFn() });
      continue;
    }
    bodyOf = undefined;
    cmd = { command: tok.text, args: [], line: lex.line(tok.pos), dynamic: tok.dynamic, redirects: early, function: currentFn() };
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
