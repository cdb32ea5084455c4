/**
 * `pam-auth-update --package` (libpam-runtime's postinst, and every package that ships a PAM
 * profile): /etc/pam.d/common-{auth,account,password,session,session-noninteractive} built from
 * the templates in /usr/share/pam and the profiles in /usr/share/pam-configs, plus the state it
 * keeps in /var/lib/pam. Without them `login`, `su` and sshd find no PAM stack to include.
 *
 * On a fresh install every profile marked `Default: yes` ends up enabled whichever package's
 * postinst runs last, so the files are built once from the profiles of the whole image, in
 * pam-auth-update's order: priority, highest first, then name, descending.
 */
import type { FileEffect } from '../../src/translate/effects.js';
import type { PackageMetadata } from '../types.js';
import { asDeb } from './debMetadata.js';

const PROFILES = 'usr/share/pam-configs/';
const TEMPLATES = 'usr/share/pam/';
const TYPES = ['auth', 'account', 'password', 'session', 'session-noninteractive'] as const;
/** Profiles naming these modules are dropped, as pam-auth-update drops them. */
const INVALID_MODULES = ['pam_tally'];

const PRIMARY_MARK = /^# here are the per-package modules \(the "Primary" block\)/;
const FALLBACK_MARK = /^# here's the fallback if no module succeeds/;
const ADDITIONAL_MARK = /^# and here are more per-package modules \(the "Additional" block\)/;
const END_MARK = /^# end of pam-auth-update config/;

type Profile = Map<string, string>;

/** Whether unpack keeps a file's text for this translation. */
export function isPamInput(path: string): boolean {
  return (path.startsWith(PROFILES) && path.length > PROFILES.length) || (path.startsWith(`${TEMPLATES}common-`) && !path.endsWith('.md5sums'));
}

export function pamAuthUpdate(args: string[], packages: readonly PackageMetadata[]): { effects: FileEffect[] } | { unrecognized: string } {
  const options = args.filter((a) => a !== '--force' && a !== '--package');
  // `--root ''` (libpam-runtime passes "$DPKG_ROOT", empty on a normal install).
  if (!(options.length === 0 || (options.length === 2 && options[0] === '--root' && options[1] === ''))) {
    return { unrecognized: `pam-auth-update ${args.join(' ')}: only --package, --force and an empty --root are translated` };
  }
  const profiles = new Map<string, Profile>();
  const templates = new Map<string, string>();
  for (const p of packages) {
    for (const [path, base64] of Object.entries(asDeb(p).captured)) {
      const text = Buffer.from(base64, 'base64').toString('utf8');
      if (path.startsWith(PROFILES)) profiles.set(path.slice(PROFILES.length), parseProfile(text));
      else if (path.startsWith(TEMPLATES)) templates.set(path.slice(TEMPLATES.length), text);
    }
  }
  for (const [name, profile] of profiles) if (profile.has('disabled') || name.endsWith('~') || /^#.+#$/.test(name)) profiles.delete(name);
  const byPriority = (a: string, b: string) => Number(profiles.get(b)!.get('Priority') ?? 0) - Number(profiles.get(a)!.get('Priority') ?? 0) || (b < a ? -1 : b > a ? 1 : 0);
  const sorted = [...profiles.keys()].sort(byPriority);
  const enabled = sorted.filter((n) => profiles.get(n)!.get('Default') === 'yes');

  const effects: FileEffect[] = [];
  const file = (path: string, text: string): FileEffect => ({ kind: 'file', path, mode: 0o644, user: 'root', group: 'root', content: Buffer.from(text).toString('base64'), ifMissing: false });
  for (const type of TYPES) {
    const template = templates.get(`common-${type}`);
    if (template === undefined) return { unrecognized: `pam-auth-update: no package in the image ships /${TEMPLATES}common-${type}` };
    const built = fromTemplate(template, type, enabled, profiles);
    if (built === undefined) return { unrecognized: `pam-auth-update: /${TEMPLATES}common-${type} lacks pam-auth-update's block markers` };
    effects.push(file(`/etc/pam.d/common-${type}`, built), file(`/var/lib/pam/${type}`, savedState(type, enabled, profiles)));
  }
  effects.push(file('/var/lib/pam/seen', sorted.map((n) => `${n}\n`).join('')));
  return { effects };
}

/** A profile's fields; continuation lines join their field with newlines, trimmed. */
function parseProfile(text: string): Profile {
  const profile: Profile = new Map();
  let field = '';
  for (const line of text.split(/(?<=\n)/)) {
    const head = /^(\S+):\s+(.*)$/s.exec(line);
    if (head) {
      field = head[1]!.replace(/-Final$/, '');
      profile.set(field, head[2]!.replace(/\n$/, ''));
      continue;
    }
    const body = line.trim();
    let value = profile.get(field) ?? '';
    if (body) value += `\n${body}`;
    if (INVALID_MODULES.some((m) => value.includes(m))) profile.set('disabled', '1');
    profile.set(field, value.replace(/^[\n\s]+/, ''));
  }
  if (!profile.has('Session-Interactive-Only')) {
    for (const suffix of ['-Type', '', '-Initial']) {
      const v = profile.get(`Session${suffix}`);
      if (v !== undefined) profile.set(`Session-noninteractive${suffix}`, v);
    }
  }
  return profile;
}

/** The first module of a block uses its `-Initial` lines when it has them. */
function linesOf(profile: Profile, field: string, position: number): string {
  return (position === 0 ? profile.get(`${field}-Initial`) : undefined) || (profile.get(field) ?? '');
}

function modulesOfBlock(enabled: readonly string[], profiles: ReadonlyMap<string, Profile>, field: string, block: 'Primary' | 'Additional'): string[] {
  return enabled.filter((n) => profiles.get(n)!.get(`${field}-Type`) === block);
}

/**
 * The template with the enabled modules written into its Primary and Additional blocks. `end` in
 * a module's control becomes the number of lines to skip to leave the block, as pam-auth-update
 * counts it (the Additional block's last line jumps nowhere).
 */
function fromTemplate(template: string, type: string, enabled: readonly string[], profiles: ReadonlyMap<string, Profile>): string | undefined {
  const field = type[0]!.toUpperCase() + type.slice(1);
  const facility = type.replace(/-noninteractive$/, '');
  let state = 0;
  let out = '';
  for (const line of template.split(/(?<=\n)/)) {
    if (state === 1 || state === 3) {
      if ((state === 1 ? FALLBACK_MARK : END_MARK).test(line)) {
        out += line;
        state++;
      }
      continue;
    }
    out += line;
    const block = state === 0 && PRIMARY_MARK.test(line) ? 'Primary' : state === 2 && ADDITIONAL_MARK.test(line) ? 'Additional' : undefined;
    if (block === undefined) continue;
    const modules = modulesOfBlock(enabled, profiles, field, block);
    const lines = modules.map((m, i) => linesOf(profiles.get(m)!, field, i).split(/\n+/).filter((l) => l !== ''));
    let count = lines.reduce((n, l) => n + l.length, 0);
    if (block === 'Additional') count--;
    if (block === 'Primary' && count === 0) out += `${facility}\t[default=1]\t\t\tpam_permit.so\n`;
    for (const moduleLines of lines) {
      for (const l of moduleLines) {
        out += `${facility}\t${withJumps(l, count)}`;
        count--;
      }
    }
    state++;
  }
  return state < 4 ? undefined : out;
}

/** `[success=end …] pam_x.so opts` with `end` made a count; options re-joined by single spaces. */
function withJumps(line: string, count: number): string {
  const m = /^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*)/.exec(line);
  if (!m) return `${line}\n`;
  const options = m[3]!.split(/\s+/).filter((o) => o !== '');
  return `${m[1]!.replaceAll('end', String(count))} ${options.join(' ')}\n`;
}

/** /var/lib/pam/TYPE: what was written per module, for pam-auth-update's next run to diff against. */
function savedState(type: string, enabled: readonly string[], profiles: ReadonlyMap<string, Profile>): string {
  const field = type[0]!.toUpperCase() + type.slice(1);
  let out = '';
  const primary = modulesOfBlock(enabled, profiles, field, 'Primary');
  primary.forEach((m, i) => {
    const lines = linesOf(profiles.get(m)!, field, i);
    if (lines) out += `Module: ${m}\n${lines}\n`;
  });
  if (primary.length === 0) out += 'Module: null\n[default=1]\t\t\tpam_permit.so\n';
  modulesOfBlock(enabled, profiles, field, 'Additional').forEach((m, i) => {
    const lines = linesOf(profiles.get(m)!, field, i);
    if (lines) out += `Module: ${m}\n${lines}\n`;
  });
  return out;
}
