/**
 * pacman (libalpm) versions and dependency strings.
 *
 * A version is `[epoch:]pkgver[-pkgrel]`, compared as libalpm's alpm_pkg_vercmp does (the
 * `vercmp` tool prints its result):
 *   - the epoch is the run of digits before a `:` at the very start (absent: "0"); the pkgrel is
 *     what follows the last `-` after that run of digits; both may be empty;
 *   - epochs, then pkgvers are compared with rpmvercmp; the pkgrels only when both sides have one,
 *     so `1.2` equals `1.2-5` (a constraint without pkgrel matches every pkgrel).
 *
 * rpmvercmp, as libalpm has it (no `~` or `^` rules, unlike today's rpm):
 *   - a string is segments of ASCII digits or ASCII letters; everything else separates them;
 *   - segments are compared pairwise, after checking that the separators before them have the
 *     same length (in bytes: a longer separator is greater, `1..0` > `1.1`);
 *   - a numeric segment beats an alpha one; numbers compare by value (leading zeros ignored, any
 *     length), letters byte-wise (`A` < `a`);
 *   - when one side runs out, the other is greater, unless what it has left starts with a letter
 *     (`1.0a` < `1.0`, but `1.0.a` > `1.0`: there the rest starts with a separator).
 *
 * Works on index ranges of the original strings, with no allocation: the resolver calls this in
 * its inner loop. Only separators can be non-ASCII; their length is counted in UTF-8 bytes.
 */
import { UserError } from '../../src/errors.js';
import type { Dependency } from '../types.js';

const CH_0 = 48;
const CH_9 = 57;
const CH_A = 65;
const CH_Z = 90;
const CH_a = 97;
const CH_z = 122;
const CH_COLON = 58;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isAlpha(c: number): boolean {
  return (c >= CH_a && c <= CH_z) || (c >= CH_A && c <= CH_Z);
}

/** Bytes of one UTF-16 code unit in UTF-8 (a surrogate pair's four bytes split as 2 + 2). */
function utf8Length(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
}

function sameRange(a: string, as: number, ae: number, b: string, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let i = 0; i < ae - as; i++) if (a.charCodeAt(as + i) !== b.charCodeAt(bs + i)) return false;
  return true;
}

/** rpmvercmp of `a[as, ae)` and `b[bs, be)`: -1, 0 or 1. */
function rpmvercmp(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  if (sameRange(a, as, ae, b, bs, be)) return 0;
  let one = as;
  let two = bs;
  while (one < ae && two < be) {
    let sep1 = 0;
    while (one < ae && !isDigit(a.charCodeAt(one)) && !isAlpha(a.charCodeAt(one))) sep1 += utf8Length(a.charCodeAt(one++));
    let sep2 = 0;
    while (two < be && !isDigit(b.charCodeAt(two)) && !isAlpha(b.charCodeAt(two))) sep2 += utf8Length(b.charCodeAt(two++));
    if (one >= ae || two >= be) break;
    if (sep1 !== sep2) return sep1 < sep2 ? -1 : 1;

    // The segment: a run of digits or a run of letters, of the kind `a` has here.
    let end1 = one;
    let end2 = two;
    const isNum = isDigit(a.charCodeAt(one));
    const inSegment = isNum ? isDigit : isAlpha;
    while (end1 < ae && inSegment(a.charCodeAt(end1))) end1++;
    while (end2 < be && inSegment(b.charCodeAt(end2))) end2++;
    // `b` has the other kind here: a number is newer than letters.
    if (end2 === two) return isNum ? 1 : -1;

    if (isNum) {
      while (one < end1 && a.charCodeAt(one) === CH_0) one++;
      while (two < end2 && b.charCodeAt(two) === CH_0) two++;
      // More digits, bigger number.
      if (end1 - one !== end2 - two) return end1 - one > end2 - two ? 1 : -1;
    }
    // Byte-wise, the shorter first when one is a prefix of the other (strcmp).
    const n = Math.min(end1 - one, end2 - two);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(one + i);
      const y = b.charCodeAt(two + i);
      if (x !== y) return x < y ? -1 : 1;
    }
    if (end1 - one !== end2 - two) return end1 - one < end2 - two ? -1 : 1;
    one = end1;
    two = end2;
  }
  if (one >= ae && two >= be) return 0;
  // One side has something left: it is newer unless that starts with a letter.
  if (one >= ae) return two < be && isAlpha(b.charCodeAt(two)) ? 1 : -1;
  return isAlpha(a.charCodeAt(one)) ? -1 : 1;
}

/** Where a version's epoch, pkgver and pkgrel lie (libalpm's parseEVR); -1: none. */
interface Evr {
  /** End of the epoch digits (the epoch is [0, epochEnd)); -1 when there is no `N:` prefix. */
  epochEnd: number;
  verStart: number;
  verEnd: number;
  /** Start of the pkgrel (it runs to the end), or -1. */
  relStart: number;
}

function parseEvr(v: string): Evr {
  let s = 0;
  while (s < v.length && isDigit(v.charCodeAt(s))) s++;
  // libalpm looks for the last `-` from the end of the leading digits, before it looks at `:`.
  let dash = v.lastIndexOf('-');
  if (dash < s) dash = -1;
  const hasEpoch = v.charCodeAt(s) === CH_COLON;
  const verStart = hasEpoch ? s + 1 : 0;
  return { epochEnd: hasEpoch ? s : -1, verStart, verEnd: dash < 0 ? v.length : dash, relStart: dash < 0 ? -1 : dash + 1 };
}

/**
 * Compare two pacman versions as libalpm's alpm_pkg_vercmp (and `vercmp`) does: negative,
 * zero or positive (-1, 0, 1). Total on any string; nothing is rejected.
 */
export function comparePacmanVersions(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseEvr(a);
  const y = parseEvr(b);
  // A missing or empty epoch is "0".
  const ea = x.epochEnd > 0 ? a : '0';
  const eb = y.epochEnd > 0 ? b : '0';
  let r = rpmvercmp(ea, 0, x.epochEnd > 0 ? x.epochEnd : 1, eb, 0, y.epochEnd > 0 ? y.epochEnd : 1);
  if (r !== 0) return r;
  r = rpmvercmp(a, x.verStart, x.verEnd, b, y.verStart, y.verEnd);
  if (r !== 0 || x.relStart < 0 || y.relStart < 0) return r;
  return rpmvercmp(a, x.relStart, a.length, b, y.relStart, b.length);
}

/** The constraint operators of pacman dependencies. */
export type PacmanDepOp = '=' | '<' | '<=' | '>' | '>=';

const OPS: ReadonlySet<string> = new Set<PacmanDepOp>(['=', '<', '<=', '>', '>=']);

export function isPacmanDepOp(op: string): op is PacmanDepOp {
  return OPS.has(op);
}

/**
 * Whether `candidate` satisfies `op version` (libalpm's dep_vercmp). Since the comparison
 * ignores the pkgrel unless both sides have one, `=1.2` matches `1.2-3`, and `<1.2` does not.
 */
export function pacmanVersionSatisfies(candidate: string, op: PacmanDepOp, version: string): boolean {
  const c = comparePacmanVersions(candidate, version);
  switch (op) {
    case '=':
      return c === 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    default:
      throw new Error(`unknown pacman dependency operator ${JSON.stringify(op)}`);
  }
}

/** A dependency, conflict, provision or replacement string, parsed. */
export interface PacmanDependency extends Dependency {
  op?: PacmanDepOp;
  /** The text after the first ": " (optdepends: "python: for scripts"), without it. */
  description?: string;
}

const WHITESPACE = /\s/;

/**
 * Parse `name[op version][: description]` as libalpm's alpm_dep_from_string splits it: the
 * description starts at the first ": " (the space keeps an epoch's colon out of it); the operator
 * is at the first `<` (`<=` if `=` follows), else the first `>` (`>=`), else the first `=`.
 * Beyond libalpm, which accepts anything, this refuses an empty name, an operator without a
 * version, a second operator, and whitespace in the name or version: `source` names where the
 * string came from in the UserError.
 */
export function parsePacmanDependency(text: string, source: string): PacmanDependency {
  const bad = (why: string): UserError =>
    new UserError(`malformed pacman dependency ${JSON.stringify(text)} in ${source}: ${why}; the repository metadata is broken, report it to its maintainer`);
  const colon = text.indexOf(': ');
  const spec = colon < 0 ? text : text.slice(0, colon);
  const description = colon < 0 ? undefined : text.slice(colon + 2);

  let opAt = spec.indexOf('<');
  if (opAt < 0) opAt = spec.indexOf('>');
  if (opAt < 0) opAt = spec.indexOf('=');
  let dep: PacmanDependency;
  if (opAt < 0) {
    dep = { name: spec };
  } else {
    const op = (spec[opAt] !== '=' && spec[opAt + 1] === '=' ? spec.slice(opAt, opAt + 2) : spec[opAt]) as PacmanDepOp;
    const version = spec.slice(opAt + op.length);
    if (version === '') throw bad(`"${op}" is not followed by a version`);
    if (/[<>=]/.test(version)) throw bad('it has more than one comparison operator');
    if (WHITESPACE.test(version)) throw bad('the version contains whitespace');
    dep = { name: spec.slice(0, opAt), op, version };
  }
  if (dep.name === '') throw bad('the package name is empty');
  if (/[<>=]/.test(dep.name)) throw bad('it has more than one comparison operator');
  if (WHITESPACE.test(dep.name)) throw bad('the package name contains whitespace');
  if (description !== undefined) dep.description = description;
  return dep;
}

/** The string form of a dependency (libalpm's alpm_dep_compute_string): `name[op version][: description]`. */
export function formatPacmanDependency(dep: PacmanDependency): string {
  let s = dep.name;
  if (dep.op !== undefined && dep.version !== undefined) s += dep.op + dep.version;
  if (dep.description !== undefined) s += `: ${dep.description}`;
  return s;
}
