/**
 * What `db_get QUESTION` answers on a fresh, non-interactive install: the template's Default
 * (debconf's noninteractive frontend asks nothing). The templates come from the control
 * members of the packages in the image (a question may belong to another package).
 */
import type { PackageMetadata } from '../types.js';
import { parseDeb822 } from './deb822.js';
import { asDeb } from './debMetadata.js';

const cache = new WeakMap<PackageMetadata[], Map<string, string>>();

/**
 * Answers a package's config script (which layerpkg does not run) gives questions that have no
 * template Default, on a fresh non-interactive install. tzdata.config (2026b-0+deb12u1): with
 * neither /etc/timezone nor /etc/localtime, AREA=Etc and ZONE=UTC, then `db_set` of both.
 */
const CONFIG_SCRIPT_ANSWERS: Record<string, string> = {
  'tzdata/Areas': 'Etc',
  'tzdata/Zones/Etc': 'UTC',
};

/** The defaults of every question the image's packages template, read once per package set. */
export function debconfAnswers(packages: PackageMetadata[]): Map<string, string> {
  let answers = cache.get(packages);
  if (!answers) cache.set(packages, (answers = debconfDefaults(packages)));
  return answers;
}

function debconfDefaults(packages: PackageMetadata[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of packages) {
    const b64 = asDeb(p).controlFiles?.templates;
    if (b64 === undefined) continue;
    let paragraphs;
    try {
      paragraphs = parseDeb822(Buffer.from(b64, 'base64').toString('utf8'), `${p.name}: templates`);
    } catch {
      continue; // a templates file we cannot read only leaves its answers unknown
    }
    for (const para of paragraphs) {
      const name = para.get('Template');
      // A question without a Default answers the empty string, unless the package's config
      // script sets it on a fresh install (below).
      if (name && !out.has(name)) out.set(name, para.get('Default') ?? CONFIG_SCRIPT_ANSWERS[name] ?? '');
    }
  }
  return out;
}
