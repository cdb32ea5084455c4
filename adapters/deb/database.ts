import type { FinalContext, FinalEntry, PackageMetadata, SelectedAlternative } from '../types.js';
import { asDeb, controlFile, type DebMetadata } from './debMetadata.js';
import { infoName, statusParagraph } from './dpkgStatus.js';
import { mergedUsrLinks } from './mergedUsr.js';
import type { DebRepositoryOptions } from './repositoryOptions.js';

const DPKG = 'var/lib/dpkg';
const EXECUTABLE_CONTROL = new Set(['preinst', 'postinst', 'prerm', 'postrm', 'config']);

/**
 * The dpkg database as dpkg leaves it after installing every package: status, info/, triggers,
 * alternatives and the empty state files dpkg and apt expect; plus the merged-/usr links.
 */
export function debDatabase(packages: PackageMetadata[], ctx: FinalContext): FinalEntry[] {
  const debs = packages.map(asDeb).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : 1));
  const out: FinalEntry[] = [];
  const dir = (path: string) => out.push({ path, type: 'directory', mode: 0o755 });
  const file = (path: string, content: string | Buffer, mode = 0o644) =>
    out.push({ path, type: 'file', mode, content: typeof content === 'string' ? Buffer.from(content) : content });

  // Only /x and /usr/x are asked about: no set of every path the image ships (200,000 for one
  // large package), while the links still see every path.
  const shipped = new Set(debs.flatMap((d) => d.files.filter(atMostTwoDeep)));
  for (const link of mergedUsrLinks(ctx.arch, debs.flatMap((d) => d.files))) {
    out.push({ path: link.path, type: 'symlink', linkname: link.linkname });
    // Like debootstrap, make the link's target exist even when no package ships into it yet.
    if (!shipped.has(`/${link.path}`) && !shipped.has(`/${link.linkname}`)) dir(link.linkname);
  }

  for (const d of ['', '/info', '/updates', '/parts', '/alternatives', '/triggers']) dir(`${DPKG}${d}`);
  file(`${DPKG}/status`, debs.map(statusParagraph).join('\n'));
  // dpkg-statoverride's database: "user group mode path", mode in octal, sorted by path as dpkg writes it.
  const overrides = [...ctx.applied.statOverrides].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  file(`${DPKG}/statoverride`, overrides.map((o) => `${o.user} ${o.group} ${o.mode.toString(8)} ${o.path}\n`).join(''));
  // dpkg keeps its diversions newest first: three lines each (path, diverted to, package or ":").
  file(`${DPKG}/diversions`, [...ctx.applied.diversions].reverse().map((d) => `${d.path}\n${d.divertTo}\n${d.package}\n`).join(''));
  for (const empty of ['available', 'lock', 'lock-frontend', 'triggers/Lock', 'triggers/Unincorp']) {
    file(`${DPKG}/${empty}`, '');
  }
  file(`${DPKG}/cmethopt`, 'apt apt\n');
  file(`${DPKG}/info/format`, '1\n');
  for (const meta of debs) writeInfo(meta, file);
  writeTriggerInterests(debs, file);
  for (const alt of ctx.applied.alternatives) file(`${DPKG}/alternatives/${alt.name}`, alternativesDb(alt));
  file('etc/apt/sources.list.d/layerpkg.sources', aptSources(ctx));
  return out;
}

/** "/x" or "/usr/x", not "/usr/x/y". */
function atMostTwoDeep(path: string): boolean {
  const second = path.indexOf('/', 1);
  return second === -1 || path.indexOf('/', second + 1) === -1;
}

function writeInfo(meta: DebMetadata, file: (p: string, c: string | Buffer, m?: number) => void): void {
  const base = `${DPKG}/info/${infoName(meta)}`;
  file(`${base}.list`, meta.files.length ? `${meta.files.join('\n')}\n` : '');
  for (const name of Object.keys(meta.controlFiles).sort()) {
    file(`${base}.${name}`, Buffer.from(meta.controlFiles[name]!, 'base64'), EXECUTABLE_CONTROL.has(name) ? 0o755 : 0o644);
  }
}

/** triggers/File for file triggers, triggers/<name> for named ones, as dpkg records interests. */
function writeTriggerInterests(debs: DebMetadata[], file: (p: string, c: string) => void): void {
  const fileTriggers: string[] = [];
  const named = new Map<string, string[]>();
  for (const meta of debs) {
    const text = controlFile(meta, 'triggers');
    if (!text) continue;
    for (const line of text.split('\n')) {
      const [directive, trigger] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (!trigger || !directive?.startsWith('interest')) continue;
      const who = `${infoName(meta)}${directive === 'interest-noawait' ? '/noawait' : ''}`;
      if (trigger.startsWith('/')) fileTriggers.push(`${trigger} ${who}\n`);
      else named.set(trigger, [...(named.get(trigger) ?? []), `${who}\n`]);
    }
  }
  file(`${DPKG}/triggers/File`, fileTriggers.join(''));
  for (const [name, who] of [...named].sort()) file(`${DPKG}/triggers/${name}`, who.join(''));
}

/** The format update-alternatives reads: mode, link, slaves (name, link), then each choice. */
export function alternativesDb(alt: SelectedAlternative): string {
  const slaveNames = Object.keys(alt.slaveLinks).sort();
  const lines = ['auto', alt.link];
  for (const s of slaveNames) lines.push(s, alt.slaveLinks[s]!);
  lines.push('');
  for (const choice of [...alt.choices].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    lines.push(choice.path, String(choice.priority));
    for (const s of slaveNames) lines.push(choice.slaves[s] ?? '');
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

/**
 * The repositories the image was built from, so `apt-get update` inside it works. Signed-By names
 * the keyring debian-archive-keyring installs; a repository with its own keyring gets none (apt
 * then uses its trusted keys), since that keyring is not in the image.
 */
function aptSources(ctx: FinalContext): string {
  return ctx.repositories
    .map((r) => {
      const opts = r.options as unknown as DebRepositoryOptions;
      const signedBy = opts.keyring ? '' : 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
      return `Types: deb\nURIs: ${r.url}\nSuites: ${opts.suite}\nComponents: ${opts.components.join(' ')}\n${signedBy}`;
    })
    .join('\n');
}
