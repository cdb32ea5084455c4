import type { AlternativeEffect } from '../../src/translate/effects.js';

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

/**
 * What `update-alternatives --query NAME` prints for the choices installed so far (auto mode:
 * the best is the highest priority, the first installed among equals), or '' when there are
 * none (it fails with an error on stderr). Slaves are left out: the callers grep for Value.
 */
export function alternativesQuery(words: string[], choicesOf: (name: string) => AlternativeEffect[]): string | undefined {
  if (words[0] !== 'update-alternatives' || words.length !== 3 || words[1] !== '--query') return undefined;
  const name = words[2]!;
  // A later install of the same path replaces its priority.
  const byPath = new Map<string, AlternativeEffect>();
  for (const c of choicesOf(name)) byPath.set(c.path, c);
  const choices = [...byPath.values()];
  if (!choices.length) return '';
  if (choices.some((c) => c.slaves.length)) return undefined;
  const best = choices.reduce((a, b) => (b.priority > a.priority ? b : a));
  const head = `Name: ${name}\nLink: ${best.link}\nStatus: auto\nBest: ${best.path}\nValue: ${best.path}\n`;
  return `${head}${choices.map((c) => `\nAlternative: ${c.path}\nPriority: ${c.priority}\n`).join('')}`;
}
