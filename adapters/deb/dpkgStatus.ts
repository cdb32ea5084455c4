import { formatParagraph } from './deb822.js';
import { controlField, type DebMetadata } from './debMetadata.js';

/** The field order dpkg itself writes (lib/dpkg/parse.c fieldinfos); other fields follow as found. */
const DPKG_FIELD_ORDER = [
  'Package', 'Essential', 'Protected', 'Status', 'Priority', 'Section', 'Installed-Size', 'Origin',
  'Maintainer', 'Bugs', 'Architecture', 'Multi-Arch', 'Source', 'Version', 'Config-Version', 'Replaces',
  'Provides', 'Depends', 'Pre-Depends', 'Recommends', 'Suggests', 'Breaks', 'Conflicts', 'Enhances',
  'Conffiles', 'Description', 'Triggers-Pending', 'Triggers-Awaited',
];
const ORDER_INDEX = new Map(DPKG_FIELD_ORDER.map((f, i) => [f.toLowerCase(), i]));

/** One status paragraph for a package dpkg considers fully installed and configured. */
export function statusParagraph(meta: DebMetadata): string {
  const fields: [string, string][] = meta.control.filter(([k]) => k.toLowerCase() !== 'status' && k.toLowerCase() !== 'conffiles');
  fields.push(['Status', 'install ok installed']);
  if (meta.conffiles.length) {
    fields.push(['Conffiles', meta.conffiles.map((c) => `\n ${c.path} ${c.md5}${c.obsolete ? ' obsolete' : ''}`).join('')]);
  }
  const known = fields.filter(([k]) => ORDER_INDEX.has(k.toLowerCase()));
  const other = fields.filter(([k]) => !ORDER_INDEX.has(k.toLowerCase()));
  known.sort((a, b) => ORDER_INDEX.get(a[0].toLowerCase())! - ORDER_INDEX.get(b[0].toLowerCase())!);
  return formatParagraph([...known, ...other]);
}

/** dpkg names info files "pkg:arch.*" for Multi-Arch: same packages, "pkg.*" otherwise. */
export function infoName(meta: DebMetadata): string {
  return controlField(meta, 'Multi-Arch') === 'same' ? `${meta.name}:${meta.arch}` : meta.name;
}
