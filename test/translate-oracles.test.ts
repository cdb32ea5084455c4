/**
 * The whole translation against the real tools: from the sysusers.d and tmpfiles.d files a
 * build declares, the real systemd-sysusers and systemd-tmpfiles (--root) must make exactly the
 * accounts and paths layerpkg wrote into the final layer.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { debAdapter } from '../adapters/deb/index.js';
import type { FinalEntry, InstalledDirectory } from '../adapters/types.js';
import { translateEffects } from '../src/translate/applyEffects.js';
import { configEffects } from '../src/translate/configEffects.js';

const EPOCH = 1_700_000_000;
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function deb(name: string, scripts: Record<string, string>, files: Record<string, string> = {}, dirs: string[] = []): DebMetadata {
  const directories: InstalledDirectory[] = dirs.map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 }));
  return {
    name,
    version: '1',
    arch: 'amd64',
    control: [],
    controlFiles: Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, b64(v)])),
    conffiles: [],
    files: [],
    paths: Object.keys(files),
    directories,
    captured: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64(v)])),
  };
}

const basePasswd = deb(
  'base-passwd',
  { preinst: fixture('base-passwd.preinst'), postinst: fixture('base-passwd.postinst') },
  { 'usr/share/base-passwd/passwd.master': fixture('base-passwd.passwd.master'), 'usr/share/base-passwd/group.master': fixture('base-passwd.group.master') },
);
// Real forms from bookworm scripts: openssh-server's adduser, nginx's chown of its log directory,
// a dh_installsysusers / dh_installtmpfiles pair with the package's own files.
const daemons = deb('daemons', {
  postinst: [
    '#!/bin/sh',
    'set -e',
    'if [ "$1" = configure ]; then',
    '  adduser --quiet --system --group --no-create-home --home /run/sshd sshd',
    '  adduser --system --group --home /var/lib/app --gecos "App user" app',
    '  addgroup --system appgroup',
    '  adduser app appgroup',
    '  mkdir -p /var/log/app',
    '  chown app:adm /var/log/app',
    '  chmod 2750 /var/log/app',
    '  touch /var/log/app/app.log',
    '  chown app:appgroup /var/log/app/app.log',
    '  chmod 640 /var/log/app/app.log',
    '  ln -s /var/lib/app /srv/app',
    'fi',
  ].join('\n'),
});
const shipped = deb(
  'shipped',
  {
    postinst: [
      '#!/bin/sh',
      'set -e',
      'if [ "$1" = configure ]; then',
      '  systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} shipped.conf',
      '  systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create shipped.conf || true',
      "  deb-systemd-helper enable 'shipd.service' >/dev/null || true",
      'fi',
    ].join('\n'),
  },
  {
    'usr/lib/sysusers.d/shipped.conf': 'g shipd -\nu shipd -:shipd "Shipped daemon" /var/lib/shipd\nm shipd adm\n',
    'usr/lib/tmpfiles.d/shipped.conf': 'd /var/lib/shipd 0750 shipd shipd -\nd /run/shipd 0755 shipd shipd -\nL /etc/shipd.conf - - - - /usr/share/shipd/default.conf\n',
    // What systemd makes when the service starts (RuntimeDirectory=), made at build time too.
    'usr/lib/systemd/system/shipd.service': '[Service]\nUser=shipd\nRuntimeDirectory=shipd-rt shipd-rt/sub\nRuntimeDirectoryMode=0750\n[Install]\nWantedBy=multi-user.target\n',
  },
  ['usr/lib/sysusers.d', 'usr/lib/tmpfiles.d', 'var', 'var/lib', 'var/log', 'run', 'etc', 'srv'],
);
const image = configEffects({
  users: [{ name: 'builder', groups: ['adm'], gecos: 'CI builder', system: false }],
  groups: [{ name: 'ops', members: ['builder'], system: true }],
  paths: [{ path: '/srv/data', type: 'directory', mode: 0o750, user: 'builder', group: 'ops' }],
});

const byPath = (entries: FinalEntry[]) => new Map(entries.map((e) => [e.path, e]));
const content = (e: FinalEntry | undefined): string => (e?.type === 'file' ? e.content.toString() : '');

function writeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'layerpkg-oracle-'));
  roots.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

describe('the translation against systemd-sysusers and systemd-tmpfiles', () => {
  const packages = [basePasswd, daemons, shipped];
  const t = translateEffects(debAdapter, packages, EPOCH, image);
  const entries = byPath(t.entries);
  const declared = (file: string) => content(entries.get(file));

  it('declares script-created accounts with fixed ids, per package and for image.toml', () => {
    expect(declared('usr/lib/sysusers.d/layerpkg-daemons.conf')).toContain('u sshd 100:101 - /run/sshd /usr/sbin/nologin') // gid 100 is base-passwd's users;
    expect(declared('usr/lib/sysusers.d/layerpkg-daemons.conf')).toContain('m app appgroup');
    expect(declared('usr/lib/sysusers.d/layerpkg-image.toml.conf')).toContain('u builder 1000:1000 "CI builder" /home/builder /bin/sh');
    expect(t.untranslated).toEqual([]);
    // Without Group=, the service user's primary group, by id (shipd's is 999).
    expect(declared('usr/lib/tmpfiles.d/layerpkg-shipped.conf')).toContain('d /run/shipd-rt 0750 shipd 999 -');
  });

  it('passwd, group, shadow and gshadow equal what systemd-sysusers makes from the same files, in install order', () => {
    // The base accounts alone, as base-passwd leaves them, are the starting point.
    const base = byPath(translateEffects(debAdapter, [basePasswd], EPOCH).entries);
    const root = writeRoot(Object.fromEntries(['passwd', 'group', 'shadow', 'gshadow'].map((f) => [`etc/${f}`, content(base.get(`etc/${f}`))])));
    for (const file of ['usr/lib/sysusers.d/layerpkg-daemons.conf', 'usr/lib/sysusers.d/shipped.conf', 'usr/lib/sysusers.d/layerpkg-image.toml.conf']) {
      const text = file.includes('layerpkg-') ? declared(file) : Buffer.from(shipped.captured[file]!, 'base64').toString();
      writeFileSync(join(root, 'conf'), text);
      run('systemd-sysusers', ['--root', root, join(root, 'conf')]);
    }
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) expect(content(entries.get(`etc/${f}`)), f).toBe(readFileSync(join(root, 'etc', f), 'utf8'));
    expect(content(entries.get('etc/passwd'))).toMatch(/^shipd:x:999:999:Shipped daemon:\/var\/lib\/shipd:\/usr\/sbin\/nologin$/m);
  });

  it('directories, files and links equal what systemd-tmpfiles --create makes from the same files', () => {
    const accounts = Object.fromEntries(['passwd', 'group'].map((f) => [`etc/${f}`, content(entries.get(`etc/${f}`))]));
    const root = writeRoot(accounts);
    for (const d of shipped.directories) mkdirSync(join(root, d.path), { recursive: true });
    const confs = ['usr/lib/tmpfiles.d/layerpkg-daemons.conf', 'usr/lib/tmpfiles.d/layerpkg-image.toml.conf', 'usr/lib/tmpfiles.d/shipped.conf', 'usr/lib/tmpfiles.d/layerpkg-shipped.conf'];
    for (const file of confs) {
      const text = file.includes('layerpkg-') ? declared(file) : Buffer.from(shipped.captured[file]!, 'base64').toString();
      writeFileSync(join(root, 'conf'), text);
      run('systemd-tmpfiles', ['--create', '--root', root, join(root, 'conf')]);
    }
    const made = ['var/log/app', 'var/log/app/app.log', 'srv/app', 'srv/data', 'home/builder', 'var/lib/shipd', 'run/shipd', 'etc/shipd.conf', 'run/shipd-rt', 'run/shipd-rt/sub'];
    for (const rel of made) {
      const st = lstatSync(join(root, rel));
      const ours = entries.get(rel);
      expect(ours, rel).toBeDefined();
      if (st.isSymbolicLink()) expect(ours, rel).toEqual({ path: rel, type: 'symlink', linkname: readlinkSync(join(root, rel)) });
      else expect({ type: ours!.type, mode: ours!.type === 'symlink' ? 0 : ours!.mode, uid: ours!.type === 'symlink' ? 0 : ours!.uid, gid: ours!.type === 'symlink' ? 0 : ours!.gid }, rel).toEqual({
        type: st.isDirectory() ? 'directory' : 'file',
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
      });
    }
    // Sanity: the checks above looked at real ids, not all-root.
    expect(lstatSync(join(root, 'var/log/app')).uid).toBeGreaterThan(0);
    chownSync(root, 0, 0);
  });
});
