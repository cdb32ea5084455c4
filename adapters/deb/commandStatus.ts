/**
 * What Debian's own tools answer on a fresh install, for the guards of maintainer scripts
 * (adapters/shell/scriptConditions.ts asks through ScriptEnv.commandStatus).
 */
import type { PackageMetadata, ScriptContext } from '../types.js';
import { asDeb } from './debMetadata.js';
import { compareDebianVersions, isValidDebianVersion } from './version.js';

/** `dpkg --compare-versions` and dh_installsystemd's `deb-systemd-helper was-enabled` / `debian-installed`. */
export function debCommandStatus(name: string, args: string[]): boolean | undefined {
  if (name === 'dpkg') return compareVersions(args);
  // "was-enabled defaults to true, so new installations run enable" (dh_installsystemd's snippet).
  const helper = name === 'deb-systemd-helper' ? args.filter((a) => a !== '--quiet')[0] : undefined;
  if (helper === 'was-enabled') return true;
  // "debian-installed": whether an earlier version left its state file; never on a fresh install
  // (dh_installsystemd's snippet for units installed but not enabled, e.g. ssh.socket).
  if (helper === 'debian-installed') return false;
  return undefined;
}

const ORDER = new Map<string, (c: number) => boolean>([
  ['lt', (c) => c < 0],
  ['le', (c) => c <= 0],
  ['eq', (c) => c === 0],
  ['ne', (c) => c !== 0],
  ['ge', (c) => c >= 0],
  ['gt', (c) => c > 0],
]);
/** dpkg's other spellings; `<` and `>` are its obsolete ones for <= and >=. */
const ALIASES = new Map([['<<', 'lt'], ['<=', 'le'], ['<', 'le'], ['=', 'eq'], ['>=', 'ge'], ['>', 'ge'], ['>>', 'gt']]);

/**
 * `dpkg --compare-versions a rel b`. An empty (or "<unknown>") version is earlier than any
 * other, and equal to another empty one; with the -nl relations it is later instead. That is
 * what dpkg 1.21 answers (checked with `dpkg --compare-versions "" lt 1.0`: true).
 */
function compareVersions(args: string[]): boolean | undefined {
  let words = args;
  if (words[0] !== '--compare-versions') return undefined;
  words = words.slice(words[1] === '--' ? 2 : 1);
  const [a, rel = '', b] = words.map((w) => w.trim());
  const nl = /^(lt|le|ge|gt)-nl$/.test(rel);
  const test = ORDER.get(nl ? rel.slice(0, 2) : (ALIASES.get(rel) ?? rel));
  if (words.length !== 3 || a === undefined || b === undefined || test === undefined) return undefined;
  const blankA = a === '' || a === '<unknown>';
  const blankB = b === '' || b === '<unknown>';
  if ((!blankA && !isValidDebianVersion(a)) || (!blankB && !isValidDebianVersion(b))) return undefined;
  let c: number;
  if (blankA && blankB) c = 0;
  else if (blankA) c = nl ? 1 : -1;
  else if (blankB) c = nl ? -1 : 1;
  else c = compareDebianVersions(a, b);
  return test(c);
}

/**
 * dpkg's native architecture: that of the image's architecture-specific packages (an image is
 * built for one; Architecture: all packages say nothing of it).
 */
function nativeArchitecture(packages: readonly PackageMetadata[]): string | undefined {
  const archs = new Set(packages.map((p) => p.arch).filter((a) => a !== 'all'));
  return archs.size === 1 ? `${[...archs][0]!}\n` : undefined;
}

/**
 * `dpkg -L PKG…` as the database lists them once unpacked; a package not in the image prints
 * only an error (on stderr), as dpkg does.
 */
function listFiles(names: string[], packages: readonly PackageMetadata[]): string | undefined {
  if (!names.length) return undefined;
  let out = '';
  for (const n of names) {
    const p = packages.find((x) => x.name === n.replace(/:[a-z0-9]+$/, ''));
    if (p) out += asDeb(p).files.map((f) => `${f}\n`).join('');
  }
  return out;
}

/**
 * What a few queries print on a fresh install: `dpkg --print-architecture` the image's
 * architecture; `getcap FILE` nothing, since a .deb cannot carry
 * file capabilities (only a script's setcap gives them, and no translated effect does); `stat`
 * of a known directory; `seq`.
 */
export function freshCommandOutput(words: string[], ctx: Pick<ScriptContext, 'directory' | 'packages'>): string | undefined {
  const [tool, ...files] = words;
  if (tool === 'getcap' && files.length > 0 && files.every((f) => f.startsWith('/'))) return '';
  if (tool === 'dpkg' && files.length === 1 && files[0] === '--print-architecture') return nativeArchitecture(ctx.packages);
  if (tool === 'dpkg' && (files[0] === '-L' || files[0] === '--listfiles')) return listFiles(files.slice(1), ctx.packages);
  if (tool === 'stat') return statOfDirectory(files, ctx);
  if (tool === 'seq') return sequence(files);
  return undefined;
}

/**
 * `stat [-L] -c %a|%u|%g|%U|%G DIR` of a directory a package ships or an earlier script made
 * (ca-certificates gives /usr/local/share/ca-certificates the mode and group of /usr/local).
 * An owner known only by name has no id here: %u and %g then stay unknown (and the reverse).
 */
function statOfDirectory(args: string[], ctx: Pick<ScriptContext, 'directory'>): string | undefined {
  const words = args.filter((a) => a !== '-L');
  if (words.length !== 3 || words[0] !== '-c' || !words[2]!.startsWith('/')) return undefined;
  const dir = ctx.directory?.(words[2]!);
  if (dir === undefined) return undefined;
  const id = (name: string) => (/^\d+$/.test(name) ? name : name === 'root' ? '0' : undefined);
  const name = (v: string) => (v === '0' || v === 'root' ? 'root' : /^\d+$/.test(v) ? undefined : v);
  switch (words[1]) {
    case '%a':
      return (dir.mode & 0o7777).toString(8);
    case '%u':
      return id(dir.user);
    case '%g':
      return id(dir.group);
    case '%U':
      return name(dir.user);
    case '%G':
      return name(dir.group);
    default:
      return undefined;
  }
}

/**
 * `dpkg-statoverride --list PATH` succeeds when an override exists: on a fresh install, only one
 * that a script configured earlier added (man-db's postinst leaves overridden binaries alone).
 */
export function statOverrideListed(name: string, words: string[], ctx: Pick<ScriptContext, 'statOverridden'>): boolean | undefined {
  if (name !== 'dpkg-statoverride' || words[0] !== '--list' || words.length !== 2 || !words[1]!.startsWith('/') || !ctx.statOverridden) return undefined;
  return ctx.statOverridden(words[1]!);
}

/** `seq [FIRST [STEP]] LAST` of small integers, one per line (ucf's `for i in $(seq 6 -1 0)`). */
function sequence(args: string[]): string | undefined {
  if (!args.length || args.length > 3 || !args.every((a) => /^-?\d{1,4}$/.test(a))) return undefined;
  const n = args.map(Number);
  const [first, step, last] = n.length === 1 ? [1, 1, n[0]!] : n.length === 2 ? [n[0]!, 1, n[1]!] : [n[0]!, n[1]!, n[2]!];
  if (step === 0) return undefined;
  const out: number[] = [];
  for (let i = first; step > 0 ? i <= last : i >= last; i += step) out.push(i);
  return out.map((i) => `${i}\n`).join('');
}
