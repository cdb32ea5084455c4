/**
 * POSIX basic and extended regular expressions (as GNU grep and sed read them) as JavaScript
 * RegExp sources, for the subset maintainer scripts use: anchors, `.`, `*`, bracket expressions
 * with character classes, groups, alternation, intervals, and GNU's `\s` `\S` `\w` `\W`.
 * Undefined for anything else (back-references in a pattern, `\<`, collating elements), so a
 * caller never guesses.
 */
const CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
};

export function posixToJs(pattern: string, extended: boolean): string | undefined {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '[') {
      const end = bracketEnd(pattern, i);
      if (end < 0) return undefined;
      const body = bracket(pattern.slice(i + 1, end));
      if (body === undefined) return undefined;
      out += body;
      i = end;
    } else if (c === '\\') {
      const n = pattern[++i];
      if (n === undefined) return undefined;
      if ('sSwW'.includes(n)) out += `\\${n}`;
      else if (n === 'n') out += '\\n';
      else if (n === 't') out += '\\t';
      else if (!extended && '(){}|+?'.includes(n)) out += n;
      else if (/[0-9<>bBy`']/.test(n)) return undefined;
      else out += escape(n);
    } else if ('(){}|+?'.includes(c)) {
      out += extended ? c : `\\${c}`;
    } else if (c === '*' && (out === '' || out === '^')) {
      // A leading star is literal in basic syntax.
      out += '\\*';
    } else if (c === '^' && !extended && !atStart(out)) {
      // In basic syntax `^` anchors only at the start (of the pattern or a group), `$` only at the end.
      out += '\\^';
    } else if (c === '$' && !extended && !atEnd(pattern, i)) {
      out += '\\$';
    } else if ('^$.*'.includes(c)) {
      out += c;
    } else {
      out += escape(c);
    }
  }
  try {
    new RegExp(out);
  } catch {
    return undefined;
  }
  return out;
}

/** The index of the `]` closing the bracket expression opening at `start`. */
function bracketEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === '^') i++;
  if (p[i] === ']') i++;
  for (; i < p.length; i++) {
    if (p[i] === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close < 0) return -1;
      i = close + 1;
    } else if (p[i] === ']') return i;
  }
  return -1;
}

/** A bracket expression's body: backslash is literal inside it, classes become ranges. */
function bracket(body: string): string | undefined {
  let out = '[';
  let i = 0;
  if (body[0] === '^') {
    out += '^';
    i = 1;
  }
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (c === '[' && body[i + 1] === ':') {
      const close = body.indexOf(':]', i + 2);
      const cls = CLASSES[body.slice(i + 2, close)];
      if (cls === undefined) return undefined;
      out += cls;
      i = close + 1;
    } else if (c === '[' && (body[i + 1] === '.' || body[i + 1] === '=')) {
      return undefined;
    } else if (c === '\\' || c === ']' || c === '[') {
      out += `\\${c}`;
    } else {
      out += c;
    }
  }
  return `${out}]`;
}

function atStart(out: string): boolean {
  return out === '' || out.endsWith('(') || out.endsWith('|');
}

function atEnd(pattern: string, i: number): boolean {
  const rest = pattern.slice(i + 1);
  return rest === '' || rest.startsWith('\\)') || rest.startsWith('\\|');
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
