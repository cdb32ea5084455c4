import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerpkg, ROOT, run, runAsync } from './helpers/cli.js';
import { podmanRun, removeImage, storageRef } from './helpers/podman.js';

/**
 * examples/debian-servers: bookworm with openssh-server and nginx, built from its committed lock
 * against the live mirror. Nothing runs inside the image while building, so the services' users,
 * configuration and runtime directories come only from translated maintainer scripts. The real
 * services' own checks judge the result, and mmdebstrap's image of the same package names (its
 * maintainer scripts really run) is the reference for accounts and alternatives.
 */
const EXAMPLE = path.join(ROOT, 'examples/debian-servers/image.toml');
const LOCK = path.join(ROOT, 'lockfiles/debian-servers.lock.json');
const TAG = 'localhost/layerpkg-servers-test:latest';
const MIRROR = 'http://deb.debian.org/debian';

interface Result {
  manifestDigest: string;
  layers: { packages: string[] }[];
  scripts: { package: string; effects: string[]; untranslated: string[] }[];
}

let work: string;
let built: Result;
let rootfs: string;
let reference: string;
const locked = (JSON.parse(readFileSync(LOCK, 'utf8')) as { architectures: { amd64: { packages: { name: string; version: string }[] } } }).architectures.amd64.packages;

/** Runs a shell script in the image as a container without systemd, no network. */
async function inImage(script: string): Promise<string> {
  const r = await podmanRun(TAG, ['sh', '-c', script]);
  return r.stdout;
}

/** The passwd lines of these users, in this order. */
function passwdLines(text: string, users: string[]): string[] {
  const lines = text.split('\n');
  return users.map((u) => lines.find((l) => l.startsWith(`${u}:`)) ?? `${u}: missing`);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-servers-'));
  reference = path.join(work, 'mmdebstrap');
  // mmdebstrap runs the real maintainer scripts (apt and dpkg in a chroot): the reference image.
  // Its merged-usr hook settles `usrmerge | usr-is-merged` as layerpkg does, so both install the
  // same packages (plain mmdebstrap would add usrmerge and perl).
  const mmdebstrap = runAsync('mmdebstrap', ['--quiet', '--variant=required', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr', '--include=openssh-server,nginx', 'bookworm', reference, MIRROR]);
  const r = await layerpkg(['build', EXAMPLE, '--lockfile', LOCK, '--cache-dir', path.join(work, 'cache'), '-o', path.join(work, 'out'), '--json']);
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = JSON.parse(r.stdout) as Result;
  run('umoci', ['unpack', '--image', `${path.join(work, 'out')}:latest`, path.join(work, 'bundle')]);
  rootfs = path.join(work, 'bundle', 'rootfs');
  await runAsync('skopeo', ['copy', `oci:${path.join(work, 'out')}:latest`, storageRef(TAG)]);
  await mmdebstrap;
});

afterAll(async () => {
  await removeImage(TAG);
  await rm(work, { recursive: true, force: true });
});

describe('examples/debian-servers: openssh-server and nginx, their scripts translated', () => {
  it('builds every locked package into a layer, with no SSH host key inside', () => {
    expect(built.layers.flatMap((l) => l.packages).sort()).toEqual(locked.map((p) => `${p.name}=${p.version}`).sort());
    expect(readdirSync(path.join(rootfs, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_'))).toEqual([]);
    const ssh = built.scripts.find((s) => s.package === 'openssh-server')!;
    expect(ssh.effects).toContain('left out on purpose: ssh-keygen (host keys are made on each machine at first start (ssh-keygen -A); an image never carries them)');
    expect(ssh.untranslated).toEqual([]);
    // The runtime directory comes from ssh.service's RuntimeDirectory=, declared for tmpfiles.
    expect(readFileSync(path.join(rootfs, 'usr/lib/tmpfiles.d/layerpkg-openssh-server.conf'), 'utf8')).toMatch(/^d \/run\/sshd 0755 /m);
  });

  it('under podman: ssh-keygen -A, then sshd -t and nginx -t pass', async () => {
    const out = await inImage('test -d /run/sshd && ssh-keygen -A >/dev/null && /usr/sbin/sshd -t && echo sshd=ok && nginx -t 2>&1 && echo nginx=ok');
    expect(out).toContain('sshd=ok');
    expect(out).toContain('nginx: configuration file /etc/nginx/nginx.conf test is successful');
    expect(out).toContain('nginx=ok');
  });

  it('has the /etc/ld.so.cache the image\'s own ldconfig writes, byte for byte, and the links it would make', async () => {
    const out = await inImage(
      'cp /etc/ld.so.cache /tmp/ours && find / -xdev -type l | sort >/tmp/links && ldconfig && cmp /etc/ld.so.cache /tmp/ours && echo cache=same && find / -xdev -type l | sort | cmp - /tmp/links && echo links=same && ldconfig -p | head -1',
    );
    expect(out).toContain('cache=same');
    expect(out).toContain('links=same');
    expect(out).toMatch(/^\d{2,} libs found in cache/m);
  });

  it('has the accounts and alternatives mmdebstrap\'s image of the same packages has', async () => {
    const theirPackages = run('dpkg-query', [`--admindir=${path.join(reference, 'var/lib/dpkg')}`, '-W', '-f', '${Package}\n']).stdout.trim().split('\n').sort();
    expect(theirPackages).toEqual(locked.map((p) => p.name).sort());
    const out = await inImage('getent passwd sshd www-data; echo ---; update-alternatives --get-selections');
    const [accounts, selections] = out.split('---\n') as [string, string];
    const expected = passwdLines(readFileSync(path.join(reference, 'etc/passwd'), 'utf8'), ['sshd', 'www-data']);
    expect(accounts.trim().split('\n')).toEqual(expected);
    expect(expected[0]).toMatch(/^sshd:x:\d+:65534::\/run\/sshd:\/usr\/sbin\/nologin$/);
    // --root: the selections are read through the image's own /etc/alternatives links.
    const theirs = run('update-alternatives', ['--root', reference, '--get-selections']).stdout;
    expect(selections).toBe(theirs);
    expect(theirs).toMatch(/^awk +auto +\/usr\/bin\/mawk$/m);
  });

  it('records dash\'s /bin/sh diversions as dpkg did in mmdebstrap\'s image', async () => {
    const theirs = readFileSync(path.join(reference, 'var/lib/dpkg/diversions'), 'utf8');
    expect(theirs).toContain('/bin/sh\n/bin/sh.distrib\ndash\n');
    expect(await inImage('cat /var/lib/dpkg/diversions')).toBe(theirs);
  });

  it('has the PAM stack pam-auth-update wrote in mmdebstrap\'s image, and su works through it', async () => {
    const files = ['etc/pam.d/common-auth', 'etc/pam.d/common-account', 'etc/pam.d/common-password', 'etc/pam.d/common-session', 'etc/pam.d/common-session-noninteractive']
      .concat(['var/lib/pam/auth', 'var/lib/pam/account', 'var/lib/pam/password', 'var/lib/pam/session', 'var/lib/pam/session-noninteractive', 'var/lib/pam/seen']);
    for (const f of files) expect({ f, text: readFileSync(path.join(rootfs, f), 'utf8') }).toEqual({ f, text: readFileSync(path.join(reference, f), 'utf8') });
    // su includes common-auth, common-account and common-session: without them it refuses.
    expect(await inImage('su -s /bin/sh www-data -c "id -u"')).toBe('33\n');
  });

  it('has the time zone, nsswitch.conf and /etc/shells mmdebstrap\'s image has (tzdata, libc-bin, debianutils)', () => {
    expect(readlinkSync(path.join(rootfs, 'etc/localtime'))).toBe(readlinkSync(path.join(reference, 'etc/localtime')));
    expect(readlinkSync(path.join(rootfs, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Etc/UTC');
    for (const f of ['etc/timezone', 'etc/nsswitch.conf', 'etc/shells']) expect({ f, text: readFileSync(path.join(rootfs, f), 'utf8') }).toEqual({ f, text: readFileSync(path.join(reference, f), 'utf8') });
  });

  it('gives ssh-agent the set-group-ID _ssh that openssh-client\'s postinst sets, as in mmdebstrap\'s image', async () => {
    // A packaged file's new owner and mode: a copy of it in the final layer.
    const ours = (await inImage('stat -c "%a %U:%G" /usr/bin/ssh-agent')).trim();
    expect(ours).toBe('2755 root:_ssh');
    const gid = readFileSync(path.join(reference, 'etc/group'), 'utf8').match(/^_ssh:x:(\d+):/m)?.[1];
    expect(run('stat', ['-c', '%a %u:%g', path.join(reference, 'usr/bin/ssh-agent')]).stdout.trim()).toBe(`2755 0:${gid}`);
    expect(await inImage('getent group _ssh | cut -d: -f3')).toBe(`${gid}\n`);
  });
});
