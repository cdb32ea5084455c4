import path from 'node:path';
import type { FinalEntry } from '../../adapters/types.js';
import type { DirectoryEffect, EnableUnitEffect } from './effects.js';

/** What a unit's [Install] section asks `systemctl enable` for. */
export interface InstallSection {
  wantedBy: string[];
  requiredBy: string[];
  alias: string[];
  also: string[];
  defaultInstance?: string;
}

/**
 * The [Install] section of a unit file. Keys may repeat and take space-separated lists; an empty
 * assignment resets the list, as systemd's parser does.
 */
export function installSection(text: string): InstallSection {
  const out: InstallSection = { wantedBy: [], requiredBy: [], alias: [], also: [] };
  let inInstall = false;
  for (const raw of joinContinuations(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      inInstall = line === '[Install]';
      continue;
    }
    if (!inInstall) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const words = line.slice(eq + 1).trim().split(/\s+/).filter(Boolean);
    const list = ({ WantedBy: out.wantedBy, RequiredBy: out.requiredBy, Alias: out.alias, Also: out.also } as Record<string, string[] | undefined>)[key];
    if (list) {
      if (words.length === 0) list.length = 0;
      else list.push(...words);
    } else if (key === 'DefaultInstance') out.defaultInstance = words[0];
  }
  return out;
}

function joinContinuations(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n');
}

/**
 * The links `systemctl enable` makes in /etc/systemd/system for each unit, pointing at the unit
 * file: <target>.wants/<unit> for WantedBy=, .requires for RequiredBy=, and one per Alias=.
 * A template unit is enabled as the instance named (`systemctl enable getty@tty1.service`), or
 * else through its DefaultInstance (none: nothing to link, as systemctl says). Also= names units that are enabled too when the image has their files; `units` maps a
 * unit name to every enable-unit effect, so those can be found. Returns the entries and the
 * units that could not be enabled, for the report.
 */
export function enableUnits(effects: EnableUnitEffect[], available: Map<string, EnableUnitEffect>): { entries: FinalEntry[]; problems: string[] } {
  const links = new Map<string, string>();
  const problems: string[] = [];
  const done = new Set<string>();
  const enable = (e: EnableUnitEffect, via?: string): void => {
    const unit = path.posix.basename(e.path);
    const key = e.instance === undefined ? unit : `${unit}\0${e.instance}`;
    if (done.has(key)) return;
    done.add(key);
    const install = installSection(e.text);
    let instance = unit;
    if (/@\./.test(unit) && e.instance !== undefined) instance = unit.replace('@.', `@${e.instance}.`);
    else if (/@\./.test(unit)) {
      if (install.defaultInstance === undefined) {
        problems.push(`${unit}: a template unit without DefaultInstance= is enabled per instance; nothing linked`);
        return;
      }
      instance = unit.replace('@.', `@${install.defaultInstance}.`);
    }
    if (!install.wantedBy.length && !install.requiredBy.length && !install.alias.length && !install.also.length) {
      // systemctl enables nothing for a unit without [Install]: a static unit, pulled in by others.
      if (via === undefined) return;
    }
    for (const t of install.wantedBy) links.set(`etc/systemd/system/${t}.wants/${instance}`, e.path);
    for (const t of install.requiredBy) links.set(`etc/systemd/system/${t}.requires/${instance}`, e.path);
    for (const a of install.alias) links.set(`etc/systemd/system/${a}`, e.path);
    for (const also of install.also) {
      const other = available.get(also);
      if (other) enable(other, unit);
      else problems.push(`${unit}: Also=${also}, but no package in the image ships that unit`);
    }
  };
  for (const e of effects) enable(e);
  const entries: FinalEntry[] = [...links].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, target]) => ({ path: p, type: 'symlink', linkname: target }));
  return { entries, problems };
}

/**
 * The runtime directories an enabled service gets from systemd when it starts
 * (RuntimeDirectory=, under /run, with RuntimeDirectoryMode= and the service's User=/Group=):
 * made at build time too, as directory effects, so that the program finds them in a container
 * that runs it without systemd (sshd needs /run/sshd). Declared in tmpfiles.d like any path.
 */
export function runtimeDirectories(effects: EnableUnitEffect[], primaryGroupOf: (user: string) => string): DirectoryEffect[] {
  const out: DirectoryEffect[] = [];
  for (const e of effects) {
    const service = sectionValues(e.text, 'Service');
    const dirs = (service.get('RuntimeDirectory') ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
    const modeText = service.get('RuntimeDirectoryMode')?.at(-1);
    const mode = modeText !== undefined && /^[0-7]{3,4}$/.test(modeText) ? parseInt(modeText, 8) : 0o755;
    const user = service.get('User')?.at(-1) || 'root';
    // Without Group=, the user's primary group (a gid, as the image's accounts give it).
    const group = service.get('Group')?.at(-1) || primaryGroupOf(user);
    for (const d of dirs) {
      // A relative name under /run; systemd refuses anything else, and so does this.
      if (d.startsWith('/') || d.split('/').includes('..') || /[%$]/.test(d)) continue;
      out.push({ kind: 'directory', path: `/run/${d}`, mode, user, group });
    }
  }
  return out;
}

/** Every value of every key in one [Section] of a unit file (an empty assignment resets the key). */
function sectionValues(text: string, section: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  let inside = false;
  for (const raw of joinContinuations(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      inside = line === `[${section}]`;
      continue;
    }
    const eq = line.indexOf('=');
    if (!inside || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    values.set(key, value === '' ? [] : [...(values.get(key) ?? []), value]);
  }
  return values;
}
