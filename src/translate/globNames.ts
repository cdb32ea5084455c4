/**
 * sh pathname expansion of a word whose last component has `*`, `?` or `[…]`: the names of a
 * directory that match, sorted as the C locale sorts them; a leading dot must be matched
 * explicitly. Undefined when the pattern is not one this models (a glob in a directory part).
 */
export function globParts(pattern: string): { dir: string; re: RegExp } | undefined {
  const slash = pattern.lastIndexOf('/');
  if (slash < 0) return undefined;
  const dir = pattern.slice(0, slash) || '/';
  const last = pattern.slice(slash + 1);
  if (/[*?[]/.test(dir) || !/[*?[]/.test(last)) return undefined;
  let re = '^';
  for (let i = 0; i < last.length; i++) {
    const c = last[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = last.indexOf(']', i + 2);
      if (end < 0) return undefined;
      const body = last.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return { dir, re: new RegExp(`${re}$`) };
  } catch {
    return undefined;
  }
}

/** The matching names among `names`, sorted; a name starting with `.` only for a pattern that does. */
export function matchNames(re: RegExp, pattern: string, names: Iterable<string>): string[] {
  const dotOk = pattern.slice(pattern.lastIndexOf('/') + 1).startsWith('.');
  return [...names].filter((n) => re.test(n) && (dotOk || !n.startsWith('.'))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The paths a pattern matches among the names of its directory, sorted, as sh lists them. */
export function globPaths(parts: { dir: string; re: RegExp }, pattern: string, names: Iterable<string>): string[] {
  const base = parts.dir === '/' ? '' : parts.dir;
  return matchNames(parts.re, pattern, names).map((n) => `${base}/${n}`);
}
