import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { debAdapter } from '../adapters/deb/index.js';
import type { FinalEntry } from '../adapters/types.js';
import { translateEffects } from '../src/translate/applyEffects.js';
import { applyChanges } from '../src/final/copyUpEntries.js';
import type { FilesystemEffect } from '../src/translate/effects.js';
import { applyFilesystem as applyTagged, type FilesystemContext } from '../src/translate/filesystem.js';

// Real bookworm scripts and base-passwd masters; see fixtures/deb/scripts/PROVENANCE.md.
const DIR = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function deb(name: string, controlFiles: Record<string, string>, captured: Record<string, string>, paths: string[]): DebMetadata {
  const enc = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, b64(v)]));
  return { name, version: '0', arch: 'amd64', control: [], controlFiles: enc(controlFiles), conffiles: [], files: [], paths, directories: [], captured: enc(captured) };
}

const basePasswd = (): DebMetadata =>
  deb(
    'base-passwd',
    { preinst: fixture('base-passwd.preinst'), postinst: fixture('base-passwd.postinst') },
    {
      'usr/share/base-passwd/passwd.master': fixture('base-passwd.passwd.master'),
      'usr/share/base-passwd/group.master': fixture('base-passwd.group.master'),
    },
    ['usr/share/base-passwd/passwd.master', 'usr/share/base-passwd/group.master'],
  );

const DEFAULTS = ['dot.profile', 'dot.bashrc', 'profile', 'motd', 'info.dir'];
const baseFiles = (extraPaths: string[] = []): DebMetadata =>
  deb(
    'base-files',
    { postinst: fixture('base-files.postinst') },
    Object.fromEntries(DEFAULTS.map((n) => [`usr/share/base-files/${n}`, `default ${n}\n`])),
    ['etc/dpkg/origins/debian', ...DEFAULTS.map((n) => `usr/share/base-files/${n}`), ...extraPaths],
  );

const byPath = (entries: FinalEntry[]) => new Map(entries.map((e) => [e.path, e]));

describe('base-files on top of base-passwd, through the deb adapter', () => {
  const t = translateEffects(debAdapter, [basePasswd(), baseFiles()], 1_700_000_000);
  const entries = byPath(t.entries);

  it('leaves nothing of base-files untranslated', () => {
    expect(t.untranslated.find((u) => u.package === 'base-files')).toBeUndefined();
  });

  it('creates the directories with their modes and base-passwd ids', () => {
    expect(entries.get('var/mail')).toEqual({ path: 'var/mail', type: 'directory', mode: 0o2775, uid: 0, gid: 8 });
    expect(entries.get('run/lock')).toEqual({ path: 'run/lock', type: 'directory', mode: 0o1777, uid: 0, gid: 0 });
    for (const d of ['mnt', 'srv', 'opt', 'etc/opt', 'var/opt', 'media', 'usr/local', 'usr/local/share/man', 'usr/local/etc']) {
      expect(entries.get(d), d).toEqual({ path: d, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    }
  });

  it('writes the defaults and the login records', () => {
    expect(entries.get('root/.bashrc')).toEqual({ path: 'root/.bashrc', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('default dot.bashrc\n') });
    expect(entries.get('etc/profile')).toMatchObject({ type: 'file', mode: 0o644, content: Buffer.from('default profile\n') });
    expect(entries.get('usr/share/info/dir')).toMatchObject({ type: 'file', mode: 0o644 });
    expect(entries.get('var/log/wtmp')).toEqual({ path: 'var/log/wtmp', type: 'file', mode: 0o664, uid: 0, gid: 43, content: Buffer.alloc(0) });
    expect(entries.get('var/log/btmp')).toMatchObject({ mode: 0o660, gid: 43 });
    expect(entries.get('var/log/lastlog')).toMatchObject({ mode: 0o664, gid: 43 });
  });

  it('makes the links', () => {
    const links = t.entries.filter((e) => e.type === 'symlink').map((e) => [e.path, e.type === 'symlink' ? e.linkname : '']);
    expect(links).toEqual([
      ['etc/dpkg/origins/default', 'debian'],
      ['var/spool/mail', '../mail'],
      ['var/run', '/run'],
      ['var/lock', '/run/lock'],
      ['usr/local/man', 'share/man'],
    ]);
  });

  it('keeps a default that a package ships', () => {
    const shipped = translateEffects(debAdapter, [basePasswd(), baseFiles(['etc/motd'])], 0);
    expect(byPath(shipped.entries).has('etc/motd')).toBe(false);
    expect(byPath(shipped.entries).has('etc/profile')).toBe(true);
  });
});

describe('applyFilesystem', () => {
  const users = new Map([['daemon', 1]]);
  const groups = new Map([['adm', 4]]);
  const id = (ids: Map<string, number>) => (name: string) => (/^\d+$/.test(name) ? Number(name) : name === 'root' ? 0 : ids.get(name));
  const ctx = (installed: string[] = [], directories: string[] = []): FilesystemContext => ({
    uidOf: id(users),
    gidOf: id(groups),
    installed: new Set(installed),
    directories: new Map(directories.map((d) => [d, { path: d, mode: 0o700, uid: 0, gid: 0 }])),
    canonical: (p) => debAdapter.canonicalPath(p),
  });
  const applyFilesystem = (effects: FilesystemEffect[], c: FilesystemContext) => {
    const out = applyTagged(effects.map((effect) => ({ source: 'pkg', effect })), c);
    return { ...out, unresolved: out.unresolved.map((u) => u.effect) };
  };
  const dir = (path: string, user = 'root', group = 'root'): FilesystemEffect => ({ kind: 'directory', path, mode: 0o750, user, group });
  const file = (path: string, content: string, ifMissing: boolean): FilesystemEffect => ({ kind: 'file', path, mode: 0o600, user: 'daemon', group: 'adm', content: b64(content), ifMissing });

  it('resolves owners by name, numbers as ids, root as 0', () => {
    expect(applyFilesystem([dir('/srv/a', 'daemon', 'adm'), dir('/srv/b', '1000', '1000')], ctx()).entries).toEqual([
      { path: 'srv/a', type: 'directory', mode: 0o750, uid: 1, gid: 4 },
      { path: 'srv/b', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
    ]);
  });

  it('leaves an owner no package defines to root, and reports it', () => {
    const out = applyFilesystem([dir('/var/mail', 'root', 'mail'), dir('/x', 'nobody')], ctx());
    expect(out.entries).toEqual([
      { path: 'var/mail', type: 'directory', mode: 0o750, uid: 0, gid: 0 },
      { path: 'x', type: 'directory', mode: 0o750, uid: 0, gid: 0 },
    ]);
    expect(out.unresolved).toEqual([
      '/var/mail: group "mail" is not defined in the image; left to root',
      '/x: user "nobody" is not defined in the image; left to root',
    ]);
  });

  it('removes what earlier effects made, and its declarations; refuses packaged paths and non-empty directories without -r', () => {
    const rm = (path: string, recursive = false): FilesystemEffect => ({ kind: 'remove', path, recursive });
    const out = applyFilesystem([dir('/var/lib/p'), file('/var/lib/p/fresh', '', true), file('/srv/keep', '', true), rm('/var/lib/p/fresh'), rm('/srv/a', true)], ctx());
    expect(out.entries.map((e) => e.path)).toEqual(['var/lib/p', 'srv/keep']);
    expect(out.tmpfiles.get('pkg')).toEqual(['d /var/lib/p 0750 root root -', 'f /srv/keep 0600 daemon adm -']);
    expect(out.unresolved).toEqual([]);

    const whole = applyFilesystem([dir('/var/lib/p'), file('/var/lib/p/fresh', '', true), rm('/var/lib/p', true)], ctx());
    expect(whole.entries).toEqual([]);
    expect(whole.tmpfiles.get('pkg')).toEqual([]);

    const refused = applyFilesystem([dir('/var/lib/p'), file('/var/lib/p/fresh', '', true), rm('/var/lib/p'), rm('/etc/shipped')], ctx(['etc/shipped']));
    expect(refused.entries.map((e) => e.path)).toEqual(['var/lib/p', 'var/lib/p/fresh']);
    expect(refused.unresolved).toEqual([
      '/var/lib/p: rm without -r of a directory that is not empty (/var/lib/p/fresh); not applied',
      '/etc/shipped: removing what a package installs is not applied (it needs a whiteout)',
    ]);
  });

  it('places paths for merged-/usr', () => {
    expect(applyFilesystem([dir('/lib/x'), { kind: 'symlink', path: '/bin/y', target: 'z', ifMissing: false }], ctx()).entries).toEqual([
      { path: 'usr/lib/x', type: 'directory', mode: 0o750, uid: 0, gid: 0 },
      { path: 'usr/bin/y', type: 'symlink', linkname: 'z' },
    ]);
  });

  it('applies effects in order: ifMissing finds installed and earlier paths, others replace', () => {
    const out = applyFilesystem(
      [
        file('/etc/a', 'one', true),
        file('/etc/a', 'two', true),
        file('/etc/b', 'one', false),
        file('/etc/b', 'two', false),
        file('/etc/shipped', 'x', true),
        { kind: 'symlink', path: '/sbin/shipped', target: 'x', ifMissing: true },
      ],
      ctx(['etc/shipped', 'usr/sbin/shipped']),
    );
    expect(out.entries.map((e) => [e.path, e.type === 'file' ? e.content.toString() : ''])).toEqual([
      ['etc/a', 'one'],
      ['etc/b', 'two'],
    ]);
  });

  it('refuses a link that would hide installed files, and a directory over an installed file', () => {
    const link: FilesystemEffect = { kind: 'symlink', path: '/var/run', target: '/run', ifMissing: false };
    expect(() => applyFilesystem([link], ctx(['var/run/foo.pid']))).toThrow(/\/var\/run into a link to \/run, which would hide \/var\/run\/foo\.pid/);
    expect(applyFilesystem([link], ctx(['var/runner'])).entries).toEqual([{ path: 'var/run', type: 'symlink', linkname: '/run' }]);
    expect(() => applyFilesystem([dir('/etc/motd')], ctx(['etc/motd']))).toThrow(/directory \/etc\/motd, but a package installs a file there/);
  });

  it('changes owner and mode of a shipped or made directory, keeping what is not changed, and declares it in tmpfiles.d', () => {
    const out = applyFilesystem(
      [
        { kind: 'attributes', path: '/var/log/app', group: 'adm' },
        dir('/srv/made'),
        { kind: 'attributes', path: '/srv/made', mode: 0o2750, user: 'daemon' },
      ],
      ctx([], ['var/log/app']),
    );
    expect(out.entries).toEqual([
      { path: 'var/log/app', type: 'directory', mode: 0o700, uid: 0, gid: 4 },
      { path: 'srv/made', type: 'directory', mode: 0o2750, uid: 1, gid: 0 },
    ]);
    // The chown of a directory the same source made folds into its d line.
    expect(out.tmpfiles.get('pkg')).toEqual(['z /var/log/app - - adm -', 'd /srv/made 2750 daemon root -']);
  });

  it('asks for a copy of a packaged file whose owner or mode changes, in order; reports a missing path', () => {
    const out = applyFilesystem(
      [
        { kind: 'attributes', path: '/usr/bin/agent', group: 'adm' },
        { kind: 'attributes', path: '/usr/bin/agent', mode: 0o2755 },
        { kind: 'attributes', path: '/nowhere', user: 'daemon' },
      ],
      ctx(['usr/bin/agent']),
    );
    expect(out.entries).toEqual([]);
    expect(out.copyUps).toEqual([{ path: 'usr/bin/agent', source: 'pkg', changes: [{ gid: 4 }, { mode: 0o2755 }] }]);
    expect(out.tmpfiles.get('pkg')).toEqual(['z /usr/bin/agent - - adm -', 'z /usr/bin/agent 2755 - - -']);
    expect(out.unresolved).toEqual(['/nowhere: no such directory in the image, so owner daemon: is not applied']);
  });

  it('applies copied-up changes as chown and chmod would: a new owner clears set-id bits', () => {
    const shipped = { mode: 0o6755, uid: 0, gid: 0 };
    expect(applyChanges(shipped, [{ gid: 4 }])).toEqual({ mode: 0o0755, uid: 0, gid: 4 });
    expect(applyChanges(shipped, [{ gid: 4 }, { mode: 0o2755 }])).toEqual({ mode: 0o2755, uid: 0, gid: 4 });
    expect(applyChanges(shipped, [{ mode: 0o2755 }, { uid: 1 }])).toEqual({ mode: 0o0755, uid: 1, gid: 0 });
    // setgid without group execute is mandatory locking, not set-id: kept.
    expect(applyChanges({ mode: 0o2644, uid: 0, gid: 0 }, [{ gid: 4 }])).toEqual({ mode: 0o2644, uid: 0, gid: 4 });
  });

  it('applies a symbolic chmod to the mode a directory has, and keeps it as a change for a packaged file', () => {
    const g = (text: string, clear: number, add: number) => ({ text, clear, add });
    const shippedDir = { ...ctx(['usr/bin/ping'], ['etc/bind']), directories: new Map([['etc/bind', { path: 'etc/bind', mode: 0o755, uid: 0, gid: 0 }]]) };
    const out = applyFilesystem(
      [
        { kind: 'attributes', path: '/etc/bind', group: 'adm' },
        { kind: 'attributes', path: '/etc/bind', modeChange: g('g+s', 0, 0o2000) },
        { kind: 'attributes', path: '/usr/bin/ping', capability: 'cap_net_raw+ep' },
        { kind: 'attributes', path: '/usr/bin/ping', modeChange: g('u-s', 0o4000, 0) },
      ],
      shippedDir,
    );
    expect(out.entries).toEqual([{ path: 'etc/bind', type: 'directory', mode: 0o2755, uid: 0, gid: 4 }]);
    expect(out.tmpfiles.get('pkg')).toEqual(['z /etc/bind 2755 - adm -']);
    expect(out.copyUps).toEqual([{ path: 'usr/bin/ping', source: 'pkg', changes: [{ capability: 'cap_net_raw+ep' }, { modeChange: { clear: 0o4000, add: 0 } }] }]);
    const ping = applyChanges({ mode: 0o4755, uid: 0, gid: 0 }, out.copyUps[0]!.changes);
    expect(ping).toEqual({ mode: 0o755, uid: 0, gid: 0, xattrs: { 'security.capability': Buffer.from('0100000200200000000000000000000000000000', 'hex') } });
    // chown clears file capabilities, as Linux does.
    expect(applyChanges({ mode: 0o755, uid: 0, gid: 0 }, [{ capability: 'cap_net_raw+ep' }, { gid: 4 }])).toEqual({ mode: 0o755, uid: 0, gid: 4 });
  });

  it('gives `chown USER:` the login group the image has for that user, and reports an unknown user', () => {
    const out = applyFilesystem(
      [
        { kind: 'attributes', path: '/srv/sm', user: 'daemon', loginGroup: true },
        { kind: 'attributes', path: '/srv/other', user: 'ghost', loginGroup: true },
      ],
      { ...ctx([], ['srv/sm', 'srv/other']), loginGroupOf: (u) => (u === 'daemon' ? 'adm' : undefined) },
    );
    expect(out.entries).toEqual([
      { path: 'srv/sm', type: 'directory', mode: 0o700, uid: 1, gid: 4 },
      { path: 'srv/other', type: 'directory', mode: 0o700, uid: 0, gid: 0 },
    ]);
    expect(out.unresolved).toEqual([
      '/srv/other: the login group of "ghost" is not known; only the owner is applied',
      '/srv/other: user "ghost" is not defined in the image; left to root',
    ]);
  });

  it("copies another package's file by its layer: under umask 022 without -p, later chmods added, replaced by a later write", () => {
    const copy = (dest: string, keepMode: boolean): FilesystemEffect => ({ kind: 'file', path: dest, mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: false, copyOf: { path: '/usr/share/d/index.html', keepMode } });
    const out = applyFilesystem([copy('/srv/a', false), { kind: 'attributes', path: '/srv/a', mode: 0o600 }, copy('/srv/b', true), copy('/srv/c', false), file('/srv/c', 'mine', false)], ctx(['usr/share/d/index.html']));
    expect(out.copyUps).toEqual([
      { path: 'srv/a', from: 'usr/share/d/index.html', source: 'pkg', changes: [{ uid: 0, gid: 0 }, { modeChange: { clear: 0o7022, add: 0 } }, { mode: 0o600 }] },
      { path: 'srv/b', from: 'usr/share/d/index.html', source: 'pkg', changes: [] },
    ]);
    expect(out.entries.map((e) => e.path)).toEqual(['srv/c']);
    expect(out.unresolved).toEqual([]);
  });

  it('leaves the owner and mode of a file a left-out command would make to that command, as a note', () => {
    const out = applyFilesystem([{ kind: 'attributes', path: '/etc/bind/rndc.key', user: 'bind' }, { kind: 'attributes', path: '/etc/other.key', user: 'bind' }], { ...ctx(), leftOut: new Map([['etc/bind/rndc.key', 'rndc-confgen']]) });
    expect(out.unresolved).toEqual(['/etc/other.key: no such directory in the image, so owner bind: is not applied']);
    expect(out.notes.map((n) => n.effect)).toEqual(['/etc/bind/rndc.key: owner bind: goes with what rndc-confgen makes at first start']);
  });

  it('keeps a shipped directory under an ifMissing link or file', () => {
    expect(applyFilesystem([{ kind: 'symlink', path: '/etc/app', target: 'x', ifMissing: true }], ctx([], ['etc/app'])).entries).toEqual([]);
  });
});
