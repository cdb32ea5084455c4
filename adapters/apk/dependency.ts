/**
 * apk dependency atoms, as in the APKINDEX `D:` (depends), `p:` (provides) and `i:`
 * (install_if) fields and in /etc/apk/world (apk-world(5)): space-separated atoms of the form
 * `[!]name[@tag][op version]`. Names are free-form (`so:libc.musl-x86_64.so.1`, `cmd:ls`,
 * `pc:zlib`, `/bin/sh`); an operator is a run of `<`, `>`, `=`, `~`, normalized to apk-tools'
 * spelling: `<`, `<=`, `<~`, `~`, `=`, `>=`, `>~`, `>`, or `><` (identity checksum).
 */
import type { Dependency, Provide } from '../types.js';
import { UserError } from '../../src/errors.js';
import { compareApkVersions, compareApkVersionsFuzzy, isValidApkVersion } from './version.js';

export interface ApkDependency extends Dependency {
  /** `!name`: no package matching the rest of the atom may be installed. */
  conflict: boolean;
  /** World-file repository tag (`busybox@edge`). */
  tag?: string;
  /**
   * Set only when parsing leniently: the version is one apk-tools cannot parse. apk-tools keeps
   * such atoms but marks a package whose `D:` has one uninstallable and ignores an `i:` that has
   * one; Alpine v3.16 main ships a few (`opensmtpd=6.8.0p2-r4`, `pc:librtmp=v2.4`).
   */
  broken?: true;
}

export interface ApkParseOptions {
  /** Keep atoms whose version is invalid (flagged `broken`) instead of throwing, as apk-tools reads indexes. */
  lenient?: boolean;
}

// Result bits of a comparison, as apk-tools combines them into an operator mask.
const EQUAL = 1;
const LESS = 2;
const GREATER = 4;
const FUZZY = 8;
const ANY = EQUAL | LESS | GREATER;
const CHECKSUM = LESS | GREATER;

/** Operator mask of a run of comparer characters; 0 if any character is not one. */
function opMask(op: string): number {
  let mask = 0;
  for (const c of op) {
    if (c === '<') mask |= LESS;
    else if (c === '>') mask |= GREATER;
    else if (c === '=') mask |= EQUAL;
    else if (c === '~') mask |= FUZZY | EQUAL;
    else return 0;
  }
  return mask;
}

/** Canonical spelling of a mask (apk-tools' apk_version_op_string); undefined if it has none. */
const OP_NAMES: ReadonlyMap<number, string> = new Map([
  [LESS, '<'],
  [LESS | EQUAL, '<='],
  [LESS | EQUAL | FUZZY, '<~'],
  [EQUAL | FUZZY, '~'],
  [EQUAL, '='],
  [GREATER | EQUAL, '>='],
  [GREATER | EQUAL | FUZZY, '>~'],
  [GREATER, '>'],
  [CHECKSUM, '><'],
]);

// `!`, then a name that stops at the first comparer, an optional `@tag`, an optional constraint.
const ATOM_RE = /^(!?)([^<>=~@]+)(?:@([^<>=~@]+))?(?:([<>=~]+)(.*))?$/;
// Printable ASCII except the comparers and `@`, which end a name.
const NAME_RE = /^[!-~]+$/;
// An identity checksum such as `Q1...=` (a hash type letter and digit, then base64).
const CHECKSUM_RE = /^[A-Za-z0-9+/=]+$/;

function malformed(atom: string, source: string, why: string): UserError {
  return new UserError(`malformed apk dependency ${JSON.stringify(atom)} in ${source}: ${why}`);
}

function parseAtom(atom: string, source: string, lenient: boolean): ApkDependency {
  const m = ATOM_RE.exec(atom);
  if (!m) throw malformed(atom, source, 'expected [!]name[@tag][op version]');
  const [, bang, name = '', tag, op, version] = m;
  if (!NAME_RE.test(name) || name.startsWith('!')) throw malformed(atom, source, 'invalid name');
  const dep: ApkDependency = { name, conflict: bang === '!' };
  if (tag !== undefined) dep.tag = tag;
  if (op !== undefined && version !== undefined) {
    const canonical = OP_NAMES.get(opMask(op));
    if (canonical === undefined) throw malformed(atom, source, `unknown operator ${JSON.stringify(op)}`);
    if (canonical === '><' ? !CHECKSUM_RE.test(version) : !isValidApkVersion(version)) {
      if (lenient && canonical !== '><' && version !== '') dep.broken = true;
      else throw malformed(atom, source, `invalid ${canonical === '><' ? 'checksum' : 'version'} ${JSON.stringify(version)}`);
    }
    dep.op = canonical;
    dep.version = version;
  }
  return dep;
}

/** Space- (or newline-) separated atoms; runs of separators are one separator, as in apk-tools. */
function atoms(field: string): string[] {
  return field.split(/[ \n]+/).filter((a) => a !== '');
}

/**
 * Parse a `D:`/`i:` field or world-file text into atoms. `source` names where the field came
 * from (package and index, or the world file) in error messages.
 */
export function parseApkDependencies(field: string, source: string, options: ApkParseOptions = {}): ApkDependency[] {
  return atoms(field).map((a) => parseAtom(a, source, options.lenient === true));
}

/**
 * Parse a `p:` field: names, each optionally `=version` (the version the name is provided at).
 * Leniently, an invalid version is kept as is (apk-tools keeps such provides; it still compares).
 */
export function parseApkProvides(field: string, source = 'provides field', options: ApkParseOptions = {}): Provide[] {
  return atoms(field).map((a) => {
    const dep = parseAtom(a, source, options.lenient === true);
    if (dep.conflict || dep.tag !== undefined) throw malformed(a, source, 'a provide is a plain name');
    const provide: Provide = { name: dep.name };
    if (dep.op !== undefined) {
      if (dep.op !== '=') throw malformed(a, source, 'a provide can only have an "=" version');
      provide.version = dep.version;
    }
    return provide;
  });
}

/**
 * Whether a package at version `candidate` satisfies `op version` (conflict `!` not applied).
 * `~` matches versions of which `version` is a component-wise prefix (`~1.2` matches 1.2,
 * 1.2.3 and 1.2_rc1, not 1.23); `>~`/`<~` are `>`/`<` or that prefix match. For `><`,
 * `candidate` is the package's identity checksum (APKINDEX `C:`), matched exactly.
 */
export function apkVersionSatisfies(candidate: string, op: string, version: string): boolean {
  const mask = opMask(op);
  if (mask === 0) throw new Error(`unknown apk version operator ${JSON.stringify(op)}`);
  if (mask === CHECKSUM) return candidate === version;
  if ((mask & ANY) === ANY) return true;
  const c = (mask & FUZZY) !== 0 ? compareApkVersionsFuzzy(candidate, version, true) : compareApkVersions(candidate, version);
  return (mask & (c < 0 ? LESS : c > 0 ? GREATER : EQUAL)) !== 0;
}

/** Canonical text of an atom, e.g. `!so:libfoo.so.1>=1.2-r0` (apk-tools' own spelling). */
export function formatApkDependency(dep: ApkDependency): string {
  const bang = dep.conflict ? '!' : '';
  const tag = dep.tag !== undefined ? `@${dep.tag}` : '';
  const constraint = dep.op !== undefined && dep.version !== undefined ? `${dep.op}${dep.version}` : '';
  return `${bang}${dep.name}${tag}${constraint}`;
}
