import { describe, expect, it } from 'vitest';
import type { PacmanMetadata } from '../adapters/pacman/pacmanMetadata.js';
import { pacmanScriptEffects } from '../adapters/pacman/scriptEffects.js';
import type { ScriptContext } from '../adapters/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function pkg(name: string, install?: string, effectFiles: Record<string, string> = {}): PacmanMetadata {
  return {
    name,
    version: '1-1',
    arch: 'any',
    pkginfo: [],
    files: [],
    backup: [],
    ...(install !== undefined ? { install: b64(install) } : {}),
    effectFiles: Object.fromEntries(Object.entries(effectFiles).map(([k, v]) => [k, b64(v)])),
  };
}

/** The package alone (plus `others`) is the image; /srv exists. */
function effectsOf(meta: PacmanMetadata, others: PacmanMetadata[] = []) {
  const pathType = (p: string) => (p === '/srv' || p === '/' ? 'directory' : 'absent') as 'directory' | 'absent';
  const ctx: ScriptContext = { pathType, pathTypeBeforeUnpack: pathType, packages: [meta, ...others] };
  return pacmanScriptEffects(meta, ctx);
}

describe('pacman .INSTALL and alpm hooks as effects', () => {
  it('runs pre_install and post_install (and what they call), never the upgrade or removal functions', () => {
    const r = effectsOf(pkg('p', 'pre_install() {\n  mkdir -p /srv/x\n}\n\npost_install() {\n  add_user\n  # comment\n}\nadd_user() {\n  useradd -r -s /usr/bin/nologin x\n}\npost_upgrade() {\n  post_install\n}\npre_remove() {\n  userdel x\n}\n'));
    expect(r.untranslated).toEqual([]);
    expect(r.scripts).toEqual(['.INSTALL pre_install', '.INSTALL post_install']);
    expect(r.effects).toEqual([
      { kind: 'directory', path: '/srv/x', mode: 0o755, user: 'root', group: 'root' },
      // Its own group is implied (no `group`): made with the uid's number where free, as useradd does.
      { kind: 'user', name: 'x', gecos: '', home: '/home/x', shell: '/usr/bin/nologin', origin: 'script', range: { min: 101, max: 999, order: 'descending' } },
    ]);
  });

  it('reports what it does not translate, with the words as written, one-line bodies included', () => {
    const r = effectsOf(pkg('p', 'post_install() { fc-cache -s /usr/share/fonts; echo done; }\n'));
    expect(r.untranslated).toEqual(['.INSTALL post_install: fc-cache -s /usr/share/fonts']);
  });

  it('reports ldconfig and systemctl enable, and passes over systemctl verbs that need a running manager', () => {
    const r = effectsOf(pkg('p', 'post_install() {\n  ldconfig\n  systemctl daemon-reload\n  systemctl --quiet try-restart foo.service\n  systemctl enable foo.service\n}\n'));
    expect(r.untranslated).toEqual(['.INSTALL post_install: ldconfig', '.INSTALL post_install: systemctl enable foo.service']);
  });

  it('runs top-level code too: pacman sources the file before calling a function', () => {
    const r = effectsOf(pkg('p', 'chown nobody /srv\npost_install() {\n  true\n}\n'));
    expect(r.effects).toEqual([{ kind: 'attributes', path: '/srv', user: 'nobody' }]);
    expect(r.scripts).toEqual(['.INSTALL', '.INSTALL post_install']);
  });

  it('turns systemd-sysusers in post_install and the sysusers/tmpfiles hooks into those tools on the packages\' files', () => {
    const conf = pkg('daemon', 'post_install() {\n  systemd-sysusers daemon.conf\n}\n', {
      'usr/lib/sysusers.d/daemon.conf': 'u daemon - "Daemon"\n',
      'usr/lib/tmpfiles.d/daemon.conf': 'd /var/lib/daemon 0750 daemon daemon -\n',
    });
    expect(effectsOf(conf).effects).toEqual([{ kind: 'sysusers', file: '/usr/lib/sysusers.d/daemon.conf', text: 'u daemon - "Daemon"\n' }]);
    const systemd = pkg('systemd', undefined, {
      'usr/share/libalpm/hooks/20-systemd-sysusers.hook': '[Trigger]\nType = Path\nTarget = usr/lib/sysusers.d/*.conf\n[Action]\nWhen = PostTransaction\nExec = /usr/share/libalpm/scripts/systemd-hook sysusers\n',
      'usr/share/libalpm/hooks/35-systemd-tmpfiles.hook': '[Action]\nExec = /usr/share/libalpm/scripts/systemd-hook tmpfiles\n',
      'usr/share/libalpm/hooks/30-systemd-hwdb.hook': '[Action]\nExec = /usr/share/libalpm/scripts/systemd-hook hwdb\n',
    });
    const r = effectsOf(systemd, [conf]);
    expect(r.effects.map((e) => [e.kind, 'file' in e ? e.file : ''])).toEqual([
      ['sysusers', '/usr/lib/sysusers.d/daemon.conf'],
      ['tmpfiles', '/usr/lib/tmpfiles.d/daemon.conf'],
    ]);
    expect(r.untranslated).toEqual(['alpm hook /usr/share/libalpm/hooks/30-systemd-hwdb.hook of systemd: /usr/share/libalpm/scripts/systemd-hook hwdb']);
  });

  it('starts accounts from the files the filesystem package ships', () => {
    const r = effectsOf(pkg('filesystem', undefined, { 'etc/passwd': 'root:x:0:0::/root:/bin/bash\n', 'etc/group': 'root:x:0:root\n' }));
    expect(r.effects).toEqual([{ kind: 'account-files', passwd: 'root:x:0:0::/root:/bin/bash\n', group: 'root:x:0:root\n', shadow: undefined, gshadow: undefined }]);
  });
});
