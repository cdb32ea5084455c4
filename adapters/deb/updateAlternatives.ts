/** One `update-alternatives --install` call, as a maintainer script states it. */
export interface AlternativeInstall {
  link: string;
  name: string;
  path: string;
  priority: number;
  slaves: { link: string; name: string; path: string }[];
}

/**
 * Find `update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...` calls,
 * the form debhelper's dh_installalternatives and hand-written scripts use, across continuations.
 */
export function parseAlternativeInstalls(script: string): AlternativeInstall[] {
  const joined = script.replace(/\\\n/g, ' ');
  const out: AlternativeInstall[] = [];
  for (const m of joined.matchAll(/update-alternatives\s+((?:--\S+\s+)*)--install\s+([^;&|\n]+)/g)) {
    const words = m[2]!.trim().split(/\s+/).map(unquote);
    const [link, name, path, prio] = words;
    if (!link || !name || !path || prio === undefined || !/^-?\d+$/.test(prio) || /\$/.test(link + name + path)) continue;
    const slaves: AlternativeInstall['slaves'] = [];
    for (let i = 4; i + 3 < words.length && words[i] === '--slave'; i += 4) {
      const [sl, sn, sp] = [words[i + 1], words[i + 2], words[i + 3]];
      if (sl && sn && sp) slaves.push({ link: sl, name: sn, path: sp });
    }
    out.push({ link, name, path, priority: Number(prio), slaves });
  }
  return out;
}

function unquote(w: string): string {
  return w.replace(/^["']|["']$/g, '');
}
