/**
 * Decides, without running anything, whether the guards shellCommands.ts records for a command
 * hold for one invocation of a maintainer script (e.g. `postinst configure ""` on a fresh
 * install). Three-valued: a test whose outcome depends on something we do not know (a database
 * query, a file's mode, a variable set at run time) is undefined, and undefined propagates as in
 * Kleene logic (false && x is false, true || x is true).
 */
import path from 'node:path';
import { parseGrep } from './grepText.js';
import type { Assignment, Condition, Guard, ShellCommand, ShellScript } from './shellCommands.js';

export type PathType = 'file' | 'directory' | 'symlink' | 'absent';

export interface ScriptEnv {
  /** $1, $2, …: exactly the arguments the script gets (a missing one is unset), or the function call's when `frame` names one. */
  args: string[];
  /** The function whose call `args` belong to (see callOrder.ts); undefined: the script's own. */
  frame?: string;
  /** Variables with a known value (e.g. DPKG_ROOT: ''); any other variable is unknown. */
  variables: Record<string, string>;
  /** What is at an absolute, normalized path (lstat: a symlink is 'symlink'); undefined = unknown. */
  pathType(absPath: string): PathType | undefined;
  /** Whether a command (by basename, with its expanded arguments and a heredoc's text) succeeds, where the format knows; undefined = unknown. */
  commandStatus?(name: string, args: string[], stdin?: string): boolean | undefined;
  /** What a simple command prints inside `$(…)`, where the format knows (dpkg-divert --truename); undefined = unknown. */
  commandOutput?(words: string[]): string | undefined;
  /** The script's own arguments are not known (an apk trigger's changed directories); a call's still are. */
  argsUnknown?: boolean;
  /** Pathname expansion of an absolute pattern: the matching paths, sorted; undefined when not known. */
  glob?(pattern: string): string[] | undefined;
  /** What a `$(…)` body the simple forms do not cover prints, when it can be known (see callOrder's followScript). */
  substitutionOutput?(body: string, at?: Pick<ScriptEnv, 'variables' | 'args'>): string | undefined;
  /** The loops unrolled around a command, by variable: the round it runs in (see callOrder.ts). */
  loops?: Record<string, string>;
  /** The loop guards (for, while read) unrolled around a command: they hold in its round. */
  rounds?: ReadonlySet<Guard>;
  /** The working directory a `cd` before the command gave it; undefined: not known. */
  cwd?: string;
  /** pathType as a test at this point of the script sees it, where that differs by point. */
  pathTypeAt?(site: { line: number; function?: string }): ScriptEnv['pathType'];
  /** Whether a call of one of the script's functions returns 0 (see callOrder's followScript); undefined: not a function, or not known. */
  functionStatus?(name: string, args: string[]): boolean | undefined;
}

/** The arguments dpkg passes on a fresh install. */
export const FRESH_INSTALL_ARGS = { preinst: ['install'], postinst: ['configure', ''] } as const;

type B = boolean | undefined;

const not = (a: B): B => (a === undefined ? undefined : !a);
const and = (a: B, b: B): B => (a === false || b === false ? false : a === true && b === true ? true : undefined);
const or = (a: B, b: B): B => (a === true || b === true ? true : a === false && b === false ? false : undefined);

/** 'never' if a guard surely fails, 'always' if all surely hold, else 'maybe'. */
export function guardsHold(guards: Guard[], env: ScriptEnv): 'always' | 'never' | 'maybe' {
  let all = true;
  for (const [i, g] of guards.entries()) {
    // In an unrolled round, the body runs for that round's word, already bound.
    if ((g.kind === 'for' && env.loops && Object.hasOwn(env.loops, g.variable)) || env.rounds?.has(g)) continue;
    // Inside a loop over known words, the guards within are judged once per word, the variable bound.
    const words = g.kind === 'for' ? loopWords(g, env) : undefined;
    if (words !== undefined && words.length > 0 && i < guards.length - 1) {
      const each = words.map((w) => guardsHold(guards.slice(i + 1), { ...env, variables: { ...env.variables, [(g as Extract<Guard, { kind: 'for' }>).variable]: w } }));
      if (each.every((r) => r === 'never')) return 'never';
      return all && each.every((r) => r === 'always') ? 'always' : 'maybe';
    }
    const v = guardValue(g, env);
    if (v === false) return 'never';
    if (v === undefined) all = false;
  }
  return all ? 'always' : 'maybe';
}

function guardValue(g: Guard, env: ScriptEnv): B {
  if (g.kind === 'for') {
    // The body runs at all when the word list is not empty.
    const words = loopWords(g, env);
    return words === undefined ? undefined : words.length > 0;
  }
  if (g.kind !== 'case') {
    const v = conditionValue(g.condition, env);
    return v === undefined ? undefined : v === g.expect;
  }
  const scope: Scope = { env, positionals: positionalsKnown(g, env) };
  const subject = single(expandWord(g.subject, scope));
  if (subject.value === undefined) return undefined;
  const matchesAny = (patterns: string[]): B => patterns.reduce<B>((acc, p) => or(acc, matches(subject.value!, p, scope)), false);
  return and(matchesAny(g.patterns), not(matchesAny(g.excluded)));
}

/** The values a `for` loop takes, after expansion and field splitting; undefined when not known. */
export function loopWords(g: Extract<Guard, { kind: 'for' }>, env: ScriptEnv): string[] | undefined {
  if (g.words === undefined) return undefined;
  const fields = fieldsOf(g.words, { env, positionals: positionalsKnown(g, env) });
  return fields === undefined || fields.some((f) => f.value === undefined) ? undefined : fields.map((f) => f.value!);
}

/** Whether a command (tree) exits 0; undefined when that cannot be known statically. */
export function conditionValue(c: Condition, env: ScriptEnv): boolean | undefined {
  switch (c.kind) {
    case 'command':
      return commandValue(c.command, env);
    case 'not':
      return not(conditionValue(c.operand, env));
    case 'and':
      return and(conditionValue(c.left, env), conditionValue(c.right, env));
    case 'or':
      return or(conditionValue(c.left, env), conditionValue(c.right, env));
    case 'unknown':
      return undefined;
  }
}

function commandValue(c: ShellCommand, envAround: ScriptEnv): B {
  // A test sees the filesystem as it is where the test itself stands.
  const env = envAround.pathTypeAt ? { ...envAround, pathType: envAround.pathTypeAt(c) } : envAround;
  const scope: Scope = { env, positionals: positionalsKnown(c, env) };
  if (c.dynamic) {
    // `if $do_copy; then`: a command word that expands to one known word runs that command.
    const word = fieldsOf(c.raw.slice(0, 1), scope);
    const named = word?.length === 1 ? word[0]!.value : undefined;
    return named === undefined || /[$`\s]/.test(named) ? undefined : commandValue({ ...c, command: named, dynamic: false, raw: [named, ...c.raw.slice(1)] }, env);
  }
  const name = c.command.startsWith('/') ? c.command.slice(c.command.lastIndexOf('/') + 1) : c.command;
  switch (name) {
    case 'true':
    case ':':
      return true;
    case 'false':
      return false;
    case 'test':
    case '[': {
      const fields = fieldsOf(c.raw.slice(1), scope);
      if (fields === undefined) return undefined;
      if (name === '[') {
        if (fields[fields.length - 1]?.value !== ']') return undefined;
        fields.pop();
      }
      return testValue(fields, scope);
    }
    case '[[':
      return doubleBracketValue(c.raw.slice(1), scope);
    case 'which':
    case 'command': {
      // `command -v NAME` and `which NAME` succeed when a PATH directory has the program.
      const fields = fieldsOf(c.raw.slice(1), scope);
      if (fields === undefined || fields.some((f) => f.value === undefined)) return undefined;
      const words = fields.map((f) => f.value!);
      const names = name === 'which' ? words.filter((w) => !w.startsWith('-')) : words[0] === '-v' ? words.slice(1) : [];
      if (names.length !== 1) return undefined;
      const found = programPath(names[0]!, env);
      return found === undefined ? undefined : found !== '';
    }
    case 'grep':
      return c.input ? grepOfKnownInput(c, c.input, scope) : askFormat(name, c, scope);
    default: {
      // A function of the script: the status its body returns with these arguments.
      const fields = env.functionStatus ? fieldsOf(c.raw.slice(1), scope) : undefined;
      const own = fields && fields.every((f) => f.value !== undefined) ? env.functionStatus?.(c.command, fields.map((f) => f.value!)) : undefined;
      return own ?? askFormat(name, c, scope);
    }
  }
}

/**
 * getent, db_get, grep…: they ask the running system, unless the format knows the answer on a
 * fresh install (dpkg --compare-versions with no old version).
 */
function askFormat(name: string, c: ShellCommand, scope: Scope): B {
  if (!scope.env.commandStatus) return undefined;
  const fields = fieldsOf(c.raw.slice(1), scope);
  if (fields === undefined || fields.some((f) => f.value === undefined)) return undefined;
  // A heredoc without expansions is the command's known input (nfs-common's `md5sum -c <<EOF`).
  const doc = c.redirects.find((r) => r.heredoc)?.heredoc;
  const stdin = doc && !(doc.expands && /[$`\\]/.test(doc.body)) ? doc.body : undefined;
  return scope.env.commandStatus(name, fields.map((f) => f.value!), stdin);
}

// ---------------------------------------------------------------------------------------------
// Words

interface Scope {
  env: ScriptEnv;
  /** $1… are env.args (in env's frame, before any shift); otherwise unknown. */
  positionals: boolean;
}

/**
 * Whether $1… at a command or guard are env.args: it sits in the body whose arguments they are
 * (top level for the script's, a bound function call's for its body), and no `shift` or
 * `set --` came before it there.
 */
function positionalsKnown(x: { function?: string; shifted?: boolean }, env: ScriptEnv): boolean {
  return x.function === env.frame && !x.shifted && !(env.frame === undefined && env.argsUnknown === true);
}

/** A stretch of an expanded word; text undefined = an expansion we cannot know ($(…), unknown $x). */
interface Piece {
  text: string | undefined;
  quoted: boolean;
  /** From a parameter expansion (so field splitting applies when unquoted). */
  expanded: boolean;
}

/** A test operand: its value, or at least whether it is surely non-empty. */
type Field = { value: string } | { value: undefined; nonEmpty: boolean };

/** Expand a word as written (quotes kept), as sh would with what the scope knows. */
function expandWord(raw: string, scope: Scope, inQuotes = false): Piece[] {
  const out: Piece[] = [];
  let dq = false;
  const lit = (text: string, quoted: boolean): void => void out.push({ text, quoted, expanded: false });
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    const quoted = inQuotes || dq;
    if (c === '\\') {
      const n = raw[i + 1] ?? '';
      if (!quoted) {
        if (n !== '\n') lit(n, true);
        i += 2;
      } else if ('$`"\\\n'.includes(n) && n !== '') {
        if (n !== '\n') lit(n, true);
        i += 2;
      } else {
        lit('\\', true);
        i++;
      }
    } else if (c === "'" && !quoted) {
      const end = raw.indexOf("'", i + 1);
      lit(raw.slice(i + 1, end < 0 ? raw.length : end), true);
      i = end < 0 ? raw.length : end + 1;
    } else if (c === '"') {
      dq = !dq;
      lit('', true); // "" is still a word
      i++;
    } else if (c === '`') {
      const end = skipBackticks(raw, i + 1);
      out.push({ text: substitution(raw.slice(i + 1, end - 1), scope), quoted, expanded: true });
      i = end;
    } else if (c === '$') {
      i = expandDollar(raw, i, scope, quoted, out);
    } else {
      lit(c, quoted);
      i++;
    }
  }
  return out;
}

/** At a `$`: push the expansion's pieces, return the index after it. */
/** The directories a maintainer script's PATH holds (dpkg sets it so). */
const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Where `command -v NAME` / `which NAME` finds a program: its path, '' when no PATH directory
 * has it, undefined when that cannot be told (a shell builtin or function could answer too, so
 * only plain program names are looked up, and an unknown path type makes the answer unknown).
 */
export function programPath(name: string, env: ScriptEnv): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name) || SHELL_BUILTINS.has(name)) return undefined;
  for (const dir of PATH_DIRS) {
    const t = env.pathType(`${dir}/${name}`);
    if (t === undefined) return undefined;
    if (t !== 'absent' && t !== 'directory') return `${dir}/${name}`;
  }
  return '';
}

const SHELL_BUILTINS = new Set(['echo', 'printf', 'test', '[', 'true', 'false', 'cd', 'pwd', 'read', 'type', 'command', 'kill', 'exit', 'set', 'export']);

/**
 * `PRODUCER | grep … PATTERN` where the producer's output is known (echo of known words, or what
 * the format answers through commandOutput, e.g. `getcap` of a fresh file): grep's status.
 */
function grepOfKnownInput(c: ShellCommand, input: ShellCommand, scope: Scope): B {
  const words = fieldsOf(c.raw.slice(1), scope);
  const produced = fieldsOf(input.raw.slice(1), { env: scope.env, positionals: positionalsKnown(input, scope.env) });
  if (input.dynamic || words === undefined || produced === undefined || [...words, ...produced].some((f) => f.value === undefined)) return undefined;
  const grep = parseGrep('grep', words.map((f) => f.value!));
  if (grep === undefined || grep.file !== undefined) return undefined;
  const name = input.command.slice(input.command.lastIndexOf('/') + 1);
  const args = produced.map((f) => f.value!);
  const text = name === 'echo' && !args.some((a) => a.startsWith('-')) ? `${args.join(' ')}\n` : scope.env.commandOutput?.([name, ...args]);
  return text === undefined ? undefined : grep.test(text);
}

/**
 * The output of `$(command -v NAME)` or `` `which NAME` ``, and of `$(readlink PATH)` where PATH
 * is absent or a directory (no output), and `dirname WORD`; of other simple commands what the
 * format answers (commandOutput), and of other bodies what substitutionOutput finds; else unknown.
 */
function substitution(body: string, scope: Scope): string | undefined {
  const m = /^\s*(?:command\s+-v|which)\s+([A-Za-z0-9._+-]+)\s*(?:2>\s*\/dev\/null\s*)?$/.exec(body);
  if (m) return programPath(m[1]!, scope.env);
  const dir = /^\s*dirname\s+("[^"$`]*"|'[^']*'|[^\s"'$`]+|"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")\s*$/.exec(body);
  if (dir) {
    const v = single(expandWord(dir[1]!, scope));
    return v.value === undefined || !v.value.startsWith('/') ? undefined : path.posix.dirname(v.value);
  }
  const link = /^\s*readlink\s+(\/[^\s$`'"*?[]*)\s*(?:2>\s*\/dev\/null\s*)?(?:\|\|\s*true\s*)?$/.exec(body);
  if (link) {
    const t = scope.env.pathType(link[1]!);
    return t === 'absent' || t === 'directory' ? '' : undefined;
  }
  // Any other simple command (no pipes, lists or redirections but 2>/dev/null): the format may know.
  const simple = body.replace(/\s2>\s*\/dev\/null\s*$/, '').trim();
  if (scope.env.commandOutput && simple !== '' && !/[|;&<>()`\n]/.test(simple)) {
    const words = simple.split(/[ \t]+/).map((w) => single(expandWord(w, scope)).value);
    const printed = words.every((w): w is string => w !== undefined) ? scope.env.commandOutput(words) : undefined;
    if (printed !== undefined) return printed;
  }
  // Helper calls and loops that only echo known words (xz-utils' `$(slave …)` list).
  return scope.env.substitutionOutput?.(body, scope.env);
}

function expandDollar(raw: string, i: number, scope: Scope, quoted: boolean, out: Piece[]): number {
  const n = raw[i + 1];
  const unknown = (end: number): number => {
    out.push({ text: undefined, quoted, expanded: true });
    return end;
  };
  if (n === '(' && raw[i + 2] !== '(') {
    const end = skipTo(raw, i + 2, ')');
    // The output without its trailing newlines, as sh substitutes it.
    out.push({ text: substitution(raw.slice(i + 2, end - 1), scope)?.replace(/\n+$/, ''), quoted, expanded: true });
    return end;
  }
  if (n === '(') return unknown(skipTo(raw, i + 2, ')')); // $((…))
  if (n === "'" && !quoted) {
    // $'…' (bash): escapes we do not decode.
    let j = i + 2;
    while (j < raw.length && raw[j] !== "'") j += raw[j] === '\\' ? 2 : 1;
    return unknown(j + 1);
  }
  if (n === '{') {
    const end = skipTo(raw, i + 2, '}');
    const pieces = braced(raw.slice(i + 2, end - 1), scope, quoted);
    if (pieces === undefined) return unknown(end);
    out.push(...pieces);
    return end;
  }
  const name = n === undefined ? '' : /^[A-Za-z_][A-Za-z0-9_]*/.exec(raw.slice(i + 1))?.[0] ?? (/[0-9@*#?$!-]/.test(n) ? n : '');
  if (name === '') {
    out.push({ text: '$', quoted, expanded: false });
    return i + 1;
  }
  const p = lookup(name, scope);
  out.push({ text: p?.value, quoted, expanded: true });
  return i + 1 + name.length;
}

/** ${name}, ${name:-word} and the other defaulting forms, ${#name}; others are unknown. */
function braced(body: string, scope: Scope, quoted: boolean): Piece[] | undefined {
  if (body.startsWith('#') && body.length > 1) {
    const p = lookup(body.slice(1), scope);
    return p && /^([A-Za-z_][A-Za-z0-9_]*|\d+)$/.test(body.slice(1)) ? [{ text: String(p.value.length), quoted, expanded: true }] : undefined;
  }
  const trim = /^([A-Za-z_][A-Za-z0-9_]*|\d+)(##?|%%?)([\s\S]*)$/.exec(body);
  if (trim) return trimmed(trim[1]!, trim[2]!, trim[3]!, scope, quoted);
  const m = /^([A-Za-z_][A-Za-z0-9_]*|\d+|[@*#?$!-])(?:(:?[-=+?])([\s\S]*))?$/.exec(body);
  if (!m) return undefined; // ${x/a/b}…
  const [, name = '', op, word = ''] = m;
  const p = lookup(name, scope);
  if (p === undefined) return undefined;
  const value: Piece[] = [{ text: p.value, quoted, expanded: true }];
  if (op === undefined) return value;
  const use = op.startsWith(':') ? p.set && p.value !== '' : p.set;
  // The word's result is split like any expansion, except where it was quoted itself.
  const alternative = (): Piece[] => expandWord(word, scope, quoted).map((x) => ({ ...x, expanded: true }));
  switch (op.replace(':', '')) {
    case '-':
    case '=':
      return use ? value : alternative();
    case '+':
      return use ? alternative() : [{ text: '', quoted, expanded: true }];
    default:
      // ${x:?msg}: the shell exits when x is unset or empty.
      return use ? value : undefined;
  }
}

/**
 * `${x#pat}` `${x##pat}` (the shortest or longest prefix matching pat removed), `${x%pat}`
 * `${x%%pat}` (the same of a suffix): postgresql's `${DPKG_MAINTSCRIPT_PACKAGE##*-}`.
 */
function trimmed(name: string, op: string, pattern: string, scope: Scope, quoted: boolean): Piece[] | undefined {
  const p = lookup(name, scope);
  if (p === undefined) return undefined;
  const v = p.value;
  const lengths = [...Array(v.length + 1).keys()];
  const longest = op.length === 2;
  const prefix = op.startsWith('#');
  for (const i of longest ? lengths.reverse() : lengths) {
    const part = prefix ? v.slice(0, i) : v.slice(v.length - i);
    const hit = matches(part, pattern, scope);
    if (hit === undefined) return undefined;
    if (hit) return [{ text: prefix ? v.slice(i) : v.slice(0, v.length - i), quoted, expanded: true }];
  }
  return [{ text: v, quoted, expanded: true }];
}

/** A parameter's value and whether it is set, or undefined if unknown. */
function lookup(name: string, scope: Scope): { set: boolean; value: string } | undefined {
  const { env, positionals } = scope;
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    if (!positionals || n === 0) return undefined;
    return n <= env.args.length ? { set: true, value: env.args[n - 1]! } : { set: false, value: '' };
  }
  if (name === '#') return positionals ? { set: true, value: String(env.args.length) } : undefined;
  if (!/^[A-Za-z_]/.test(name) || !Object.hasOwn(env.variables, name)) return undefined; // $@ $* $? $$ $! $-
  return { set: true, value: env.variables[name]! };
}

/** A word where no field splitting or globbing happens (case subject, [[ operand, assignment). */
function single(pieces: Piece[]): Field {
  if (pieces.every((p) => p.text !== undefined)) return { value: pieces.map((p) => p.text).join('') };
  return { value: undefined, nonEmpty: pieces.some((p) => p.text) };
}

/** Argument words as fields after splitting; undefined when even their number is unknown. */
function fieldsOf(raws: string[], scope: Scope): Field[] | undefined {
  const out: Field[] = [];
  for (const raw of raws) {
    // "$@": one field per argument (dbus's `in_sysroot adduser …` runs `"$@"`); unquoted, the
    // same while no argument would split or glob.
    if (/^("\$@"|"\$\{@\}"|\$@|\$\{@\})$/.test(raw)) {
      const quoted = raw.startsWith('"');
      if (!scope.positionals || (!quoted && scope.env.args.some((a) => /[\s*?[]/.test(a)))) return undefined;
      // Unquoted, an empty argument is no field at all (apache2's `is_fresh_install $@` gets no $2).
      out.push(...scope.env.args.filter((a) => quoted || a !== '').map((value) => ({ value })));
      continue;
    }
    const pieces = expandWord(raw, scope);
    const splits = pieces.some((p) => p.expanded && !p.quoted);
    if (pieces.some((p) => p.text === undefined)) {
      // Quoted unknowns keep the word one field; unquoted ones may split into any number.
      if (splits) return undefined;
      out.push(single(pieces));
      continue;
    }
    // Pathname expansion (and ~) depend on the filesystem: the format may answer for an
    // absolute path whose last component alone is a pattern (`${LOG}*`).
    if (pieces.some((p) => !p.quoted && /[*?[]/.test(p.text!))) {
      const text = pieces.map((p) => p.text!).join('');
      const quotedGlob = pieces.some((p) => p.quoted && /[*?[]/.test(p.text!));
      const matches = quotedGlob || /\s/.test(text) ? undefined : relativeGlob(text, scope.env);
      if (matches === undefined) return undefined;
      out.push(...(matches.length ? matches : [text]).map((value) => ({ value })));
      continue;
    }
    if (pieces[0] && !pieces[0].quoted && pieces[0].text!.startsWith('~')) return undefined;
    const ifs = scope.env.variables.IFS ?? ' \t\n';
    if (splits && !/^[ \t\n]*$/.test(ifs)) return undefined;
    let cur = '';
    let has = false;
    for (const p of pieces) {
      if (p.quoted) has = true;
      for (const ch of p.text!) {
        if (p.expanded && !p.quoted && ifs.includes(ch)) {
          if (has) out.push({ value: cur });
          cur = '';
          has = false;
        } else {
          cur += ch;
          has = true;
        }
      }
    }
    if (has) out.push({ value: cur });
  }
  return out;
}

/**
 * A command's words after expansion with what `env` knows (`${DPKG_ROOT:+--root=…}` vanishes when
 * DPKG_ROOT is empty). A word whose value is not known stays as the reader unquoted it, so
 * recognizers still see its `$…` and refuse to guess; the same when even the number of words is
 * not known.
 */
export function expandedWords(c: ShellCommand, env: ScriptEnv): string[] {
  return expandWords(c, env).words;
}

/** The words after expansion when every one of them is known (a function call's arguments), else undefined. */
export function knownWords(c: ShellCommand, env: ScriptEnv): string[] | undefined {
  const { words, known } = expandWords(c, env);
  return known ? words : undefined;
}

function expandWords(c: ShellCommand, env: ScriptEnv): { words: string[]; known: boolean } {
  const scope: Scope = { env, positionals: positionalsKnown(c, env) };
  const words = [c.command, ...c.args];
  if (c.raw.length !== words.length) return { words, known: false };
  const out: string[] = [];
  let known = true;
  for (let i = 0; i < words.length; i++) {
    const fields = fieldsOf([c.raw[i]!], scope);
    if (fields === undefined || fields.some((f) => f.value === undefined)) {
      out.push(words[i]!);
      known = false;
    } else out.push(...fields.map((f) => f.value!));
  }
  return { words: out, known };
}

/** Index after the `close` that ends a $(…) or ${…} body starting at i, minding quotes and nesting. */
function skipTo(raw: string, i: number, close: ')' | '}'): number {
  let depth = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '\\') i += 2;
    else if (c === "'" && close === ')') {
      const end = raw.indexOf("'", i + 1);
      i = end < 0 ? raw.length : end + 1;
    } else if (c === '"') i = skipDouble(raw, i + 1);
    else if (c === '`') i = skipBackticks(raw, i + 1);
    else if (c === '$' && (raw[i + 1] === '(' || raw[i + 1] === '{')) i = skipTo(raw, i + 2, raw[i + 1] === '(' ? ')' : '}');
    else {
      if (c === close) {
        if (depth === 0) return i + 1;
        depth--;
      } else if (c === '(' && close === ')') depth++;
      i++;
    }
  }
  return raw.length;
}

function skipDouble(raw: string, i: number): number {
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') return i + 1;
    if (c === '\\') i += 2;
    else if (c === '`') i = skipBackticks(raw, i + 1);
    else if (c === '$' && (raw[i + 1] === '(' || raw[i + 1] === '{')) i = skipTo(raw, i + 2, raw[i + 1] === '(' ? ')' : '}');
    else i++;
  }
  return raw.length;
}

function skipBackticks(raw: string, i: number): number {
  while (i < raw.length && raw[i] !== '`') i += raw[i] === '\\' ? 2 : 1;
  return i + 1;
}

// ---------------------------------------------------------------------------------------------
// Patterns

/** Whether `subject` matches a case pattern as written; undefined if the pattern is unknown. */
function matches(subject: string, pattern: string, scope: Scope): B {
  const pieces = expandWord(pattern, scope);
  if (pieces.some((p) => p.text === undefined)) return undefined;
  const re = globRegExp(pieces.flatMap((p) => [...p.text!].map((ch) => ({ ch, quoted: p.quoted }))));
  return re === undefined ? undefined : re.test(subject);
}

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  xdigit: '0-9A-Fa-f',
  punct: '!-\\/:-@\\[-`{-~',
};

const escapeRe = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** sh pattern → RegExp: * ? […] are special unless quoted. Undefined for what we do not model. */
function globRegExp(chars: { ch: string; quoted: boolean }[]): RegExp | undefined {
  let re = '';
  for (let i = 0; i < chars.length; i++) {
    const { ch, quoted } = chars[i]!;
    if (quoted) re += escapeRe(ch);
    else if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else if (ch === '[') {
      const b = bracket(chars, i);
      if (b === null) return undefined;
      if (b === undefined) re += '\\[';
      else {
        re += b.re;
        i = b.end;
      }
    } else re += escapeRe(ch);
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return undefined; // e.g. a reversed range [z-a]
  }
}

/** A bracket expression at chars[i] === '['; undefined when unterminated (a literal '['), null when not modelled. */
function bracket(chars: { ch: string; quoted: boolean }[], i: number): { re: string; end: number } | undefined | null {
  let j = i + 1;
  let negate = false;
  if (!chars[j]?.quoted && (chars[j]?.ch === '!' || chars[j]?.ch === '^')) {
    negate = true;
    j++;
  }
  let body = '';
  for (let first = true; j < chars.length; first = false) {
    const { ch, quoted } = chars[j]!;
    if (ch === ']' && !quoted && !first) return { re: `[${negate ? '^' : ''}${body}]`, end: j };
    if (ch === '[' && !quoted && chars[j + 1]?.ch === ':') {
      const rest = chars.slice(j + 2).map((c) => c.ch).join('');
      const m = /^([a-z]+):\]/.exec(rest);
      const cls = m && Object.hasOwn(CLASSES, m[1]!) ? CLASSES[m[1]!] : undefined;
      if (!m || cls === undefined) return null;
      body += cls;
      j += 2 + m[0].length;
      continue;
    }
    if (chars[j + 1]?.ch === '-' && !chars[j + 1]!.quoted && chars[j + 2] && chars[j + 2]!.ch !== ']') {
      body += `${escapeRe(ch)}-${escapeRe(chars[j + 2]!.ch)}`;
      j += 3;
      continue;
    }
    body += escapeRe(ch);
    j++;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// test / [ / [[

const UNARY = new Set(['-z', '-n', '-e', '-f', '-d', '-x', '-L', '-h', '-s', '-r', '-w', '-b', '-c', '-p', '-S', '-g', '-u', '-k', '-t', '-O', '-G', '-N']);
const BINARY = new Set(['=', '!=', '==', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef', '<', '>']);

const is = (f: Field | undefined, s: string): boolean => f?.value === s;
const nonEmpty = (f: Field): B => (f.value !== undefined ? f.value !== '' : f.nonEmpty ? true : undefined);

class Malformed extends Error {}

/**
 * test's arguments: POSIX's rules by argument count, then a recursive descent (-o below -a
 * below !) like dash's. Operators are recognized by value; an operand of unknown value is taken
 * to be an operand (a script testing "$x" does not expect $x to be "-n").
 */
function testValue(a: Field[], scope: Scope): B {
  switch (a.length) {
    case 0:
      return false;
    case 1:
      return nonEmpty(a[0]!);
    case 2:
      if (is(a[0], '!')) return not(nonEmpty(a[1]!));
      return a[0]!.value !== undefined && UNARY.has(a[0]!.value) ? unary(a[0]!.value, a[1]!, scope) : undefined;
    case 3:
      if (a[1]!.value !== undefined && (BINARY.has(a[1]!.value) || a[1]!.value === '-a' || a[1]!.value === '-o')) return binary(a[0]!, a[1]!.value, a[2]!);
      if (is(a[0], '!')) return not(testValue(a.slice(1), scope));
      if (is(a[0], '(') && is(a[2], ')')) return nonEmpty(a[1]!);
      return undefined;
    case 4:
      if (is(a[0], '!')) return not(testValue(a.slice(1), scope));
      if (is(a[0], '(') && is(a[3], ')')) return testValue(a.slice(1, 3), scope);
  }
  let i = 0;
  const expr = (): B => {
    let v = andExpr();
    while (is(a[i], '-o')) {
      i++;
      v = or(v, andExpr());
    }
    return v;
  };
  const andExpr = (): B => {
    let v = notExpr();
    while (is(a[i], '-a')) {
      i++;
      v = and(v, notExpr());
    }
    return v;
  };
  const notExpr = (): B => {
    if (is(a[i], '!')) {
      i++;
      return not(notExpr());
    }
    return primary();
  };
  const primary = (): B => {
    const f = a[i];
    if (f === undefined) throw new Malformed();
    const next = a[i + 1]?.value;
    if (is(f, '(') && !(next !== undefined && BINARY.has(next))) {
      i++;
      const v = expr();
      if (!is(a[i], ')')) throw new Malformed();
      i++;
      return v;
    }
    if (next !== undefined && BINARY.has(next)) {
      const r = a[i + 2];
      if (r === undefined) throw new Malformed();
      i += 3;
      return binary(f, next, r);
    }
    if (f.value !== undefined && UNARY.has(f.value) && a[i + 1] !== undefined) {
      i += 2;
      return unary(f.value, a[i - 1]!, scope);
    }
    i++;
    return nonEmpty(f);
  };
  try {
    const v = expr();
    return i === a.length ? v : undefined;
  } catch (e) {
    if (e instanceof Malformed) return undefined; // test exits 2: we do not guess
    throw e;
  }
}

function unary(op: string, f: Field, scope: Scope): B {
  if (op === '-n') return nonEmpty(f);
  if (op === '-z') return not(nonEmpty(f));
  if (f.value === undefined || !'efdxLhsrw'.includes(op[1]!)) return undefined;
  return pathTest(op, f.value, scope.env);
}

/** `l op r` in test / [. */
function binary(l: Field, op: string, r: Field): B {
  if (op === '-a') return and(nonEmpty(l), nonEmpty(r));
  if (op === '-o') return or(nonEmpty(l), nonEmpty(r));
  // dash's test has no ==: `[ a == a ]` fails with "unexpected operator", bash's succeeds.
  if (l.value === undefined || r.value === undefined || op === '==') return undefined;
  if (op === '=') return l.value === r.value;
  if (op === '!=') return l.value !== r.value;
  const cmp = /^-(eq|ne|lt|le|gt|ge)$/.exec(op)?.[1];
  if (cmp === undefined || !/^-?\d+$/.test(l.value) || !/^-?\d+$/.test(r.value)) return undefined;
  const d = BigInt(l.value) - BigInt(r.value);
  return { eq: d === 0n, ne: d !== 0n, lt: d < 0n, le: d <= 0n, gt: d > 0n, ge: d >= 0n }[cmp as 'eq'];
}

/**
 * -e -f -d -L/-h from what is at the path. Scripts run as root, but a file's mode (for -x) and
 * size (-s) are not known, and a symlink's target is not followed: those stay undefined unless
 * the path is absent.
 */
/** Pathname expansion; a relative pattern in the directory a `cd` made current, its matches relative too. */
function relativeGlob(pattern: string, env: ScriptEnv): string[] | undefined {
  if (pattern.startsWith('/')) return env.glob?.(pattern);
  if (env.cwd === undefined || pattern.split('/').includes('..')) return undefined;
  const base = env.cwd === '/' ? '/' : `${env.cwd}/`;
  return env.glob?.(`${base}${pattern}`)?.map((m) => m.slice(base.length));
}

function pathTest(op: string, relPath: string, env: ScriptEnv): B {
  if (relPath === '') return false; // no file has an empty name (`[ -x "$(command -v x)" ]` when x is absent)
  const path = relPath.startsWith('/') || env.cwd === undefined ? relPath : `${env.cwd}/${relPath}`;
  if (!path.startsWith('/')) return undefined; // relative to an unknown working directory
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return undefined;
  const type = env.pathType(`/${segments.join('/')}`);
  // "dir/" resolves through a symlink and must be a directory.
  const slash = path.length > 1 && path.endsWith('/');
  if (type === undefined || (slash && type === 'symlink')) return undefined;
  const t = slash && type === 'file' ? 'absent' : type;
  switch (op) {
    case '-L':
    case '-h':
      return t === 'symlink';
    case '-e':
      return t === 'symlink' ? undefined : t !== 'absent';
    case '-f':
      return t === 'symlink' ? undefined : t === 'file';
    case '-d':
      return t === 'symlink' ? undefined : t === 'directory';
    default:
      // -x -s -r -w
      return t === 'absent' ? false : undefined;
  }
}

/** bash's [[ … ]]: no splitting or globbing of operands, && || ! ( ) as written. */
function doubleBracketValue(raws: string[], scope: Scope): B {
  if (raws[raws.length - 1] !== ']]') return undefined;
  const t = raws.slice(0, -1);
  let i = 0;
  const operand = (raw: string): Field => single(expandWord(raw, scope));
  const orExpr = (): B => {
    let v = andExpr();
    while (t[i] === '||') {
      i++;
      v = or(v, andExpr());
    }
    return v;
  };
  const andExpr = (): B => {
    let v = notExpr();
    while (t[i] === '&&') {
      i++;
      v = and(v, notExpr());
    }
    return v;
  };
  const notExpr = (): B => {
    if (t[i] === '!') {
      i++;
      return not(notExpr());
    }
    if (t[i] === '(') {
      i++;
      const v = orExpr();
      if (t[i] !== ')') throw new Malformed();
      i++;
      return v;
    }
    const w = t[i];
    if (w === undefined) throw new Malformed();
    const next = t[i + 1];
    if (next !== undefined && (BINARY.has(next) || next === '=~')) {
      const r = t[i + 2];
      if (r === undefined) throw new Malformed();
      i += 3;
      if (next === '=~' || next === '<' || next === '>') return undefined;
      if (next === '=' || next === '==' || next === '!=') {
        // The right side is a pattern unless quoted.
        const l = operand(w).value;
        const eq = l === undefined ? undefined : matches(l, r, scope);
        return next === '!=' ? not(eq) : eq;
      }
      return binary(operand(w), next, operand(r));
    }
    if (UNARY.has(w) && next !== undefined && next !== '&&' && next !== '||' && next !== ')') {
      i += 2;
      return unary(w, operand(next), scope);
    }
    i++;
    return nonEmpty(operand(w));
  };
  try {
    const v = orExpr();
    return i === t.length ? v : undefined;
  } catch (e) {
    if (e instanceof Malformed) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// dpkg --compare-versions

// ---------------------------------------------------------------------------------------------
// Variables

/**
 * `base` (e.g. DPKG_ROOT: '') plus the script's variables that surely hold one value wherever
 * they are read: assigned exactly once, at top level, unguarded, to a value we can expand, never
 * mentioned on an earlier line, and not bound any other way (for, read, export/local…, ${x:=…}).
 * A base variable the script assigns is dropped unless it passes the same test.
 */
export function knownVariables(text: string, script: ShellScript, base: { args: string[]; variables: Record<string, string> }): Record<string, string> {
  const bound = new Set<string>();
  for (const m of text.matchAll(/\b(?:for|select)\s+([A-Za-z_][A-Za-z0-9_]*)/g)) bound.add(m[1]!);
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?=/g)) bound.add(m[1]!);
  for (const c of script.commands) {
    if (!/^(read|getopts|local|export|readonly|declare|typeset|unset)$/.test(c.command)) continue;
    for (const a of c.args) {
      const n = /^[A-Za-z_][A-Za-z0-9_]*/.exec(a)?.[0];
      if (n) bound.add(n);
    }
  }
  const counts = new Map<string, number>();
  const called = calledFunctions(script);
  for (const a of script.assignments) if (a.function === undefined || called.has(a.function)) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base.variables)) if (!counts.has(k) && !bound.has(k)) out[k] = v;
  const lines = text.split('\n');
  for (const a of [...script.assignments].sort((x, y) => x.line - y.line)) {
    if (counts.get(a.name) !== 1 || bound.has(a.name) || a.function !== undefined || a.guards.length || a.shifted) continue;
    const mention = new RegExp(`\\$\\{?#?${a.name}(?![A-Za-z0-9_])`);
    if (lines.slice(0, a.line - 1).some((l) => mention.test(l))) continue;
    // Its own earlier value (x=${x:-default}) is the base one.
    const variables = Object.hasOwn(base.variables, a.name) ? { ...out, [a.name]: base.variables[a.name]! } : out;
    const v = single(expandWord(a.raw, { env: { args: base.args, variables, pathType: () => undefined }, positionals: true }));
    if (v.value !== undefined) out[a.name] = v.value;
  }
  return out;
}

/**
 * `known` plus the variables a command can only see with one value: assigned exactly once in the
 * script to a value that expands to a constant, never mentioned before that line, in the same
 * function, and in a block that encloses the command (its guards begin with the assignment's),
 * earlier in the text — dh_apparmor's `LOCAL_APP_PROFILE=…` inside `if [ "$1" = configure ]`.
 */
export function variablesAt(
  text: string,
  script: ShellScript,
  env: ScriptEnv,
  c: { line: number; function?: string; guards: Guard[] },
  /** Variables a command sets at a point (debconf's db_get sets RET), by line and function. */
  setAt: (line: number, fn: string | undefined) => Record<string, string> = () => ({}),
): Record<string, string> {
  const out = { ...env.variables };
  // Single and repeated assignments can build on each other (tzdata's TIMEZONE="$AREA/$ZONE",
  // AREA set twice): a few rounds until nothing new is known.
  for (let round = 0, grew = true; grew && round < 4; round++) {
    grew = false;
    for (const a of singleAssignments(text, script)) {
      if (Object.hasOwn(out, a.name) || a.function !== c.function || !comesBefore(a, c)) continue;
      // In an enclosing block, or in another whose own tests surely hold here (openjdk's
      // `if [ -e $mandir/man1/$i.1.gz ]; then slave1=…` for each tool it has a page for,
      // locales' `db_get … && DEFAULT_ENVIRONMENT="$RET"`).
      let shared = 0;
      while (shared < a.guards.length && a.guards[shared] === c.guards[shared]) shared++;
      const inner = a.guards.slice(shared);
      if (inner.length && guardsHold(inner, { ...env, variables: out }) !== 'always') continue;
      // In a function, a helper called in between may have set the name again.
      const between = (x: ShellCommand) => x.function === a.function && x.line >= a.line && x.line < c.line && script.functions.includes(x.command);
      if (a.function !== undefined && script.commands.some((x) => between(x) && callAssigns(script, x.command, a.name))) continue;
      const v = single(expandWord(a.raw, { env: { ...env, variables: { ...out, ...setAt(a.line, a.function) } }, positionals: positionalsKnown(a, env) }));
      if (v.value !== undefined) {
        out[a.name] = v.value;
        grew = true;
      }
    }
    for (const [name, list] of repeatedAssignments(text, script, c.function)) {
      if (Object.hasOwn(out, name)) continue;
      const v = lastReaching(script, { ...env, variables: out }, c, name, list, setAt);
      if (v !== undefined) {
        out[name] = v;
        grew = true;
      }
    }
  }
  for (const name of unsetBefore(script, c)) {
    if (Object.hasOwn(out, name)) continue;
    // Unset in a block that encloses the command, and not assigned again in between by anything
    // that runs: empty (openjdk's `unset slave1 slave2`, then `if false && …; then slave2=…`).
    const unset = script.commands.filter((x) => x.command === 'unset' && x.args.includes(name) && encloses(x, c)).at(-1)!;
    const again = script.assignments.filter((a) => a.name === name && a.line > unset.line && a.line < c.line);
    if (again.every((a) => guardsHold(a.guards, { ...env, variables: out }) === 'never')) out[name] = '';
  }
  return { ...out, ...setAt(c.line, c.function) };
}

/** Names an `unset` before the command, in a block enclosing it, clears. */
function unsetBefore(script: ShellScript, c: { line: number; function?: string; guards: Guard[] }): Set<string> {
  const names = new Set<string>();
  for (const x of script.commands) {
    if (x.command !== 'unset' || !encloses(x, c)) continue;
    for (const a of x.args) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(a)) names.add(a);
  }
  return names;
}

/** Whether `x` comes before `c` in the same function and in a block that encloses `c`. */
function encloses(x: { line: number; function?: string; guards: Guard[] }, c: { line: number; function?: string; guards: Guard[] }): boolean {
  return x.function === c.function && x.line < c.line && inBlockOf(x.guards, c.guards);
}

/** Whether `inner`'s guards begin with all of `outer`'s: what runs under `inner` sits in `outer`'s block. */
export function inBlockOf(outer: Guard[], inner: Guard[]): boolean {
  return outer.length <= inner.length && outer.every((g, i) => inner[i] === g);
}

/**
 * A top-level name assigned several times (libpam-runtime's `force=`, then `force=--force` when
 * installing fresh, then `force=` again for a file that is not there): the value of the last
 * assignment before the command that surely runs, once those that never run on a fresh install
 * are set aside, or the one value all of them give. None when one that may run comes after the
 * command in a loop they share (it could carry its value back), when the last one may not run
 * and the values differ, or when a helper called in between assigns the name.
 */
function lastReaching(
  script: ShellScript,
  env: ScriptEnv,
  c: { line: number; guards: Guard[] },
  name: string,
  list: Assignment[],
  setAt: (line: number, fn: string | undefined) => Record<string, string>,
): string | undefined {
  // Each assignment's guards see what a command set just before it (RET of man-db's db_get).
  const at = (a: Assignment): ScriptEnv => ({ ...env, variables: { ...env.variables, ...setAt(a.line, a.function) } });
  const runs = list.filter((a) => guardsHold(a.guards, at(a)) !== 'never');
  // One after the command reaches it only round a loop they share (samba's second `dir=` does not).
  const isLoop = (g: Guard) => g.kind === 'for' || (g.kind === 'if' && g.loop === true);
  if (runs.some((a) => a.line >= c.line && a.guards.some((g) => isLoop(g) && c.guards.includes(g)))) return undefined;
  const before = runs.filter((a) => a.line < c.line);
  const last = before.at(-1);
  if (last === undefined) return undefined;
  if (script.commands.some((x) => x.function === last.function && x.line > last.line && x.line < c.line && script.functions.includes(x.command) && callAssigns(script, x.command, name))) return undefined;
  // `X="$(echo $X | sed …)"` builds on the value X had there (locales' SELECTED_LOCALES).
  const valueOf = (a: Assignment): string | undefined => {
    const own = new RegExp(`\\$\\{?${name}(?![A-Za-z0-9_])`).test(a.raw);
    const prior = own ? lastReaching(script, env, a, name, list, setAt) : undefined;
    if (own && prior === undefined) return undefined;
    const env1 = own ? { ...at(a), variables: { ...at(a).variables, [name]: prior! } } : at(a);
    return single(expandWord(a.raw, { env: env1, positionals: positionalsKnown(a, env1) })).value;
  };
  const surely = (a: Assignment) => inBlockOf(a.guards, c.guards) || guardsHold(a.guards, at(a)) === 'always';
  if (surely(last)) return valueOf(last);
  // python's `bc=no`, then `bc=no` again under a test: whichever ran last, the value is the same.
  const values = new Set(before.map(valueOf));
  const [only] = values;
  return values.size === 1 && only !== undefined && before.some(surely) ? only : undefined;
}

const repeated = new WeakMap<ShellScript, Map<string | undefined, Map<string, Assignment[]>>>();

/**
 * Names assigned more than once, all in the same body (top level, or one function's, where a
 * `local NAME=VALUE` is one of them: apache2's `local do_copy=true`), and bound no other way
 * (read, for, export…).
 */
function repeatedAssignments(text: string, script: ShellScript, fn: string | undefined): Map<string, Assignment[]> {
  let byBody = repeated.get(script);
  if (!byBody) repeated.set(script, (byBody = new Map()));
  const known = byBody.get(fn);
  if (known) return known;
  const byName = new Map<string, Assignment[]>();
  for (const a of script.assignments) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const lines = text.split('\n');
  const binding = fn === undefined ? /\b(read|local|export|for)\b/ : /\b(read|export|for)\b/;
  const out = new Map<string, Assignment[]>();
  for (const [name, list] of byName) {
    if (list.length < 2 || list.some((a) => a.function !== fn || a.shifted)) continue;
    if (list.some((a) => binding.test(lines[a.line - 1]?.split(name)[0] ?? ''))) continue;
    if (new RegExp(`\\b(for|select|read)\\s+([A-Za-z_][A-Za-z0-9_]*\\s+)*${name}\\b|\\$\\{${name}:?=`).test(text)) continue;
    out.set(name, [...list].sort((x, y) => x.line - y.line));
  }
  byBody.set(fn, out);
  return out;
}

const singles = new WeakMap<ShellScript, Assignment[]>();

/**
 * The assignments variablesAt can use, the same for every command of a script (so found once).
 * At top level: the only assignment of its name in the script, with no mention of the name on an
 * earlier line. In a function body: the only assignment of its name in that body (helpers such
 * as dash's `dfile=$1` each set their own), which variablesAt then trusts only until a call of a
 * function that assigns the name too. Never after a shift, nor a read/local/export/for binding.
 */
function singleAssignments(text: string, script: ShellScript): Assignment[] {
  const known = singles.get(script);
  if (known) return known;
  const counts = new Map<string, number>();
  const key = (name: string, fn: string | undefined) => `${fn ?? ''}\0${name}`;
  // A function's `local NAME` keeps its assignments of NAME out of the script's own (samba-common's
  // configure_smb_conf has a local CONFIG beside the top-level one).
  const locals = new Set(script.commands.filter((c) => c.command === 'local' && c.function !== undefined).flatMap((c) => c.args.map((a) => key(/^[A-Za-z_][A-Za-z0-9_]*/.exec(a)?.[0] ?? '', c.function))));
  // Nor do the assignments of a function the script never calls (a sourced library's others).
  const called = calledFunctions(script);
  for (const a of script.assignments) {
    if (!locals.has(key(a.name, a.function)) && (a.function === undefined || called.has(a.function))) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
    counts.set(key(a.name, a.function), (counts.get(key(a.name, a.function)) ?? 0) + 1);
  }
  const lines = text.split('\n');
  const found = script.assignments.filter((a) => {
    if (a.shifted) return false;
    const before = lines[a.line - 1]?.split(a.name)[0] ?? '';
    // A function's `local NAME=VALUE` is its own single assignment; read, export and for bind otherwise.
    // `for NAME` binds NAME itself; a loop that merely starts on the same line does not (postgresql's
    // `SLAVES=$(for i in $MANS; do TARGET=$(…); …)`).
    if (/\b(read|export)\b/.test(before) || new RegExp(`\\bfor\\s+${a.name}\\b`).test(before) || (/\blocal\b/.test(before) && a.function === undefined)) return false;
    if (a.function !== undefined) return counts.get(key(a.name, a.function)) === 1;
    if (counts.get(a.name) !== 1) return false;
    const mention = new RegExp(`\\$\\{?#?${a.name}(?![A-Za-z0-9_])`);
    return !lines.slice(0, a.line - 1).some((l) => mention.test(l));
  });
  singles.set(script, found);
  return found;
}

/** Whether an assignment comes before a command in the text: an earlier line, or earlier on the same line. */
function comesBefore(a: Assignment, c: { line: number; seq?: number }): boolean {
  return a.line < c.line || (a.line === c.line && a.seq !== undefined && c.seq !== undefined && a.seq < c.seq);
}

/** The script's functions that some command of it calls. */
function calledFunctions(script: ShellScript): Set<string> {
  const names = new Set(script.functions);
  return new Set(script.commands.filter((c) => names.has(c.command)).map((c) => c.command));
}

/** Whether a function (or one it calls) assigns `name`: after a call of it, the name's value is not the one assigned before. */
function callAssigns(script: ShellScript, fn: string, name: string, seen = new Set<string>()): boolean {
  if (seen.has(fn)) return false;
  seen.add(fn);
  if (script.assignments.some((a) => a.function === fn && a.name === name)) return true;
  return script.commands.some((c) => c.function === fn && script.functions.includes(c.command) && callAssigns(script, c.command, name, seen));
}
