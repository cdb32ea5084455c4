import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, makeKey, serveDir, writeAptRepo, type RepoServer } from './helpers/aptRepo.js';
import { layerpkg, run } from './helpers/cli.js';

/**
 * `layerpkg scripts`, `build --strict` and image.toml's [[users]], [[groups]] and [[paths]],
 * end to end on a signed repository served on 127.0.0.1: real base-passwd scripts and masters,
 * and a daemon package whose postinst uses the debhelper forms (adduser, deb-systemd-helper,
 * update-rc.d) plus one command nothing translates.
 */
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

let work: string;
let server: RepoServer;

const DAEMON_POSTINST = `#!/bin/sh
set -e
case "$1" in
  configure)
    adduser --system --group --home /var/lib/daemon --no-create-home daemond
    mkdir -p /var/log/daemond
    chown daemond:adm /var/log/daemond
    chmod 2750 /var/log/daemond
    ;;
  abort-upgrade)
    frobnicate --undo
    ;;
esac
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] ; then
  if [ -x "/etc/init.d/daemond" ]; then
    update-rc.d daemond defaults >/dev/null
  fi
  deb-systemd-helper unmask 'daemond.service' >/dev/null || true
  if deb-systemd-helper --quiet was-enabled 'daemond.service'; then
    deb-systemd-helper enable 'daemond.service' >/dev/null || true
  else
    deb-systemd-helper update-state 'daemond.service' >/dev/null || true
  fi
fi
frobnicate --all
exit 0
`;

const image = (extra = '') => `
[image]
name = "scripts"
architectures = ["amd64"]

[[repository]]
name = "stable"
type = "deb"
url = "${server.url}"
suite = "stable"
keyring = "keyring.gpg"

[packages]
include = ["base-passwd", "daemond"]
${extra}`;

const ACCOUNTS = `
[[groups]]
name = "ops"
members = ["builder"]

[[users]]
name = "builder"
groups = ["adm"]
gecos = "CI builder"

[[paths]]
path = "/srv/data"
type = "directory"
mode = "0750"
user = "builder"
group = "ops"
`;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-scripts-'));
  const debs = path.join(work, 'debs');
  const key = await makeKey();
  const packages = [
    buildDeb(debs, {
      name: 'base-passwd',
      version: '3.6.1',
      fields: { Priority: 'required', Essential: 'yes' },
      files: {
        'usr/share/base-passwd/passwd.master': { content: fixture('base-passwd.passwd.master') },
        'usr/share/base-passwd/group.master': { content: fixture('base-passwd.group.master') },
      },
      scripts: { preinst: fixture('base-passwd.preinst'), postinst: fixture('base-passwd.postinst') },
    }),
    buildDeb(debs, {
      name: 'daemond',
      version: '1.0-1',
      fields: { Depends: 'base-passwd' },
      files: {
        'usr/sbin/daemond': { content: '#!/bin/sh\n', mode: 0o755 },
        'lib/systemd/system/daemond.service': { content: '[Unit]\nDescription=daemon\n[Service]\nExecStart=/usr/sbin/daemond\n[Install]\nWantedBy=multi-user.target\nAlias=daemon.service\n' },
        'etc/init.d/daemond': { content: '#!/bin/sh\n### BEGIN INIT INFO\n# Provides: daemond\n# Default-Start:     2 3 4 5\n# Default-Stop:      0 1 6\n### END INIT INFO\n', mode: 0o755 },
        'var/log/.keep': { content: '' },
      },
      scripts: { postinst: DAEMON_POSTINST },
    }),
  ];
  await writeAptRepo(path.join(work, 'repo'), 'stable', packages, key);
  writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
  server = await serveDir(path.join(work, 'repo'));
  writeFileSync(path.join(work, 'image.toml'), image(ACCOUNTS));
  const locked = await layerpkg(['lock', path.join(work, 'image.toml'), '--cache-dir', path.join(work, 'cache')]);
  if (locked.status !== 0) throw new Error(locked.stderr);
});

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const imageFile = () => path.join(work, 'image.toml');
const cache = () => path.join(work, 'cache');

describe('layerpkg scripts', () => {
  it('lists, per package, the effects found and the lines left untranslated', async () => {
    const r = await layerpkg(['scripts', imageFile(), '--cache-dir', cache()]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('amd64: 2 packages with scripts, 1 fully translated (50.0 %)');
    expect(r.stdout).toContain('    + user daemond (id from 100 up, group daemond, home /var/lib/daemon, shell /usr/sbin/nologin)');
    expect(r.stdout).toContain('    + enable systemd unit /lib/systemd/system/daemond.service');
    expect(r.stdout).toContain('    + enable init script /etc/init.d/daemond');
    expect(r.stdout).toContain('    ! postinst: frobnicate --all');
    // The abort-upgrade branch never runs on a fresh install: its frobnicate is not listed.
    expect(r.stdout.match(/frobnicate/g)).toHaveLength(1);
    expect(r.stdout).toContain('  image.toml\n    + group ops (id from 1000 up)');
  });

  it('prints the same as JSON, and --strict fails on what is left', async () => {
    const json = await layerpkg(['scripts', imageFile(), '--cache-dir', cache(), '--json']);
    const report = JSON.parse(json.stdout) as Record<string, { package: string; scripts: string[]; effects: string[]; untranslated: string[] }[]>;
    const daemon = report.amd64!.find((p) => p.package === 'daemond')!;
    expect(daemon.scripts).toEqual(['postinst']);
    expect(daemon.untranslated).toEqual(['postinst: frobnicate --all']);
    const strict = await layerpkg(['scripts', imageFile(), '--cache-dir', cache(), '--strict']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/^layerpkg: error: --strict: maintainer script effects left untranslated in 1 packages: daemond \(1\); `layerpkg scripts .*image\.toml` lists them\n$/);
  });
});

describe('build', () => {
  const out = () => path.join(work, 'out');
  let rootfs: string;

  it('--strict fails before writing anything', async () => {
    const r = await layerpkg(['build', imageFile(), '--cache-dir', cache(), '-o', path.join(work, 'strict-out'), '--strict']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--strict: maintainer script effects left untranslated in 1 packages: daemond (1)');
    expect(existsSync(path.join(work, 'strict-out'))).toBe(false);
  });

  it('applies the effects and image.toml\'s accounts and paths in the final layer, and reports them in --json', async () => {
    const r = await layerpkg(['build', imageFile(), '--cache-dir', cache(), '-o', out(), '--json']);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout) as { scripts: { package: string; untranslated: string[] }[] };
    expect(result.scripts.find((s) => s.package === 'daemond')!.untranslated).toEqual(['postinst: frobnicate --all']);
    rootfs = path.join(work, 'bundle', 'rootfs');
    run('umoci', ['unpack', '--image', `${out()}:latest`, path.join(work, 'bundle')]);
    const passwd = readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^daemond:x:100:101::\/var\/lib\/daemon:\/usr\/sbin\/nologin$/m);
    // [[groups]] come first: ops takes 1000, so builder's own group takes the next free gid.
    expect(passwd).toMatch(/^builder:x:1000:1001:CI builder:\/home\/builder:\/bin\/sh$/m);
    const group = readFileSync(path.join(rootfs, 'etc/group'), 'utf8');
    expect(group).toMatch(/^adm:x:4:builder$/m);
    expect(group).toMatch(/^ops:x:1000:builder$/m);
    const log = lstatSync(path.join(rootfs, 'var/log/daemond'));
    expect([log.mode & 0o7777, log.uid, log.gid]).toEqual([0o2750, 100, 4]);
    const data = lstatSync(path.join(rootfs, 'srv/data'));
    expect([data.mode & 0o7777, data.uid, data.gid]).toEqual([0o750, 1000, 1000]);
    expect(readlinkSync(path.join(rootfs, 'etc/systemd/system/multi-user.target.wants/daemond.service'))).toBe('/lib/systemd/system/daemond.service');
    expect(readlinkSync(path.join(rootfs, 'etc/systemd/system/daemon.service'))).toBe('/lib/systemd/system/daemond.service');
    expect(readlinkSync(path.join(rootfs, 'etc/rc2.d/S01daemond'))).toBe('../init.d/daemond');
    expect(readlinkSync(path.join(rootfs, 'etc/rc6.d/K01daemond'))).toBe('../init.d/daemond');
  });

  it('a changed [[users]] needs no new lock and remakes only the final layer', async () => {
    const first = JSON.parse((await layerpkg(['build', imageFile(), '--cache-dir', cache(), '-o', out(), '--json'])).stdout) as { manifestDigest: string; layers: { cached: boolean; digest: string }[] };
    writeFileSync(imageFile(), image(ACCOUNTS.replace('CI builder', 'CI runner')));
    try {
      const r = await layerpkg(['build', imageFile(), '--cache-dir', cache(), '-o', path.join(work, 'out2'), '--json']);
      expect(r.stderr).toBe('');
      const second = JSON.parse(r.stdout) as typeof first;
      expect(second.manifestDigest).not.toBe(first.manifestDigest);
      expect(second.layers.slice(0, -1)).toEqual(first.layers.slice(0, -1));
      expect(second.layers.at(-1)!.cached).toBe(false);
      expect(second.layers.at(-1)!.digest).not.toBe(first.layers.at(-1)!.digest);
    } finally {
      writeFileSync(imageFile(), image(ACCOUNTS));
    }
  });
});

describe('image.toml accounts and paths: bad input', () => {
  const check = async (extra: string, message: RegExp) => {
    const file = path.join(work, 'bad.toml');
    writeFileSync(file, image(extra));
    const r = await layerpkg(['build', file, '--cache-dir', cache(), '-o', path.join(work, 'bad-out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(path.join(work, 'bad-out'))).toBe(false);
  };

  it('names the file and the field', async () => {
    await check('[[users]]\nname = "Bad User"\n', /bad\.toml: \[users\]\[0\]\.name: use a lower-case letter or "_" first/);
    await check('[[paths]]\npath = "/x"\ntype = "symlink"\n', /bad\.toml: \[paths\]\[0\]\.target: a symlink needs a target/);
    await check('[[paths]]\npath = "relative"\ntype = "directory"\n', /bad\.toml: \[paths\]\[0\]\.path: must be an absolute path/);
    await check('[[paths]]\npath = "/x"\ntype = "directory"\nmode = "rwx"\n', /bad\.toml: \[paths\]\[0\]\.mode: /);
    await check('[[users]]\nname = "x"\nhome = "/../etc"\n', /bad\.toml: \[users\]\[0\]\.home: must not contain "\.\."/);
  });
});
