/**
 * Alpine (apk) version ordering, following the behaviour of apk-tools (src/version.c,
 * apk-version(8)): `digit{.digit}...{letter}{_suffix{digits}}...{~hash}{-r#}`.
 *
 * A version is a sequence of tokens compared pairwise while both sides have a token of the
 * same kind; the first difference decides. Digit components compare numerically, except that
 * a component with a leading zero on either side compares as a string (Gentoo rule). Suffixes
 * rank `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`. When one side
 * runs out of matching tokens, the side that continues is greater, unless what follows is a
 * pre-release suffix. Invalid versions are not rejected here: they compare token by token up
 * to the first invalid token, as apk-tools does, so the order stays total on any input.
 *
 * Works on index ranges of the original strings: the resolver calls this in its inner loop.
 */

// Token kinds, in apk-tools' order: the order matters when one side runs out first.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

/** Rank of "no suffix": suffixes ranked below it are pre-releases. */
const SUFFIX_NONE = 4;
const SUFFIX_RANK: Readonly<Record<string, number>> = {
  alpha: 0,
  beta: 1,
  pre: 2,
  rc: 3,
  cvs: 5,
  svn: 6,
  git: 7,
  hg: 8,
  p: 9,
};

const CH_0 = 48;
const CH_9 = 57;
const CH_a = 97;
const CH_f = 102;
const CH_z = 122;
const CH_DOT = 46;
const CH_UNDERSCORE = 95;
const CH_TILDE = 126;
const CH_HYPHEN = 45;
const CH_r = 114;

const TWO_64 = 1n << 64n;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isLower(c: number): boolean {
  return c >= CH_a && c <= CH_z;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= CH_a && c <= CH_f);
}

/** Tokenizer state over one version string; `start`/`end` delimit the current token's value. */
class Tokens {
  token = INITIAL_DIGIT;
  suffix = 0;
  /** Numeric value of digit tokens; apk-tools keeps it in a uint64_t, so it wraps modulo 2^64. */
  num: number | bigint = 0;
  start = 0;
  end = 0;
  pos = 0;

  constructor(readonly s: string) {
    this.digits();
  }

  private digits(): void {
    const s = this.s;
    let i = this.pos;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    this.start = this.pos;
    this.end = i;
    this.pos = i;
    const len = i - this.start;
    if (len === 0) {
      this.token = INVALID;
    } else if (len <= 15) {
      this.num = Number(s.slice(this.start, i));
    } else {
      this.num = BigInt(s.slice(this.start, i)) % TWO_64;
    }
  }

  /** Advance to the next token, checking that it may follow the current one. */
  next(): void {
    const s = this.s;
    if (this.pos >= s.length) {
      this.token = END;
      return;
    }
    const c = s.charCodeAt(this.pos);
    const t = this.token;
    if (isLower(c)) {
      if (t > DIGIT) return this.invalid();
      this.token = LETTER;
      this.start = this.pos;
      this.end = ++this.pos;
    } else if (c === CH_DOT || isDigit(c)) {
      // '.' introduces a digit component; bare digits can only number a suffix.
      if (c === CH_DOT) {
        if (t > DIGIT) return this.invalid();
        this.pos++;
      }
      if (t === INITIAL_DIGIT || t === DIGIT) this.token = DIGIT;
      else if (t === SUFFIX) this.token = SUFFIX_NO;
      else return this.invalid();
      this.digits();
    } else if (c === CH_UNDERSCORE) {
      if (t > SUFFIX_NO) return this.invalid();
      let i = ++this.pos;
      while (i < s.length && isLower(s.charCodeAt(i))) i++;
      const rank = SUFFIX_RANK[s.slice(this.pos, i)];
      this.start = this.pos;
      this.end = i;
      this.pos = i;
      if (rank === undefined) return this.invalid();
      this.suffix = rank;
      this.token = SUFFIX;
    } else if (c === CH_TILDE) {
      if (t >= COMMIT_HASH) return this.invalid();
      let i = ++this.pos;
      while (i < s.length && isHex(s.charCodeAt(i))) i++;
      this.start = this.pos;
      this.end = i;
      this.pos = i;
      if (i === this.start) return this.invalid();
      this.token = COMMIT_HASH;
    } else if (c === CH_HYPHEN) {
      if (t >= REVISION_NO || s.charCodeAt(this.pos + 1) !== CH_r) return this.invalid();
      this.pos += 2;
      this.token = REVISION_NO;
      this.digits();
    } else {
      this.invalid();
    }
  }

  private invalid(): void {
    this.token = INVALID;
  }
}

/** Byte-wise comparison of two token values (memcmp, then the shorter first). */
function compareText(a: Tokens, b: Tokens): number {
  const x = a.s.slice(a.start, a.end);
  const y = b.s.slice(b.start, b.end);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compare two tokens of the same kind. */
function compareToken(a: Tokens, b: Tokens): number {
  switch (a.token) {
    case DIGIT:
      if (a.s.charCodeAt(a.start) === CH_0 || b.s.charCodeAt(b.start) === CH_0) return compareText(a, b);
      return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
    case LETTER: {
      const x = a.s.charCodeAt(a.start);
      const y = b.s.charCodeAt(b.start);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case SUFFIX:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default: // COMMIT_HASH
      return compareText(a, b);
  }
}

/**
 * Compare `a` with `b`; with `fuzzy`, `a` also counts as equal when `b` is a component-wise
 * prefix of it (the `~` operator: `1.2.3` and `1.2_rc1` match `~1.2`, `1.23` does not).
 * Returns -1, 0 or 1.
 */
export function compareApkVersionsFuzzy(a: string, b: string, fuzzy: boolean): number {
  const ta = new Tokens(a);
  const tb = new Tokens(b);
  while (ta.token === tb.token && ta.token < END) {
    const r = compareToken(ta, tb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (ta.token === tb.token) return 0;
  if (fuzzy && tb.token === END) return 0;
  // Equal so far: the longer version is greater, unless it goes on with a pre-release suffix.
  if (ta.token === SUFFIX && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === SUFFIX && tb.suffix < SUFFIX_NONE) return 1;
  return ta.token > tb.token ? -1 : 1;
}

/** apk-tools' version order. Returns -1, 0 or 1. */
export function compareApkVersions(a: string, b: string): number {
  if (a === b) return 0;
  return compareApkVersionsFuzzy(a, b, false);
}

/** Whether `v` is a well-formed apk version (apk-tools' apk_version_validate). */
export function isValidApkVersion(v: string): boolean {
  const t = new Tokens(v);
  while (t.token < END) t.next();
  return t.token === END;
}
