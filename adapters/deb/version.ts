/**
 * Debian version ordering, bit-for-bit the algorithm of dpkg's lib/dpkg/version.c.
 * The resolver calls this in its inner loop, so it works on index ranges of the
 * original strings instead of allocating epoch/upstream/revision substrings.
 */

const CH_0 = 48;
const CH_9 = 57;
const CH_TILDE = 126;
const CH_COLON = 58;
const CH_HYPHEN = 45;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** dpkg's order(): `~` first, then end of string and digits, then letters, then everything else. */
function order(c: number): number {
  if (c === 0 || isDigit(c)) return 0; // 0 stands for the end of the segment, as NUL does in C
  if (isAlpha(c)) return c;
  if (c === CH_TILDE) return -1;
  return c + 256;
}

/**
 * dpkg's verrevcmp() over a[ai, ae) and b[bi, be). Digit runs are compared by length
 * after stripping leading zeros, then lexically, so arbitrarily long numbers never overflow.
 */
function compareSegment(a: string, ai: number, ae: number, b: string, bi: number, be: number): number {
  while (ai < ae || bi < be) {
    // Non-digit prefix, character by character.
    for (;;) {
      const ca = ai < ae ? a.charCodeAt(ai) : 0;
      const cb = bi < be ? b.charCodeAt(bi) : 0;
      const aNonDigit = ai < ae && !isDigit(ca);
      const bNonDigit = bi < be && !isDigit(cb);
      if (!aNonDigit && !bNonDigit) break;
      const oa = order(ca);
      const ob = order(cb);
      if (oa !== ob) return oa < ob ? -1 : 1;
      ai++;
      bi++;
    }
    // Digit run, numerically.
    while (ai < ae && a.charCodeAt(ai) === CH_0) ai++;
    while (bi < be && b.charCodeAt(bi) === CH_0) bi++;
    let firstDiff = 0;
    for (;;) {
      const da = ai < ae && isDigit(a.charCodeAt(ai));
      const db = bi < be && isDigit(b.charCodeAt(bi));
      if (da && db) {
        if (firstDiff === 0) firstDiff = a.charCodeAt(ai) - b.charCodeAt(bi);
        ai++;
        bi++;
        continue;
      }
      if (da) return 1; // a's number has more significant digits
      if (db) return -1;
      break;
    }
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

/** Whole-string comparison: epoch, then upstream version, then revision. Returns -1, 0 or 1. */
export function compareDebianVersions(a: string, b: string): number {
  if (a === b) return 0;
  // Epoch ends at the first ':'; revision starts after the last '-' of what follows.
  const ac = a.indexOf(':');
  const bc = b.indexOf(':');
  const aUp = ac + 1;
  const bUp = bc + 1;
  let ah = a.lastIndexOf('-');
  let bh = b.lastIndexOf('-');
  if (ah < aUp) ah = -1;
  if (bh < bUp) bh = -1;
  const aUpEnd = ah < 0 ? a.length : ah;
  const bUpEnd = bh < 0 ? b.length : bh;
  // A missing epoch is 0 and a numeric segment compares like a number, so the
  // segment comparison doubles as an overflow-free epoch comparison.
  return (
    compareSegment(a, 0, ac < 0 ? 0 : ac, b, 0, bc < 0 ? 0 : bc) ||
    compareSegment(a, aUp, aUpEnd, b, bUp, bUpEnd) ||
    compareSegment(a, ah < 0 ? a.length : ah + 1, a.length, b, bh < 0 ? b.length : bh + 1, b.length)
  );
}

const INT_MAX = '2147483647';

/**
 * Whether dpkg would accept `v` without error or warning: `[epoch:]upstream[-revision]`,
 * numeric epoch within INT_MAX, upstream starting with a digit and drawn from
 * `[A-Za-z0-9.+~:-]`, revision non-empty and drawn from `[A-Za-z0-9.+~]`.
 * Unlike dpkg, surrounding whitespace is rejected rather than trimmed.
 */
export function isValidDebianVersion(v: string): boolean {
  const colon = v.indexOf(':');
  if (colon >= 0) {
    if (colon === 0) return false;
    for (let i = 0; i < colon; i++) if (!isDigit(v.charCodeAt(i))) return false;
    let s = 0;
    while (s < colon - 1 && v.charCodeAt(s) === CH_0) s++;
    const epoch = v.slice(s, colon);
    if (epoch.length > INT_MAX.length || (epoch.length === INT_MAX.length && epoch > INT_MAX)) return false;
  }
  const start = colon + 1;
  let hyphen = v.lastIndexOf('-');
  if (hyphen < start) hyphen = -1;
  const upEnd = hyphen < 0 ? v.length : hyphen;
  if (upEnd === start || !isDigit(v.charCodeAt(start))) return false;
  for (let i = start + 1; i < upEnd; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c) && !isAlpha(c) && c !== 46 && c !== 43 && c !== CH_TILDE && c !== CH_COLON && c !== CH_HYPHEN) {
      return false;
    }
  }
  if (hyphen >= 0) {
    if (hyphen === v.length - 1) return false;
    for (let i = hyphen + 1; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (!isDigit(c) && !isAlpha(c) && c !== 46 && c !== 43 && c !== CH_TILDE) return false;
    }
  }
  return true;
}
