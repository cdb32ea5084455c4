/**
 * apache2's a2enmod, a2enconf and a2ensite as its postinst runs them on a fresh install: a
 * relative link in mods-, conf- or sites-enabled to the file in *-available (a module's .conf
 * beside its .load), the modules a module's `# Depends:` header names enabled first, and the
 * state marker /var/lib/apache2/<kind>/enabled_by_{maint,admin}/NAME that a2dismod and
 * apache2's removal read. Checked against the real a2enmod run with APACHE_CONFDIR and
 * APACHE_STATE_DIRECTORY pointed at a copy of the package's tree (test).
 */
import type { FilesystemEffect } from '../../src/translate/effects.js';
import type { PackageMetadata, ScriptContext } from '../types.js';
import { capturedText } from './capturedFile.js';
import type { CommandResult } from './serviceCommands.js';

const CONF_DIR = '/etc/apache2';
const STATE_DIR = '/var/lib/apache2';

/** What each tool enables: its directories' stem, the file suffix, and the marker directory's name. */
const KINDS = {
  a2enmod: { dir: 'mods', suffix: '.load', state: 'module' },
  a2enconf: { dir: 'conf', suffix: '.conf', state: 'conf' },
  a2ensite: { dir: 'sites', suffix: '.conf', state: 'site' },
} as const;

/** Whether unpack keeps a copy: the *-available files, for their Depends and Conflicts headers. */
export function isApacheAvailable(rel: string): boolean {
  return /^etc\/apache2\/(mods|conf|sites)-available\/[^/]+$/.test(rel);
}

export function apacheEnable(tool: string, args: string[], ctx: Pick<ScriptContext, 'pathType'>, packages: readonly PackageMetadata[]): CommandResult | undefined {
  if (!(tool in KINDS)) return undefined;
  const kind = KINDS[tool as keyof typeof KINDS];
  const names: string[] = [];
  let maint = false;
  for (const a of args) {
    if (a === '-m' || a === '--maintmode') maint = true;
    else if (a === '-q' || a === '--quiet') continue;
    else if (a.startsWith('-')) return { unrecognized: `${tool} ${args.join(' ')}: option ${a} is not modelled` };
    else names.push(a);
  }
  if (!names.length) return { unrecognized: `${tool} without a name asks which to enable` };
  const effects: FilesystemEffect[] = [];
  // Links made by this call count for the rest of it (a dependency enabled once).
  const made = new Set<string>();
  const exists = (abs: string) => made.has(abs) || ctx.pathType(abs) !== 'absent';
  const header = (abs: string, field: string): string[] => {
    const text = capturedText(packages, abs.slice(1)) ?? '';
    // a2enmod's get_deps: the field among the leading comment and blank lines.
    for (const line of text.split('\n')) {
      const m = new RegExp(`^# ${field}:\\s+(.*?)\\s*$`).exec(line);
      if (m) return m[1]!.split(/\s+/).filter(Boolean);
      if (!/^\s*(?:#.*)?$/.test(line)) break;
    }
    return [];
  };
  const avail = (dir: string, name: string, suffix: string) => `${CONF_DIR}/${dir}-available/${name}${suffix}`;
  const enabled = (dir: string, name: string, suffix: string) => `${CONF_DIR}/${dir}-enabled/${name}${suffix}`;
  const link = (dir: string, name: string, suffix: string) => {
    const at = enabled(dir, name, suffix);
    made.add(at);
    effects.push({ kind: 'symlink', path: at, target: `../${dir}-available/${name}${suffix}`, ifMissing: true });
  };

  const enable = (name: string, stack: string[]): string | undefined => {
    if (/[*?[\]/]/.test(name) || (kind.dir === 'mods' && name === 'cgi')) return `${tool} ${name}: a pattern, or a choice a2enmod makes from the running MPM`;
    const tgt = avail(kind.dir, name, kind.suffix);
    if (ctx.pathType(tgt) !== 'file') return `${tool} ${name}: no ${tgt} in the image (${tool} fails)`;
    if (kind.dir === 'mods') {
      for (const d of header(tgt, 'Depends')) {
        if (stack.includes(d)) return `${tool} ${name}: its dependencies form a cycle`;
        const failed = enable(d, [...stack, name]);
        if (failed) return failed;
      }
      const conflict = header(tgt, 'Conflicts').find((d) => exists(enabled(kind.dir, d, kind.suffix)));
      if (conflict) return `${tool} ${name}: module ${conflict} is enabled and conflicts with it (${tool} fails)`;
    } else {
      // a2enconf and a2ensite only check that the modules they name are enabled.
      const missing = header(tgt, 'Depends').find((d) => !exists(enabled('mods', d, '.load')));
      if (missing) return `${tool} ${name}: module ${missing} is not enabled (${tool} fails)`;
    }
    const conf = kind.dir === 'mods' && ctx.pathType(avail('mods', name, '.conf')) === 'file';
    if (exists(enabled(kind.dir, name, kind.suffix))) {
      // Already enabled; a module's missing .conf link is added all the same.
      if (conf && !exists(enabled('mods', name, '.conf'))) link('mods', name, '.conf');
      return undefined;
    }
    if (conf && !exists(enabled('mods', name, '.conf'))) link('mods', name, '.conf');
    link(kind.dir, name, kind.suffix);
    const markers = `${STATE_DIR}/${kind.state}/enabled_by_${maint ? 'maint' : 'admin'}`;
    // File::Path::mkpath: each missing level, 0777 under umask 022.
    for (const dir of [`${STATE_DIR}/${kind.state}`, markers]) {
      if (made.has(dir) || ctx.pathType(dir) === 'directory') continue;
      made.add(dir);
      effects.push({ kind: 'directory', path: dir, mode: 0o755, user: 'root', group: 'root' });
    }
    effects.push({ kind: 'file', path: `${markers}/${name}`, mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: false });
    return undefined;
  };

  for (const name of names) {
    const failed = enable(name.endsWith(kind.suffix) ? name.slice(0, -kind.suffix.length) : name, []);
    if (failed) return { unrecognized: failed };
  }
  return { effects };
}
