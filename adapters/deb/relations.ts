/**
 * Debian relationship fields (Depends, Pre-Depends, Conflicts, Breaks, Replaces, Provides...),
 * following the syntax of deb-control(5) and Debian Policy §7.1.
 */
import type { Dependency, DependencyGroup, Provide } from '../types.js';
import { UserError } from '../../src/errors.js';
import { compareDebianVersions } from './version.js';

/** A Provides entry; Debian allows an architecture qualifier there too (deb-control(5)). */
export interface DebProvide extends Provide {
  archQualifier?: string;
}

/** The obsolete `<` and `>` meant `<=` and `>=` (Policy §7.1), so they normalize to those. */
const OPS: Readonly<Record<string, string>> = {
  '<<': '<<',
  '<=': '<=',
  '=': '=',
  '>=': '>=',
  '>>': '>>',
  '<': '<=',
  '>': '>=',
};

// dpkg's pkg_name_is_illegal(): an alphanumeric, then alphanumerics or "-+._".
const NAME = '([A-Za-z0-9][A-Za-z0-9+._-]*)';
const QUALIFIER = '(?::([A-Za-z0-9-]+))?';
const VERSION = '(?:\\(\\s*(<<|<=|>=|>>|=|<|>)\\s*([A-Za-z0-9.+~:-]+)\\s*\\))?';
// Only source packages carry these; they do not matter for binary resolution but must parse.
const ARCH_LIST = '(?:\\[\\s*!?[A-Za-z0-9-]+(?:\\s+!?[A-Za-z0-9-]+)*\\s*\\]\\s*)?';
const PROFILES = '(?:<\\s*!?[A-Za-z0-9.+-]+(?:\\s+!?[A-Za-z0-9.+-]+)*\\s*>\\s*)*';

const RELATION_RE = new RegExp(`^\\s*${NAME}${QUALIFIER}\\s*${VERSION}\\s*${ARCH_LIST}${PROFILES}$`);
const PROVIDE_RE = new RegExp(`^\\s*${NAME}${QUALIFIER}\\s*${VERSION}\\s*$`);

function malformed(what: string, part: string, field: string): UserError {
  return new UserError(`malformed ${what} ${JSON.stringify(part.trim())} in relation field ${JSON.stringify(field)}`);
}

/**
 * Comma-separated items of a field. A trailing comma is tolerated (common in source
 * control files); any other empty item is an error.
 */
function items(field: string): string[] {
  if (field.trim() === '') return [];
  const parts = field.split(',');
  const last = parts[parts.length - 1];
  if (parts.length > 1 && last !== undefined && last.trim() === '') parts.pop();
  for (const part of parts) {
    if (part.trim() === '') throw new UserError(`empty relation in field ${JSON.stringify(field)}`);
  }
  return parts;
}

function parseDependency(text: string, field: string): Dependency {
  const m = RELATION_RE.exec(text);
  if (!m) throw malformed('relation', text, field);
  const [, name, archQualifier, op, version] = m;
  const dep: Dependency = { name: name ?? '' };
  if (archQualifier !== undefined) dep.archQualifier = archQualifier;
  if (op !== undefined && version !== undefined) {
    dep.op = OPS[op] ?? op;
    dep.version = version;
  }
  return dep;
}

/** Parse a Depends-style field into AND-ed groups of OR-ed alternatives. */
export function parseRelationField(field: string): DependencyGroup[] {
  return items(field).map((group) => group.split('|').map((alt) => parseDependency(alt, field)));
}

/** Parse a Provides field: plain names, optionally arch-qualified, optionally `(= version)`. */
export function parseProvides(field: string): DebProvide[] {
  return items(field).map((text) => {
    const m = PROVIDE_RE.exec(text);
    if (!m) throw malformed('provide', text, field);
    const [, name, archQualifier, op, version] = m;
    const provide: DebProvide = { name: name ?? '' };
    if (archQualifier !== undefined) provide.archQualifier = archQualifier;
    if (op !== undefined && version !== undefined) {
      // dpkg honours only exact versions in Provides (deb-control(5)).
      if (op !== '=') throw malformed('provide (only "=" versions are allowed)', text, field);
      provide.version = version;
    }
    return provide;
  });
}

/** Canonical text of a group, e.g. `libc6 (>= 2.34) | foo:any`. */
export function formatDependencyGroup(group: DependencyGroup): string {
  return group
    .map((d) => {
      const q = d.archQualifier !== undefined ? `:${d.archQualifier}` : '';
      const v = d.op !== undefined && d.version !== undefined ? ` (${d.op} ${d.version})` : '';
      return `${d.name}${q}${v}`;
    })
    .join(' | ');
}

/** Whether version `candidate` satisfies `op version`; accepts the obsolete `<` and `>` too. */
export function versionSatisfies(candidate: string, op: string, version: string): boolean {
  const c = compareDebianVersions(candidate, version);
  switch (OPS[op]) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
    default:
      throw new Error(`unknown version relation operator ${JSON.stringify(op)}`);
  }
}
