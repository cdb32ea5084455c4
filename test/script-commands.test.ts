import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { debAdapter } from '../adapters/deb/index.js';
import { ldconfig } from '../adapters/deb/ldconfigCommand.js';
import { updateRcD } from '../adapters/deb/serviceCommands.js';
import { debScriptEffects } from '../adapters/deb/scriptEffects.js';
import { chownEffects, installEffects, lnEffects, mkdirEffects, mvEffects, rmEffects, touchEffects } from '../adapters/fileCommands.js';
import { guardsHold, variablesAt, type ScriptEnv } from '../adapters/shell/scriptConditions.js';
import { commandWords } from '../adapters/shell/shellCommands.js';
import type { ScriptContext } from '../adapters/types.js';
import type { EnableUnitEffect } from '../src/translate/effects.js';
import { freshCommandOutput } from '../adapters/deb/commandStatus.js';
import { debConfigureOrder } from '../adapters/deb/configureOrder.js';
import { translateEffects } from '../src/translate/applyEffects.js';
import { enableUnits } from '../src/translate/enableUnits.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const paths: Record<string, 'file' | 'directory'> = { '/etc': 'directory', '/etc/nginx/sites-enabled': 'directory', '/etc/shipped': 'file', '/usr/share/tool/default.conf': 'file' };
const pathType = (p: string) => paths[p] ?? 'absent';
const ctx = { pathType };

describe('file commands as effects', () => {
  it('mkdir: modes, and nothing for a directory a package ships', () => {
    expect(mkdirEffects(['-p', '-m', '0750', '/var/lib/a', '/etc'], ctx)).toEqual({ effects: [{ kind: 'directory', path: '/var/lib/a', mode: 0o750, user: 'root', group: 'root' }] });
    expect(mkdirEffects(['-m', 'u+rwx', '/x'], ctx)).toEqual({ unrecognized: 'mkdir: mode "u+rwx" is not an octal mode' });
  });

  it('chown: user, group, user.group; -R over a packaged tree is refused', () => {
    expect(chownEffects(['www-data:adm', '/var/log/x'], ctx)).toEqual({ effects: [{ kind: 'attributes', path: '/var/log/x', user: 'www-data', group: 'adm' }] });
    expect(chownEffects([':adm', '/a'], ctx)).toEqual({ effects: [{ kind: 'attributes', path: '/a', group: 'adm' }] });
    expect(chownEffects(['root.adm', '/a'], ctx)).toEqual({ effects: [{ kind: 'attributes', path: '/a', user: 'root', group: 'adm' }] });
    expect(chownEffects(['-R', 'x', '/etc'], ctx)).toEqual({ unrecognized: 'chown -R /etc: a packaged tree, changed file by file' });
    expect(chownEffects(['$user', '/a'], ctx)).toEqual({ unrecognized: 'chown: "$user" is not known before the script runs' });
    // `USER:` takes the user's login group, which the translation looks up in the image's passwd.
    expect(chownEffects(['statd:', '/var/lib/nfs/sm'], ctx)).toEqual({ effects: [{ kind: 'attributes', path: '/var/lib/nfs/sm', user: 'statd', loginGroup: true }] });
  });

  it('ln -s into a directory, -f replaces, a hard link is not modelled', () => {
    expect(lnEffects(['-s', '/etc/nginx/sites-available/default', '/etc/nginx/sites-enabled'], ctx)).toEqual({
      effects: [{ kind: 'symlink', path: '/etc/nginx/sites-enabled/default', target: '/etc/nginx/sites-available/default', ifMissing: true }],
    });
    expect(lnEffects(['-sf', 'a', '/b'], ctx)).toEqual({ effects: [{ kind: 'symlink', path: '/b', target: 'a', ifMissing: false }] });
    expect(lnEffects(['a', '/b'], ctx)).toEqual({ unrecognized: 'ln: a hard link' });
  });

  it('touch: times are not modelled; -c and -h never create', () => {
    const made = { effects: [{ kind: 'file', path: '/var/log/x.log', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true }] };
    expect(touchEffects(['-r', '/etc/passwd', '/var/log/x.log'])).toEqual(made);
    expect(touchEffects(['--no-dereference', '--reference=/bin/dash', '/bin/sh'])).toEqual({ effects: [] });
    expect(touchEffects(['-c', '/var/log/x.log'])).toEqual({ effects: [] });
    expect(touchEffects(['--time=atime', '/x'])).toEqual({ unrecognized: 'touch: option --time is not understood' });
  });

  it('mv of a link or file the package just made moves it; anything else is not modelled', () => {
    const earlier = [{ kind: 'symlink' as const, path: '/bin/sh.tmp', target: 'dash', ifMissing: false }];
    expect(mvEffects(['-f', '/bin/sh.tmp', '/bin/sh'], ctx, earlier)).toEqual({
      effects: [
        { kind: 'remove', path: '/bin/sh.tmp', recursive: false },
        { kind: 'symlink', path: '/bin/sh', target: 'dash', ifMissing: false },
      ],
    });
    expect(mvEffects(['/etc/shipped', '/etc/other'], ctx, earlier)).toBeUndefined();
    expect(mvEffects(['/bin/nothing', '/bin/sh'], ctx, earlier)).toBeUndefined();
    expect(mvEffects(['-b', '/bin/sh.tmp', '/bin/sh'], ctx, earlier)).toBeUndefined();
  });

  it('touch makes an empty file where none is; rm of absent paths is inert, of a packaged one a removal the translation judges', () => {
    expect(touchEffects(['/var/log/x.log'])).toEqual({ effects: [{ kind: 'file', path: '/var/log/x.log', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true }] });
    expect(rmEffects(['-f', '/etc/old.conf'], ctx)).toEqual({ effects: [] });
    // Kept only where a later step makes the path again (dash's /bin/sh); else reported (whiteout).
    expect(rmEffects(['-f', '/etc/shipped'], ctx)).toEqual({ effects: [{ kind: 'remove', path: '/etc/shipped', recursive: false }] });
    expect(rmEffects(['-f', '/etc/nginx/sites-enabled'], ctx)).toBeUndefined();
    expect(rmEffects(['-rf', '/etc/*.old'], ctx)).toBeUndefined();
    // What an earlier effect of the package made is removed again; -r reaches below it.
    const earlier = [{ kind: 'file' as const, path: '/var/lib/p/fresh', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true }];
    expect(rmEffects(['-f', '/var/lib/p/fresh'], ctx, earlier)).toEqual({ effects: [{ kind: 'remove', path: '/var/lib/p/fresh', recursive: false }] });
    expect(rmEffects(['-rf', '/var/lib/p/'], ctx, earlier)).toEqual({ effects: [{ kind: 'remove', path: '/var/lib/p', recursive: true }] });
  });

  it('install -d and install /dev/null; a real copy is left to the report', () => {
    expect(installEffects(['-d', '-m', '0750', '-o', 'www-data', '/var/cache/x'])).toEqual({ effects: [{ kind: 'directory', path: '/var/cache/x', mode: 0o750, user: 'www-data', group: 'root' }] });
    expect(installEffects(['--mode', '644', '/dev/null', '/etc/apparmor.d/local/x'])).toEqual({ effects: [{ kind: 'file', path: '/etc/apparmor.d/local/x', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: false }] });
    expect(installEffects(['-m', '644', '/usr/share/x', '/etc/x'])).toEqual({ unrecognized: 'install -m 644 /usr/share/x /etc/x: copies a file' });
  });
});

describe('variables a block assigns, and substitutions the reader can answer', () => {
  const script = [
    '#!/bin/sh',
    'if [ "$1" = configure ]; then',
    '  APP_PROFILE="/etc/apparmor.d/usr.sbin.tool"',
    '  if [ -f "$APP_PROFILE" ]; then',
    '    LOCAL_APP_PROFILE="/etc/apparmor.d/local/usr.sbin.tool"',
    '    test -e "$LOCAL_APP_PROFILE" || {',
    '      mkdir -p `dirname "$LOCAL_APP_PROFILE"`',
    '      install --mode 644 /dev/null "$LOCAL_APP_PROFILE"',
    '    }',
    '  fi',
    'fi',
    'echo "$LOCAL_APP_PROFILE"',
    'case "$(readlink /etc/profile.d/prompt.sh 2>/dev/null || true)" in prompt) ln -sf x /etc/profile.d/prompt.sh;; esac',
  ].join('\n');
  const parsed = commandWords(script);
  const env: ScriptEnv = { args: ['configure', ''], variables: {}, pathType: (p) => (p === '/etc/apparmor.d/usr.sbin.tool' ? 'file' : p === '/etc/apparmor.d' ? 'directory' : 'absent') };
  const at = (name: string) => parsed.commands.find((c) => c.command === name)!;

  it('gives a command the values its enclosing blocks assigned before it, and no other command', () => {
    expect(variablesAt(script, parsed, env, at('install'))).toEqual({ APP_PROFILE: '/etc/apparmor.d/usr.sbin.tool', LOCAL_APP_PROFILE: '/etc/apparmor.d/local/usr.sbin.tool' });
    // After the if: where its tests surely held, the assignments ran; where they may not have, no value.
    expect(variablesAt(script, parsed, env, at('echo'))).toEqual({ APP_PROFILE: '/etc/apparmor.d/usr.sbin.tool', LOCAL_APP_PROFILE: '/etc/apparmor.d/local/usr.sbin.tool' });
    expect(variablesAt(script, parsed, { ...env, pathType: () => undefined }, at('echo'))).toEqual({ APP_PROFILE: '/etc/apparmor.d/usr.sbin.tool' });
    expect(variablesAt(script, parsed, { ...env, args: ['install'] }, at('echo'))).toEqual({});
    expect(guardsHold(at('install').guards, { ...env, variables: variablesAt(script, parsed, env, at('install')) })).toBe('always');
  });

  it('a name assigned several times: the last assignment before the command that surely runs', () => {
    const text = [
      '#!/bin/sh',
      'force=',
      'if [ -z "$2" ]; then',
      '  force=--force',
      '  for f in a b; do',
      '    if [ -f /etc/pam.d/$f ]; then force=; fi',
      '  done',
      'fi',
      'tool $force',
      'mode=1',
      'if [ -e /etc/maybe ] || grep -q x /etc/shipped; then mode=2; fi',
      'tool2 $mode',
      'n=0',
      'while read l; do tool3 $n; n=1; done',
      'dir=/var/lib/a',
      'tool4 $dir',
      'dir=/var/spool/b',
      'for i in $(seq 3 -1 1); do tool5 $i; done',
    ].join('\n');
    const p = commandWords(text);
    const here = (name: string) => p.commands.find((c) => c.command === name)!;
    const e: ScriptEnv = { args: ['configure', ''], variables: {}, pathType: (x) => (x === '/etc/shipped' ? 'file' : 'absent') };
    // Neither /etc/pam.d/a nor /etc/pam.d/b is there: the `force=` in the loop never runs.
    expect(variablesAt(text, p, e, here('tool')).force).toBe('--force');
    // grep's answer is not known: mode may be 1 or 2.
    expect(variablesAt(text, p, e, here('tool2')).mode).toBeUndefined();
    // A later assignment in the loop carries a value back to the next round.
    expect(variablesAt(text, p, e, here('tool3')).n).toBeUndefined();
    // Outside any loop, a later assignment does not reach back (samba's two `dir=`).
    expect(variablesAt(text, p, e, here('tool4')).dir).toBe('/var/lib/a');
  });

  it('turns the dh_apparmor snippet into a directory and an empty local profile, and a readlink of nothing into no link', () => {
    const meta: DebMetadata = { name: 'tool', version: '1', arch: 'amd64', control: [], controlFiles: { postinst: b64(script) }, conffiles: [], files: [], paths: ['etc/apparmor.d/usr.sbin.tool'], directories: [], captured: {} };
    const pt = (p: string) => (debAdapter.canonicalPath(p) === 'etc/apparmor.d/usr.sbin.tool' ? 'file' : ['', 'etc', 'etc/apparmor.d'].includes(debAdapter.canonicalPath(p)) ? 'directory' : 'absent') as 'file' | 'directory' | 'absent';
    const image: ScriptContext = { pathType: pt, pathTypeBeforeUnpack: pt, packages: [meta] };
    const r = debScriptEffects(meta, image);
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([
      { kind: 'directory', path: '/etc/apparmor.d/local', mode: 0o755, user: 'root', group: 'root' },
      { kind: 'file', path: '/etc/apparmor.d/local/usr.sbin.tool', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: false },
    ]);
  });
});

describe('config files from package templates (ucf, cp)', () => {
  const template = '# tool defaults\nport = 80\n';
  const meta = (postinst: string): DebMetadata => ({
    name: 'tool',
    version: '1',
    arch: 'amd64',
    control: [],
    controlFiles: { postinst: b64(postinst) },
    conffiles: [],
    files: [],
    paths: ['usr/share/tool/default.conf'],
    directories: [],
    captured: { 'usr/share/tool/default.conf': b64(template) },
    capturedModes: { 'usr/share/tool/default.conf': 0o640 },
  });
  const run = (postinst: string) => {
    const m = meta(postinst);
    const image: ScriptContext = { pathType, pathTypeBeforeUnpack: pathType, packages: [m] };
    return debScriptEffects(m, image);
  };

  it('ucf copies the template on a fresh install, keeping its mode; ucfr and ucf --purge change nothing', () => {
    const r = run('#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  ucf --three-way --debconf-ok /usr/share/tool/default.conf /etc/tool.conf\n  ucfr tool /etc/tool.conf\nfi\nif [ "$1" = purge ]; then ucf --purge /etc/tool.conf; fi\n');
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([{ kind: 'file', path: '/etc/tool.conf', mode: 0o640, user: 'root', group: 'root', content: b64(template), ifMissing: true }]);
  });

  it('cp -p keeps the mode, plain cp takes umask 022; a file the script made itself is reported', () => {
    expect(run('#!/bin/sh\ncp -p /usr/share/tool/default.conf /etc/a.conf\ncp /usr/share/tool/default.conf /etc/b.conf\n').effects).toEqual([
      { kind: 'file', path: '/etc/a.conf', mode: 0o640, user: 'root', group: 'root', content: b64(template), ifMissing: false },
      { kind: 'file', path: '/etc/b.conf', mode: 0o640, user: 'root', group: 'root', content: b64(template), ifMissing: false },
    ]);
    expect(run('#!/bin/sh\ntmp=$(mktemp)\necho "port = $PORT" > "$tmp"\nucf "$tmp" /etc/tool.conf\n').untranslated).toEqual([
      'postinst: ucf of a scratch file to /etc/tool.conf: its content is not known before the script runs',
    ]);
  });
});

describe('openssh-server and nginx-common, their real bookworm postinsts', () => {
  const DIR = new URL('../fixtures/deb/scripts/servers/', import.meta.url);
  const read = (name: string) => readFileSync(new URL(name, DIR), 'utf8');

  it('openssh-server: sshd_config from its template through mktemp, cp and ucf (debconf defaults skip both seds), the sshd user, no host keys', () => {
    const meta: DebMetadata = {
      name: 'openssh-server',
      version: '1:9.2p1-2+deb12u10',
      arch: 'amd64',
      control: [],
      controlFiles: { postinst: b64(read('openssh-server.postinst')), templates: b64(read('openssh-server.templates')) },
      conffiles: [],
      files: [],
      paths: ['usr/share/openssh/sshd_config', 'usr/sbin/sshd'],
      directories: [{ path: 'etc/ssh', mode: 0o755, uid: 0, gid: 0 }],
      captured: { 'usr/share/openssh/sshd_config': b64(read('openssh-server.sshd_config')) },
      capturedModes: { 'usr/share/openssh/sshd_config': 0o644 },
    };
    const pt = (p: string) => {
      const rel = debAdapter.canonicalPath(p);
      return (meta.paths.includes(rel) ? 'file' : ['', 'etc', 'etc/ssh', 'usr', 'usr/sbin', 'usr/share', 'usr/share/openssh'].includes(rel) ? 'directory' : 'absent') as 'file' | 'directory' | 'absent';
    };
    const r = debScriptEffects(meta, { pathType: pt, pathTypeBeforeUnpack: pt, packages: [meta] });
    const config = r.effects.find((e) => e.kind === 'file' && e.path === '/etc/ssh/sshd_config');
    expect(config).toEqual({ kind: 'file', path: '/etc/ssh/sshd_config', mode: 0o644, user: 'root', group: 'root', content: b64(read('openssh-server.sshd_config')), ifMissing: true });
    expect(r.effects).toContainEqual(expect.objectContaining({ kind: 'user', name: 'sshd', home: '/run/sshd', shell: '/usr/sbin/nologin', group: 'nogroup' }));
    expect(r.effects).toContainEqual(expect.objectContaining({ kind: 'left-out', tool: 'ssh-keygen' }));
    // dh_runit's runit-helper, on an image without runit: the supervise directory and the link.
    expect(r.effects).toContainEqual({ kind: 'directory', path: '/run/runit/supervise', mode: 0o755, user: 'root', group: 'root' });
    expect(r.effects).toContainEqual({ kind: 'symlink', path: '/etc/runit/runsvdir/default/ssh', target: '/etc/sv/ssh', ifMissing: true });
    // ssh.socket is only re-enabled where an earlier version was installed (debian-installed): not here.
    expect(r.untranslated.some((u) => u.includes('ssh.socket'))).toBe(false);
    // Its unit files are not part of this fixture: their enablement is reported missing here.
    expect(r.untranslated.filter((u) => !/no package in the image ships its file/.test(u))).toEqual([]);
  });

  it('nginx-common: log files owned by www-data:adm, the default site link, index page from the package', () => {
    const meta: DebMetadata = {
      name: 'nginx-common',
      version: '1.22.1-9+deb12u11',
      arch: 'all',
      control: [],
      controlFiles: { postinst: b64(read('nginx-common.postinst')) },
      conffiles: [],
      files: [],
      paths: ['usr/share/nginx/html/index.html', 'etc/nginx/sites-available/default', 'etc/init.d/nginx'],
      directories: ['etc', 'etc/nginx', 'etc/nginx/sites-enabled', 'etc/nginx/sites-available', 'var', 'var/log', 'var/log/nginx', 'var/www'].map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })),
      captured: { 'usr/share/nginx/html/index.html': b64('<html>nginx</html>\n'), 'etc/init.d/nginx': b64('### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n') },
      capturedModes: { 'usr/share/nginx/html/index.html': 0o644 },
    };
    const pt = (p: string) => {
      const rel = debAdapter.canonicalPath(p);
      return (meta.paths.includes(rel) ? 'file' : rel === '' || meta.directories.some((d) => d.path === rel) ? 'directory' : 'absent') as 'file' | 'directory' | 'absent';
    };
    const r = debScriptEffects(meta, { pathType: pt, pathTypeBeforeUnpack: pt, packages: [meta] });
    expect(r.effects).toEqual(
      expect.arrayContaining([
        { kind: 'attributes', path: '/var/log/nginx', user: 'root', group: 'adm' },
        { kind: 'attributes', path: '/var/log/nginx', mode: 0o755 },
        { kind: 'file', path: '/var/log/nginx/access.log', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true },
        { kind: 'attributes', path: '/var/log/nginx/access.log', user: 'www-data', group: 'adm' },
        { kind: 'symlink', path: '/etc/nginx/sites-enabled/default', target: '/etc/nginx/sites-available/default', ifMissing: true },
        { kind: 'file', path: '/var/www/html/index.nginx-debian.html', mode: 0o644, user: 'root', group: 'root', content: b64('<html>nginx</html>\n'), ifMissing: false },
        { kind: 'enable-initscript', name: 'nginx', text: expect.stringContaining('Default-Start') },
      ]),
    );
    expect(r.untranslated.filter((u) => !/no package in the image ships its file/.test(u))).toEqual([]);
  });
});

describe('helper functions called with arguments: procps, its real bookworm postinst', () => {
  const script = readFileSync(new URL('../fixtures/deb/scripts/servers/procps.postinst', import.meta.url), 'utf8');
  const meta = (paths: string[]): DebMetadata => ({
    name: 'procps',
    version: '2:4.0.2-3',
    arch: 'amd64',
    control: [],
    controlFiles: { postinst: b64(script) },
    conffiles: [],
    files: [],
    paths,
    directories: [],
    captured: { 'etc/init.d/procps': b64('### BEGIN INIT INFO\n# Default-Start: S\n### END INIT INFO\n') },
  });
  const effectsIn = (m: DebMetadata) => {
    const pt = (p: string) => {
      const rel = debAdapter.canonicalPath(p);
      // Paths are as dpkg records them on a merged-/usr image: /bin/ps is usr/bin/ps.
      return (m.paths.includes(rel) ? 'file' : ['', 'usr', 'usr/bin', 'etc', 'etc/init.d'].includes(rel) ? 'directory' : 'absent') as 'file' | 'directory' | 'absent';
    };
    return debScriptEffects(m, { pathType: pt, pathTypeBeforeUnpack: pt, packages: [m] });
  };

  it('binds $1… to each call: with no *.procps binaries, check_alternatives and mv_conffile do nothing, and nothing is left to report', () => {
    const r = effectsIn(meta(['usr/bin/ps', 'usr/bin/kill', 'usr/bin/uptime', 'usr/bin/w', 'etc/init.d/procps']));
    expect(r.effects.map((e) => e.kind)).toEqual(['enable-initscript']);
    expect(r.untranslated).toEqual([]);
  });

  it('an image where a call\'s guard holds gets that call\'s alternative, its words taken from the call', () => {
    const r = effectsIn(meta(['usr/bin/ps.procps', 'usr/bin/uptime', 'etc/init.d/procps']));
    expect(r.effects.filter((e) => e.kind === 'alternative')).toEqual([
      {
        kind: 'alternative',
        name: 'ps',
        link: '/bin/ps',
        path: '/bin/ps.procps',
        priority: 50,
        slaves: [{ name: 'ps.1.gz', link: '/usr/share/man/man1/ps.1.gz', path: '/usr/share/man/man1/ps.procps.1.gz' }],
      },
    ]);
    expect(r.untranslated).toEqual([]);
  });
});

describe('ldconfig', () => {
  const libc = { name: 'libc-bin', version: '2.36-9+deb12u14', arch: 'amd64', paths: ['usr/sbin/ldconfig', 'usr/lib64/ld-linux-x86-64.so.2'] };
  const ctx = (packages: { name: string; version: string; arch: string; paths: string[] }[]): ScriptContext => ({ pathType: () => 'absent', pathTypeBeforeUnpack: () => 'absent', packages });

  it('libc-bin\'s `ldconfig -r /`: one ld-cache effect with the generator of the image\'s libc-bin and its merged-/usr links', () => {
    expect(ldconfig(['-r', '/'], ctx([libc]))).toEqual({
      effects: [
        {
          kind: 'ld-cache',
          generator: 'ldconfig (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36',
          systemDirs: ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'],
          hwcapBits: expect.objectContaining({ x86_64: 1, tls: 63 }),
          rootLinks: ['bin', 'lib', 'lib32', 'lib64', 'libx32', 'sbin'].map((t) => ({ path: `/${t}`, target: `usr/${t}` })),
        },
      ],
    });
    expect(ldconfig(['--verbose', '-r', '/'], ctx([libc]))).toEqual(ldconfig([], ctx([libc])));
  });

  it('is inert for -p, and reported for other roots, directories, a missing libc-bin or an architecture not modelled', () => {
    expect(ldconfig(['-p'], ctx([libc]))).toEqual({ effects: [] });
    expect(ldconfig(['-r', '/target'], ctx([libc]))).toEqual({ unrecognized: "ldconfig -r /target: only ldconfig on the image's own root is translated" });
    expect(ldconfig(['/opt/lib'], ctx([libc]))).toEqual({ unrecognized: "ldconfig /opt/lib: only ldconfig on the image's own root is translated" });
    expect(ldconfig([], ctx([]))).toEqual({ unrecognized: 'ldconfig: libc-bin, whose ldconfig this is, is not in the image' });
    expect(ldconfig([], ctx([{ ...libc, arch: 'arm64' }]))).toEqual({ unrecognized: 'ldconfig: its directories on arm64 are not modelled' });
  });
});

describe('dash\'s real bookworm postinst: the /bin/sh diversions, through dpkg-divert\'s queries', () => {
  const script = readFileSync(new URL('../fixtures/deb/scripts/dash.postinst', import.meta.url), 'utf8');
  const meta: DebMetadata = {
    name: 'dash',
    version: '0.5.12-2',
    arch: 'amd64',
    control: [],
    controlFiles: { postinst: b64(script) },
    conffiles: [],
    files: [],
    paths: ['usr/bin/dash', 'usr/bin/sh', 'usr/share/man/man1/dash.1.gz', 'usr/share/man/man1/sh.1.gz'],
    directories: ['usr', 'usr/bin', 'usr/share', 'usr/share/man', 'usr/share/man/man1'].map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })),
    captured: {},
  };
  const pt = (p: string) => {
    const rel = debAdapter.canonicalPath(p);
    return (meta.paths.includes(rel) ? 'file' : rel === '' || meta.directories.some((d) => d.path === rel) ? 'directory' : 'absent') as 'file' | 'directory' | 'absent';
  };
  const run = (diversion: ScriptContext['diversion']) => debScriptEffects(meta, { pathType: pt, pathTypeBeforeUnpack: pt, packages: [meta], diversion });

  it('on a fresh image: both diversions, as dpkg records them for dash, and its temporary links moved into place', () => {
    const r = run(() => undefined);
    expect(r.effects.filter((e) => e.kind === 'diversion')).toEqual([
      { kind: 'diversion', path: '/bin/sh', divertTo: '/bin/sh.distrib', package: 'dash' },
      { kind: 'diversion', path: '/usr/share/man/man1/sh.1.gz', divertTo: '/usr/share/man/man1/sh.distrib.1.gz', package: 'dash' },
    ]);
    expect(r.effects).toContainEqual({ kind: 'symlink', path: '/bin/sh', target: 'dash', ifMissing: false });
    expect(r.effects).toContainEqual({ kind: 'remove', path: '/bin/sh.tmp', recursive: false });
    // `rm -f /bin/sh` (the truename) removes the packaged link; replace_with_link then finds no
    // /bin/sh to back up (its cp is skipped, as on Debian) and links it anew.
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toContainEqual({ kind: 'remove', path: '/bin/sh', recursive: false });
    expect(r.effects.some((e) => 'path' in e && e.path === '/bin/sh.distrib' && e.kind !== 'diversion')).toBe(false);
    // Removed and made again: the final layer has the new link and needs no whiteout.
    const t = translateEffects(debAdapter, [meta], 0);
    expect(t.untranslated).toEqual([]);
    expect(t.entries.filter((e) => e.path === 'usr/bin/sh' || e.path === 'bin/sh')).toEqual([{ path: 'usr/bin/sh', type: 'symlink', linkname: 'dash' }]);
  });

  it('where an earlier package diverted /bin/sh, the queries answer with it and nothing is guessed', () => {
    const r = run((p) => (p === '/bin/sh' ? { divertTo: '/bin/sh.distrib', package: 'bash' } : undefined));
    expect(r.effects.filter((e) => e.kind === 'diversion')).toEqual([
      { kind: 'diversion', path: '/usr/share/man/man1/sh.1.gz', divertTo: '/usr/share/man/man1/sh.distrib.1.gz', package: 'dash' },
    ]);
    expect(r.untranslated).toContain('postinst: dpkg-divert --remove /bin/sh: removing a diversion made earlier in the image');
  });
});

describe('update-rc.d', () => {
  const meta = { name: 'd', version: '1', arch: 'amd64', captured: { 'etc/init.d/dovecot': b64('### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n') } };
  const ctx: ScriptContext = { pathType: () => 'absent', pathTypeBeforeUnpack: () => 'absent', packages: [meta] };

  it('takes `defaults NN [NN]` as `defaults`: sequence numbers are ignored with dependency-based boot', () => {
    const plain = updateRcD(['dovecot', 'defaults'], ctx);
    expect(plain).toEqual({ effects: [{ kind: 'enable-initscript', name: 'dovecot', text: expect.stringContaining('Default-Start') }] });
    expect(updateRcD(['dovecot', 'defaults', '20'], ctx)).toEqual(plain);
    expect(updateRcD(['dovecot', 'defaults', '19', '21'], ctx)).toEqual(plain);
    expect(updateRcD(['dovecot', 'defaults', 'x'], ctx)).toEqual({ unrecognized: 'update-rc.d dovecot defaults x' });
    expect(updateRcD(['dovecot', 'disable', '2'], ctx)).toEqual({ unrecognized: 'update-rc.d dovecot disable 2' });
  });

  it('`disable` after `defaults` turns the start links into stop links and leaves the unit not enabled (apache-htcacheclean)', () => {
    const initScript = '#!/bin/sh\n### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n';
    const unit = '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n';
    const script = (lines: string[]) => ['#!/bin/sh', 'set -e', ...lines].join('\n');
    const app = (lines: string[]): DebMetadata => ({
      name: 'htc', version: '1', arch: 'amd64', control: [], controlFiles: { postinst: b64(script(lines)) }, conffiles: [], files: [],
      paths: ['etc/init.d/htc', 'usr/lib/systemd/system/htc.service'], directories: ['etc', 'etc/init.d', 'usr', 'usr/lib', 'usr/lib/systemd', 'usr/lib/systemd/system'].map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })),
      captured: { 'etc/init.d/htc': b64(initScript), 'usr/lib/systemd/system/htc.service': b64(unit) },
    });
    const both = translateEffects(debAdapter, [app(['update-rc.d htc defaults', "deb-systemd-helper enable 'htc.service'", 'update-rc.d htc disable'])], 0);
    expect(both.untranslated).toEqual([]);
    const links = both.entries.filter((e) => e.type === 'symlink').map((e) => e.path).sort();
    expect(links).toEqual(['etc/rc0.d/K01htc', 'etc/rc1.d/K01htc', 'etc/rc2.d/K01htc', 'etc/rc3.d/K01htc', 'etc/rc4.d/K01htc', 'etc/rc5.d/K01htc', 'etc/rc6.d/K01htc']);
    // Without links to toggle, update-rc.d fails: reported.
    const alone = translateEffects(debAdapter, [app(['update-rc.d htc disable'])], 0);
    expect(alone.untranslated).toEqual([{ package: 'htc', items: ['update-rc.d htc disable: the init script was not enabled before, so update-rc.d fails'] }]);
  });
});

describe('checks that end early, queries with known answers, and results left out on purpose', () => {
  const pkg = (postinst: string, extra: Partial<DebMetadata> = {}): DebMetadata => ({
    name: 'p', version: '1', arch: 'amd64', control: [], controlFiles: { postinst: b64(postinst) }, conffiles: [], files: [], paths: [], directories: [], captured: {}, ...extra,
  });
  const run = (meta: DebMetadata, others: DebMetadata[] = [], overridden = new Set<string>()) => {
    const shipped = new Set([...meta.paths, ...others.flatMap((o) => o.paths)].map((p) => `/${p}`));
    const image: ScriptContext = { pathType: (p) => (shipped.has(p) ? 'file' : p === '/etc' ? 'directory' : 'absent'), pathTypeBeforeUnpack: () => 'absent', packages: [meta, ...others], statOverridden: (p) => overridden.has(p) };
    return debScriptEffects(meta, image);
  };

  it('`[ -f X ] || return 0` guards the rest of the function; a local NAME=$2 is known in it', () => {
    const script = ['#!/bin/sh', 'rm_conffile() {', '  local PKGNAME="$1"', '  local CONFFILE="$2"', '  [ -e "$CONFFILE" ] || return 0', '  mv -f "$CONFFILE" "$CONFFILE".dpkg-bak', '}', 'rm_conffile p /etc/old.conf', '[ -x /usr/bin/absent ] || exit 0', 'mkdir /var/lib/never'].join('\n');
    expect(run(pkg(script))).toEqual({ effects: [], untranslated: [], scripts: ['postinst'] });
  });

  it("openjdk's alternatives: each round's own slave list (unset, then set only where a page exists), the priority kept for the native architecture", () => {
    // Shortened from openjdk-17-jre-headless's bookworm postinst.
    const script = [
      '#!/bin/sh',
      'priority=1711',
      'basedir=/usr/lib/jvm/j',
      'mandir=$basedir/man',
      "jre_tools='java keytool'",
      'if [ -z "$2" ]; then update_alternatives=y; fi',
      'if [ "$update_alternatives" = y ]; then',
      '  if [ "$DPKG_MAINTSCRIPT_ARCH" != $(dpkg --print-architecture) ]; then',
      '    priority=$(expr $priority - 1)',
      '  fi',
      '  for i in $jre_tools; do',
      '    unset slave1 slave2 || true',
      '    if [ -e $mandir/man1/$i.1.gz ]; then',
      '      slave1="--slave \\',
      '        /usr/share/man/man1/$i.1.gz \\',
      '        $i.1.gz \\',
      '        $mandir/man1/$i.1.gz"',
      '    fi',
      '    if false && [ -e $mandir/ja/man1/$i.1.gz ]; then slave2="--slave a b c"; fi',
      '    update-alternatives --install /usr/bin/$i $i $basedir/bin/$i $priority $slave1 $slave2',
      '  done',
      'fi',
    ].join('\n');
    const r = run(pkg(script, { paths: ['usr/lib/jvm/j/man/man1/java.1.gz'] }));
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([
      { kind: 'alternative', link: '/usr/bin/java', name: 'java', path: '/usr/lib/jvm/j/bin/java', priority: 1711, slaves: [{ link: '/usr/share/man/man1/java.1.gz', name: 'java.1.gz', path: '/usr/lib/jvm/j/man/man1/java.1.gz' }] },
      { kind: 'alternative', link: '/usr/bin/keytool', name: 'keytool', path: '/usr/lib/jvm/j/bin/keytool', priority: 1711, slaves: [] },
    ]);
    // With packages of two architectures, which is native is not known here: nothing is guessed.
    const mixed = run(pkg(script, { arch: 'arm64', paths: [] }), [pkg('#!/bin/sh\n', { name: 'native' })]);
    expect(mixed.untranslated).toEqual([
      'postinst: update-alternatives --install /usr/bin/java java /usr/lib/jvm/j/bin/java $priority',
      'postinst: update-alternatives --install /usr/bin/keytool keytool /usr/lib/jvm/j/bin/keytool $priority',
    ]);
  });

  it('`[ -e X ] || continue` skips the rest of that round; dpkg-query -S answers from the packages\' file lists', () => {
    const script = [
      '#!/bin/sh',
      'for dir in /lib64 /lib32; do',
      '  [ -e "$dir" ] || continue',
      '  if ! dpkg-query -S $dir >/dev/null 2>&1; then',
      '    rm -v "$dir"',
      '  fi',
      '  touch /var/lib/seen$dir',
      'done',
    ].join('\n');
    const owner = (files: string[]): DebMetadata => pkg('#!/bin/sh\n', { name: 'libc6', paths: ['lib64'], files });
    // /lib64 is there and a package lists it: nothing removed; /lib32 is not there: skipped.
    const owned = run(pkg(script), [owner(['/lib64', '/lib64/ld.so'])]);
    expect(owned.untranslated).toEqual([]);
    expect(owned.effects).toEqual([{ kind: 'file', path: '/var/lib/seen/lib64', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true }]);
    // Listed by no package: the script would remove it, which the translation then judges.
    expect(run(pkg(script), [owner([])]).effects[0]).toEqual({ kind: 'remove', path: '/lib64', recursive: false });
  });

  it("a $(…) pipeline of basename, dirname, sed and cat over known words gives its output, with the loop's variable (openvpn, locales)", () => {
    const script = [
      '#!/bin/sh',
      'for f in /run/sendsigs.omit.d/openvpn.*.pid; do',
      '  [ -e "$f" ] && continue',
      '  b="$(basename $f|sed \'s/openvpn\\.//\')"',
      '  echo "$b" | grep -q \'\\*\' && continue',
      '  ln -sf "/run/openvpn/$b" "/run/sendsigs.omit.d/openvpn.$b"',
      'done',
      'db_get p/selected && SELECTED=$RET',
      'SELECTED="$(echo $SELECTED | sed -e \'s/, /\\n/g\')"',
      'if [ "$SELECTED" = "All locales" ]; then ln -s /usr/share/i18n/SUPPORTED /etc/locale.gen; fi',
      'if [ "$SELECTED" = "" ]; then touch /etc/none-selected; fi',
      'two="$(echo a, b | sed -e \'s/, /\\n/g\' | cat)"',
      'if [ "$two" = "a',
      'b" ]; then touch /etc/two-lines; fi',
      'if [ "$(dirname /etc/x/y | sed s/x/z/)" = /etc/z ]; then touch /etc/dirname; fi',
    ].join('\n');
    const app: DebMetadata = {
      ...pkg(script),
      name: 'app',
      directories: ['run', 'etc'].map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })),
      controlFiles: { postinst: b64(script), templates: b64('Template: p/selected\nType: multiselect\nChoices: All locales, ${locales}\nDescription: x\n') },
    };
    const t = translateEffects(debAdapter, [app], 0);
    // No pid file: the unmatched pattern's basename still has its `*`, so that round continues.
    expect(t.untranslated).toEqual([]);
    expect(t.report.find((r) => r.package === 'app')!.effects).toEqual([
      'file /etc/none-selected 0644 root:root, 0 bytes (if absent)',
      'file /etc/two-lines 0644 root:root, 0 bytes (if absent)',
      'file /etc/dirname 0644 root:root, 0 bytes (if absent)',
    ]);
  });

  it("tomcat10's set-up: a test sees the file an earlier ucf of the same script made; chown -R of an empty packaged directory; cp -r of a packaged tree", () => {
    const script = [
      '#!/bin/sh',
      'set -e',
      'for conffile in server.xml web.xml; do',
      '  ucf --three-way /usr/share/app/etc/$conffile /etc/app/$conffile',
      '  if [ -f "/etc/app/$conffile" ]; then',
      '    chown root:4 /etc/app/$conffile',
      '    chmod 640 /etc/app/$conffile',
      '  fi',
      'done',
      'chown -Rh 1:4 /var/lib/app/webapps',
      'if [ ! -d /var/lib/app/webapps/ROOT ]; then',
      '  cp -r /usr/share/app-root/default_root /var/lib/app/webapps/ROOT',
      'fi',
    ].join('\n');
    const dirs = ['etc', 'etc/app', 'var', 'var/lib', 'var/lib/app', 'var/lib/app/webapps', 'usr', 'usr/share', 'usr/share/app-root', 'usr/share/app-root/default_root', 'usr/share/app-root/default_root/META-INF'];
    const paths = ['usr/share/app/etc/server.xml', 'usr/share/app/etc/web.xml', 'usr/share/app-root/default_root/index.html', 'usr/share/app-root/default_root/META-INF/context.xml'];
    const app: DebMetadata = {
      ...pkg(script),
      name: 'app',
      paths,
      directories: dirs.map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })),
      captured: { 'usr/share/app/etc/server.xml': b64('<Server/>\n'), 'usr/share/app/etc/web.xml': b64('<web/>\n') },
    };
    const t = translateEffects(debAdapter, [app], 0);
    expect(t.untranslated).toEqual([]);
    expect(t.report.find((r) => r.package === 'app')!.effects).toEqual([
      'file /etc/app/server.xml 0644 root:root, 10 bytes (if absent)',
      'owner/mode /etc/app/server.xml root:4',
      'owner/mode /etc/app/server.xml 0640',
      'file /etc/app/web.xml 0644 root:root, 7 bytes (if absent)',
      'owner/mode /etc/app/web.xml root:4',
      'owner/mode /etc/app/web.xml 0640',
      'owner/mode /var/lib/app/webapps 1:4',
      'directory /var/lib/app/webapps/ROOT 0755 root:root',
      'directory /var/lib/app/webapps/ROOT/META-INF 0755 root:root',
      "file /var/lib/app/webapps/ROOT/META-INF/context.xml: a copy of /usr/share/app-root/default_root/META-INF/context.xml, read from its package's layer",
      "file /var/lib/app/webapps/ROOT/index.html: a copy of /usr/share/app-root/default_root/index.html, read from its package's layer",
    ]);
    // A packaged directory with something in it is still refused under -R.
    const full: DebMetadata = { ...app, paths: [...paths, 'var/lib/app/webapps/shipped.war'] };
    expect(translateEffects(debAdapter, [full], 0).untranslated).toEqual([{ package: 'app', items: ['postinst: chown -R /var/lib/app/webapps: a packaged tree, changed file by file'] }]);
  });

  it("varnish's per-machine secret and its host-named working directory are left out, with why", () => {
    const script = [
      '#!/bin/sh',
      'set -e',
      'daemon_dir=/var/lib/varnish/$(uname -n)',
      'secret_file=/etc/varnish/secret',
      'if ! [ -d "$daemon_dir" ]; then install -o varnish -g varnish -d $daemon_dir; fi',
      'if ! [ -f "${secret_file}" ]; then',
      '  if [ -f /proc/sys/kernel/random/uuid ]; then',
      '    install -m 0600 /proc/sys/kernel/random/uuid "${secret_file}"',
      '  else',
      '    dd if=/dev/urandom count=1 bs=128 2>/dev/null | tr -dc "A-Za-z0-9" > "${secret_file}"',
      '  fi',
      'fi',
    ].join('\n');
    const r = run(pkg(script));
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([
      { kind: 'left-out', tool: 'install', reason: expect.stringContaining("named after the machine's host name") },
      { kind: 'left-out', tool: 'install', reason: expect.stringContaining('a random per-machine secret: make /etc/varnish/secret'), paths: ['/etc/varnish/secret'] },
    ]);
  });

  it("`md5sum -c` of a heredoc list answers from the files' known text (nfs-common's check for unchanged defaults)", () => {
    const shipped = 'NEED_STATD=\n';
    const script = [
      '#!/bin/sh',
      'set -e',
      'cp /usr/share/p/default /etc/default/p',
      'if ! md5sum --status --ignore-missing -c <<EOF',
      `${createHash('md5').update(shipped).digest('hex')}  /etc/default/p`,
      'fa4e0530df26499ca3940353fbfbf241  /etc/default/absent',
      'EOF',
      'then',
      '  convert-defaults',
      'fi',
    ].join('\n');
    const meta = pkg(script, { paths: ['usr/share/p/default'], captured: { 'usr/share/p/default': b64(shipped) } });
    expect(run(meta).untranslated).toEqual([]);
    const changed = pkg(script, { paths: ['usr/share/p/default'], captured: { 'usr/share/p/default': b64('NEED_STATD=yes\n') } });
    expect(run(changed).untranslated).toEqual(['postinst: convert-defaults']);
  });

  it("a shell script another package ships under /usr/share runs as a function of the caller (mysql-common's configure-symlinks), and --query answers from the choices so far", () => {
    const helper = '#!/bin/sh\nset -e\ncase "$1" in\n  install)\n    update-alternatives --install /etc/app/my.cnf my.cnf "$3" 200\n  ;;\nesac\n';
    const common: DebMetadata = { ...pkg('#!/bin/sh\n'), name: 'app-common', paths: ['usr/share/app-common/configure-symlinks'], captured: { 'usr/share/app-common/configure-symlinks': b64(helper) }, capturedModes: { 'usr/share/app-common/configure-symlinks': 0o755 } };
    const script = [
      '#!/bin/sh',
      'set -e',
      'if [ -f /usr/share/app-common/configure-symlinks ]; then',
      '  /usr/share/app-common/configure-symlinks install app "/etc/app/app.cnf"',
      'fi',
      'if ! update-alternatives --query my.cnf | grep --quiet "Value: /etc/app/app.cnf"; then',
      '  update-alternatives --install /etc/app/my.cnf my.cnf /etc/app/app.cnf 500',
      'fi',
    ].join('\n');
    const r = run(pkg(script), [common]);
    expect(r.untranslated).toEqual([]);
    // The helper's choice is the best one already, so the caller does not install it again at 500.
    expect(r.effects).toEqual([{ kind: 'alternative', link: '/etc/app/my.cnf', name: 'my.cnf', path: '/etc/app/app.cnf', priority: 200, slaves: [] }]);
    // Not executable: not a helper that can be run.
    const plain: DebMetadata = { ...common, capturedModes: { 'usr/share/app-common/configure-symlinks': 0o644 } };
    expect(run(pkg(script), [plain]).untranslated).toEqual(['postinst: configure-symlinks install app /etc/app/app.cnf']);
  });

  it("postgresql-client's man page alternatives: a library another package ships is sourced, dpkg -L lists the package, a $(…) loop builds the slaves", () => {
    // Shortened from postgresql-common's maintscripts-functions (in postgresql-client-common).
    const library = [
      '_link_manpages() {',
      '    MANS=$(unset GREP_OPTIONS; dpkg -L $3 2>/dev/null | grep -E \'/man/.*\\.[1-9](\\.gz)?$\' | grep -v "$2") || true',
      '    [ -n "$MANS" ] || return 0',
      '    SLAVES=$(for i in $MANS; do TARGET=$(echo $i | sed "s/postgresql\\/$1\\///"); echo -n " --slave $TARGET $(basename $i) $i"; done)',
      '    section=$(echo "$2" | sed -e \'s/.*\\.\\(.*\\)\\..*/man\\1/\')',
      '    case $1 in',
      '        [89]*) priority=$(echo "$1" | tr -cd 0-9) ;;',
      '        *) priority="${1}0" ;;',
      '    esac',
      '    update-alternatives --install /usr/share/man/$section/$2 $2 /usr/share/postgresql/$1/man/$section/$2 $priority $SLAVES',
      '}',
      'configure_client_version() {',
      '    _link_manpages "$1" psql.1.gz "postgresql-client-$1"',
      '}',
    ].join('\n');
    const common: DebMetadata = { ...pkg('#!/bin/sh\n'), name: 'postgresql-client-common', paths: ['usr/share/postgresql-common/maintscripts-functions'], captured: { 'usr/share/postgresql-common/maintscripts-functions': b64(library) }, capturedModes: { 'usr/share/postgresql-common/maintscripts-functions': 0o644 } };
    const script = ['#!/bin/sh', 'set -e', 'VERSION=${DPKG_MAINTSCRIPT_PACKAGE##*-}', '. /usr/share/postgresql-common/maintscripts-functions', 'if [ "$1" = configure ]; then', '    configure_client_version $VERSION "$2"', 'fi'].join('\n');
    const files = ['/.', '/usr/share/postgresql/15/man/man1/psql.1.gz', '/usr/share/postgresql/15/man/man1/pg_dump.1.gz', '/usr/share/postgresql/15/man/man7/notes.7.gz', '/usr/lib/postgresql/15/bin/psql'];
    const client: DebMetadata = { ...pkg(script), name: 'postgresql-client-15', files };
    const r = run(client, [common]);
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([
      {
        kind: 'alternative',
        link: '/usr/share/man/man1/psql.1.gz',
        name: 'psql.1.gz',
        path: '/usr/share/postgresql/15/man/man1/psql.1.gz',
        priority: 150,
        slaves: [
          { link: '/usr/share/man/man1/pg_dump.1.gz', name: 'pg_dump.1.gz', path: '/usr/share/postgresql/15/man/man1/pg_dump.1.gz' },
          { link: '/usr/share/man/man7/notes.7.gz', name: 'notes.7.gz', path: '/usr/share/postgresql/15/man/man7/notes.7.gz' },
        ],
      },
    ]);
  });

  it('`PRODUCER | while read A B` runs its body once per line of known output, with the fields bound; sort in the C locale', () => {
    const script = [
      '#!/bin/sh',
      'LC_ALL=C',
      'LIST="$(echo b-two 2; echo a-one 1; echo b-two 2)"',
      'SORTED="$(echo "$LIST" | sort -u)"',
      'echo "$SORTED" | while read name num; do',
      '  touch /etc/$num-$name',
      'done',
      'echo "$UNKNOWN" | while read x; do touch /etc/never-$x; done',
    ].join('\n');
    const r = run(pkg(script));
    expect(r.effects.filter((e) => e.kind === 'file').map((e) => (e as { path: string }).path)).toEqual(['/etc/1-a-one', '/etc/2-b-two']);
    // An input not known: the body is read once, as written, and reported.
    expect(r.untranslated).toEqual(['postinst: touch: "/etc/never-$x" is not known before the script runs']);
  });

  it("a `cd` makes relative globs and tests resolve in that directory (cron's crontabs, dpkg's misplaced alternatives)", () => {
    const script = [
      '#!/bin/sh',
      'crondir=/var/spool/cron',
      'if [ -d $crondir/crontabs ]; then',
      '  cd $crondir/crontabs',
      '  for tab_name in *; do',
      '    [ "$tab_name" = "*" ] && continue',
      '    chown "$tab_name:crontab" "$tab_name"',
      '  done',
      'fi',
      'fixup() (',
      '  admindir=${DPKG_ADMINDIR:-/var/lib/nowhere}',
      '  cd "$admindir"',
      '  for file in *; do',
      '    if ! [ -f "$file" ]; then continue; fi',
      '    mv "$file" "alternatives/$file"',
      '  done',
      ')',
      'fixup',
    ].join('\n');
    const dirs = ['var', 'var/spool', 'var/spool/cron', 'var/spool/cron/crontabs', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/info', 'var/lib/dpkg/alternatives'];
    const app: DebMetadata = { ...pkg(script), name: 'app', directories: dirs.map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })) };
    // The crontabs directory is empty, so `*` stays itself; dpkg's admin directory holds only directories.
    expect(translateEffects(debAdapter, [app], 0).untranslated).toEqual([]);
    // A file there is a round that runs: its mv is reported, with the file's name.
    const withFile: DebMetadata = { ...app, paths: ['var/lib/dpkg/pkg-alt'] };
    expect(translateEffects(debAdapter, [withFile], 0).untranslated).toEqual([{ package: 'app', items: ['postinst: mv pkg-alt alternatives/pkg-alt'] }]);
  });

  it('globs expand over the image and what scripts made; a plain exit ends the script; --remove-all of an alternative nobody installed is a no-op', () => {
    const script = [
      '#!/bin/sh',
      'LOG=/var/log/app.log',
      'touch $LOG',
      'chmod 640 ${LOG}*',
      'rm -f /etc/app/old-*',
      'update-alternatives --remove-all app-palette',
      "find /etc/app -maxdepth 1 -type d -name 'app.*.d' -empty -delete",
      'exit 0',
      'this-never-runs',
    ].join('\n');
    const app: DebMetadata = { ...pkg(script), name: 'app', paths: ['var/log/app.log.1', 'etc/app/current'], directories: ['var', 'var/log', 'etc', 'etc/app'].map((path) => ({ path, mode: 0o755, uid: 0, gid: 0 })) };
    const t = translateEffects(debAdapter, [app], 0);
    expect(t.untranslated).toEqual([]);
    // The glob matched the file touch made and the one the package ships, in sorted order.
    const report = t.report.find((r) => r.package === 'app')!;
    expect(report.effects).toEqual(['file /var/log/app.log 0644 root:root, 0 bytes (if absent)', 'owner/mode /var/log/app.log 0640', 'owner/mode /var/log/app.log.1 0640']);
    expect(t.copyUps.map((c) => c.path)).toEqual(['var/log/app.log.1']);
    // A directory the find would delete: reported.
    const withDir: DebMetadata = { ...app, directories: [...app.directories, { path: 'etc/app/app.pre.d', mode: 0o755, uid: 0, gid: 0 }] };
    expect(translateEffects(debAdapter, [withDir], 0).untranslated).toEqual([{ package: 'app', items: ["postinst: find /etc/app -maxdepth 1 -type d -name app.*.d -empty -delete"] }]);
  });

  it('python3\'s runtime hooks: the loop over a glob runs each hook found, a dh_python3 byte-compiling hook is a cache; `$filt` of filters and a value set alike twice', () => {
    const postinst = [
      '#!/bin/sh',
      'for hook in /usr/share/python3/runtime.d/*.rtupdate; do',
      '  [ -x $hook ] || continue',
      '  $hook rtupdate python3.10 python3.11',
      'done',
      "if true; then filt='cat'; else filt='fgrep -v site.py'; fi",
      'files=$(dpkg -L p | $filt)',
      'bc=no',
      'if ! grep -sq x /usr/share/python/unknown; then bc=no; fi',
      'if [ "$bc" = yes ]; then touch /var/lib/never; fi',
    ].join('\n');
    const hook = '#! /bin/sh\nset -e\nif [ "$1" = rtupdate ]; then\n\tpy3clean -p app /usr/share/app\n\tpy3compile -p app -V 3.7- /usr/share/app\nfi\n';
    const app: DebMetadata = { ...pkg('#!/bin/sh\n'), name: 'app', paths: ['usr/share/python3/runtime.d/app.rtupdate'], captured: { 'usr/share/python3/runtime.d/app.rtupdate': b64(hook) } };
    const python3: DebMetadata = { ...pkg(postinst), name: 'python3' };
    const t = translateEffects(debAdapter, [app, python3], 0);
    expect(t.untranslated).toEqual([]);
    expect(t.report.find((r) => r.package === 'python3')!.effects).toEqual([
      'left out on purpose: app.rtupdate (a python runtime hook: it byte-compiles modules for the new python, a cache Python writes itself)',
    ]);
    // A hook that does more is reported.
    const busy: DebMetadata = { ...app, captured: { 'usr/share/python3/runtime.d/app.rtupdate': b64(`${hook}rm -rf /var/cache/app\n`) } };
    expect(translateEffects(debAdapter, [busy, python3], 0).untranslated).toEqual([{ package: 'python3', items: ['postinst: app.rtupdate: a python runtime hook that runs rm'] }]);
  });

  it('a $(…) of helper calls and a loop that only echo gives its output (xz-utils\' slave list)', () => {
    const script = [
      '#!/bin/sh',
      'slave () {',
      '\tdir=$1 filename=$2 target=$3',
      '\techo "--slave $dir/$filename $filename $dir/$target"',
      '}',
      'update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(',
      '\tslave /usr/bin unlzma unxz',
      '\tfor util in cat diff',
      '\tdo',
      '\t\tslave /usr/bin lz$util xz$util',
      '\tdone',
      ')',
      'echo "$(date)" > /etc/stamp',
    ].join('\n');
    const r = run(pkg(script));
    expect(r.effects).toEqual([
      {
        kind: 'alternative', link: '/usr/bin/lzma', name: 'lzma', path: '/usr/bin/xz', priority: 20,
        slaves: ['unlzma', 'lzcat', 'lzdiff'].map((n) => ({ link: `/usr/bin/${n}`, name: n, path: `/usr/bin/${n.replace(/^lz|^unlzma$/, (m) => (m === 'lz' ? 'xz' : 'unxz'))}` })),
      },
    ]);
    // A substitution that runs anything but echo stays unknown.
    expect(r.untranslated).toEqual(['postinst: >/etc/stamp']);
  });

  it('"$@" in a helper runs the command the call names (dbus\'s in_sysroot)', () => {
    const script = ['#!/bin/sh', 'in_sysroot () {', '  if [ -z "${DPKG_ROOT:-}" ]; then', '    "$@"', '  else', '    chroot "${DPKG_ROOT}" "$@"', '  fi', '}', 'in_sysroot addgroup --system --quiet messagebus'].join('\n');
    expect(run(pkg(script))).toEqual({ effects: [{ kind: 'group', name: 'messagebus', range: { min: 100, max: 999, order: 'ascending' }, origin: 'script' }], untranslated: [], scripts: ['postinst'] });
  });

  it('`getcap F | grep -q F` is false on a fresh image (a .deb carries no capabilities), so setcap -r never runs', () => {
    const script = ['#!/bin/sh', 'if getcap /bin/ip | grep -qs "/bin/ip"; then', '  setcap -r /bin/ip', 'fi', 'if echo "a b" | grep -q "^a"; then touch /etc/yes; fi'].join('\n');
    expect(run(pkg(script, { paths: ['bin/ip'] })).untranslated).toEqual([]);
    expect(run(pkg(script, { paths: ['bin/ip'] })).effects).toEqual([{ kind: 'file', path: '/etc/yes', mode: 0o644, user: 'root', group: 'root', content: '', ifMissing: true }]);
  });

  it('dpkg-statoverride --list answers from the overrides earlier scripts made', () => {
    const script = ['#!/bin/sh', 'if ! dpkg-statoverride --list /usr/bin/man >/dev/null; then', '  chmod 0755 /usr/bin/man', 'fi'].join('\n');
    const meta = pkg(script, { paths: ['usr/bin/man'] });
    expect(run(meta).effects).toEqual([{ kind: 'attributes', path: '/usr/bin/man', mode: 0o755 }]);
    expect(run(meta, [], new Set(['/usr/bin/man'])).effects).toEqual([]);
  });

  it('rmdir of what is not there changes nothing; of a directory the script made, it is not made', () => {
    const script = ['#!/bin/sh', 'rmdir --ignore-fail-on-non-empty /etc/systemd/system/old.wants', 'mkdir /var/lib/tmpd', 'rmdir /var/lib/tmpd'].join('\n');
    expect(run(pkg(script))).toEqual({
      effects: [{ kind: 'directory', path: '/var/lib/tmpd', mode: 0o755, user: 'root', group: 'root' }, { kind: 'remove', path: '/var/lib/tmpd', recursive: false }],
      untranslated: [],
      scripts: ['postinst'],
    });
    expect(run(pkg('#!/bin/sh\nrmdir /etc\n')).untranslated).toEqual(['postinst: rmdir /etc']);
  });

  it('per-machine secrets and caches are left out, saying who makes them; /etc/machine-id is empty', () => {
    const script = ['#!/bin/sh', 'dbus-uuidgen --ensure', 'systemd-machine-id-setup', 'journalctl --update-catalog', 'setpriv --reuid man --regid man --init-groups -- /usr/bin/mandb -cq', 'python3.11 -E -S /usr/lib/python3.11/py_compile.py $files', 'glib-compile-schemas /usr/share/glib-2.0/schemas'].join('\n');
    const r = run(pkg(script));
    expect(r.untranslated).toEqual([]);
    expect(r.effects.map((e) => (e.kind === 'left-out' ? e.tool : e.kind === 'file' ? `${e.path} ${e.mode.toString(8)} ${e.content.length}` : e.kind))).toEqual(['dbus-uuidgen', '/etc/machine-id 444 0', 'journalctl', 'mandb', 'python3.11', 'glib-compile-schemas']);
    // With a schema in the image, compiling it matters: reported.
    const withSchema = pkg('#!/bin/sh\nglib-compile-schemas /usr/share/glib-2.0/schemas\n', { paths: ['usr/share/glib-2.0/schemas/org.x.gschema.xml'] });
    expect(run(withSchema).untranslated).toEqual(['postinst: glib-compile-schemas: 1 schema files in the image, and GSettings needs them compiled (not translated)']);
  });

  it('files written from heredocs and echo: created, appended, kept when an early `if … return` says so', () => {
    const script = [
      '#!/bin/sh',
      'create_hosts() {',
      '  if [ -e /etc/hosts ]; then return 0; fi',
      '  cat > /etc/hosts <<-EOF',
      '\t127.0.0.1\tlocalhost',
      '\tEOF',
      '}',
      'create_hosts',
      'echo "# interfaces(5)" > /etc/network/interfaces',
      'echo "source /etc/network/interfaces.d/*" >> /etc/network/interfaces',
      'cat <<END > /etc/modules',
      'END',
      'chmod 640 /etc/modules',
      'echo "$UNKNOWN" > /etc/unknown',
      "echo 'protocols = $protocols imap' > /etc/quoted",
      'echo x >> /etc/shipped',
    ].join('\n');
    const text = (e: { content: string }) => Buffer.from(e.content, 'base64').toString('utf8');
    const r = run(pkg(script, { paths: ['etc/shipped'] }));
    const files = r.effects.filter((e) => e.kind === 'file').map((e) => [e.path, e.mode.toString(8), text(e)]);
    expect(files).toEqual([
      ['/etc/hosts', '644', '127.0.0.1\tlocalhost\n'],
      ['/etc/network/interfaces', '644', '# interfaces(5)\n'],
      ['/etc/network/interfaces', '644', '# interfaces(5)\nsource /etc/network/interfaces.d/*\n'],
      ['/etc/modules', '644', ''],
      ['/etc/quoted', '644', 'protocols = $protocols imap\n'],
    ]);
    expect(r.effects).toContainEqual({ kind: 'attributes', path: '/etc/modules', mode: 0o640 });
    expect(r.untranslated).toEqual(['postinst: >/etc/unknown', 'postinst: >>/etc/shipped: appending to a file a package ships']);
    // A package that ships /etc/hosts: the function returns before writing.
    expect(run(pkg(script, { paths: ['etc/shipped', 'etc/hosts'] })).effects.some((e) => e.kind === 'file' && e.path === '/etc/hosts')).toBe(false);
  });

  it('systemctl enable of a template instance links the instance to the template unit', () => {
    const getty = '[Unit]\nDescription=Getty on %I\n[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n';
    const systemd = pkg('#!/bin/sh\nsystemctl enable getty@tty2.service\n', { paths: ['usr/lib/systemd/system/getty@.service'], captured: { 'usr/lib/systemd/system/getty@.service': b64(getty) } });
    const r = run(systemd);
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([{ kind: 'enable-unit', path: '/lib/systemd/system/getty@.service', text: getty, instance: 'tty2' }]);
    expect(enableUnits(r.effects as EnableUnitEffect[], new Map()).entries).toEqual([{ path: 'etc/systemd/system/getty.target.wants/getty@tty2.service', type: 'symlink', linkname: '/lib/systemd/system/getty@.service' }]);
  });
});

describe('libnss-systemd, its real bookworm scripts: a later package edits what an earlier one wrote', () => {
  const servers = (f: string) => readFileSync(new URL(`../fixtures/deb/scripts/servers/${f}`, import.meta.url), 'utf8');
  const template = servers('libc-bin.nsswitch.conf');
  const libcBin = (): DebMetadata => ({
    name: 'libc-bin', version: '2.36-9+deb12u14', arch: 'amd64', control: [['Package', 'libc-bin'], ['Essential', 'yes']],
    controlFiles: { postinst: b64(readFileSync(new URL('../fixtures/deb/scripts/libc-bin.postinst', import.meta.url), 'utf8')) },
    conffiles: [], files: [], paths: ['usr/share/libc-bin/nsswitch.conf'], directories: [], captured: { 'usr/share/libc-bin/nsswitch.conf': b64(template) },
  });
  const nss = (): DebMetadata => ({
    name: 'libnss-systemd', version: '252.39-1~deb12u2', arch: 'amd64', control: [['Package', 'libnss-systemd']],
    controlFiles: { preinst: b64(servers('libnss-systemd.preinst')), postinst: b64(servers('libnss-systemd.postinst')) },
    conffiles: [], files: [], paths: [], directories: [], captured: {},
  });

  it('libc-bin (Essential, so configured first) writes nsswitch.conf; libnss-systemd adds systemd to four databases and removes its marker', () => {
    // Layer order puts libnss-systemd first; dpkg configures the Essential set first.
    const t = translateEffects(debAdapter, [nss(), libcBin()], 0);
    expect(t.untranslated).toEqual([]);
    const conf = t.entries.find((e) => e.path === 'etc/nsswitch.conf');
    const expected = template.replace(/^(passwd|group|shadow|gshadow):(\s+)(.*)$/gm, '$1:$2$3 systemd');
    expect(expected).not.toBe(template);
    expect(conf?.content?.toString('utf8')).toBe(expected);
    expect(t.entries.some((e) => e.path.startsWith('etc/nsswitch.conf.nss'))).toBe(false);
  });

  it('without libc-bin, nsswitch.conf is not there: the postinst changes nothing and its marker stays, as dpkg would leave it', () => {
    const t = translateEffects(debAdapter, [nss()], 0);
    expect(t.untranslated).toEqual([]);
    expect(t.entries.map((e) => e.path)).toContain('etc/nsswitch.conf.nss.libnss-systemd-will-install');
    expect(t.entries.some((e) => e.path === 'etc/nsswitch.conf')).toBe(false);
  });
});

describe('debConfigureOrder', () => {
  const p = (name: string, fields: [string, string][] = []): DebMetadata => ({
    name, version: '1', arch: 'amd64', control: [['Package', name], ...fields], controlFiles: {}, conffiles: [], files: [], paths: [], directories: [], captured: {},
  });
  it('Essential first, then each package after what it (pre-)depends on, through Provides and alternatives; a cycle is broken where it is entered', () => {
    const pkgs = [
      p('libpam-systemd', [['Depends', 'libpam-runtime (>= 1.0), systemd | systemd-standalone-sysusers']]),
      p('systemd-sysusers-impl', [['Provides', 'systemd-standalone-sysusers']]),
      p('libpam-runtime', [['Pre-Depends', 'debconf']]),
      p('debconf'),
      p('libc-bin', [['Essential', 'yes']]),
      p('a', [['Depends', 'b']]),
      p('b', [['Depends', 'a']]),
    ];
    expect(debConfigureOrder(pkgs).map((x) => x.name)).toEqual(['libc-bin', 'debconf', 'libpam-runtime', 'systemd-sysusers-impl', 'libpam-systemd', 'b', 'a']);
  });
});

describe('freshCommandOutput', () => {
  it('answers getcap, stat of a known directory and seq; nothing else', () => {
    const ctx = { directory: (p: string) => (p === '/usr/local' ? { mode: 0o2775, user: 'root', group: 'staff' } : undefined) };
    expect(freshCommandOutput(['getcap', '/bin/ping'], ctx)).toBe('');
    expect(freshCommandOutput(['stat', '-L', '-c', '%a', '/usr/local'], ctx)).toBe('2775');
    expect(freshCommandOutput(['stat', '-c', '%U', '/usr/local'], ctx)).toBe('root');
    expect(freshCommandOutput(['stat', '-c', '%g', '/usr/local'], ctx)).toBeUndefined(); // staff's gid is not known here
    expect(freshCommandOutput(['stat', '-c', '%G', '/usr/local'], ctx)).toBe('staff');
    expect(freshCommandOutput(['seq', '6', '-1', '4'], ctx)).toBe('6\n5\n4\n');
    expect(freshCommandOutput(['seq', '2'], ctx)).toBe('1\n2\n');
    expect(freshCommandOutput(['uname', '-n'], ctx)).toBeUndefined();
  });
});
