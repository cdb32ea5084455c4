import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSymbolicMode } from '../adapters/symbolicMode.js';
import { chmodEffects, setcapEffects } from '../adapters/fileCommands.js';
import { changedMode } from '../src/translate/effects.js';
import { encodeCapabilities, parseCapabilities } from '../src/translate/fileCapability.js';

/**
 * Symbolic chmod modes against the real GNU chmod, and setcap's capability text against the
 * bytes the real setcap (libcap) writes to security.capability: each case runs both ways on a
 * scratch file and must agree.
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-attrs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('symbolic chmod modes, as GNU chmod applies them (umask 022)', () => {
  // The modes maintainer scripts use (iputils-ping's u±s, bind9's g+s/g+r/g+rwx) and the corners.
  const cases: [number, string][] = [
    [0o755, 'u+s'],
    [0o4755, 'u-s'],
    [0o755, 'g+s'],
    [0o640, 'g+r'],
    [0o700, 'g+rwx'],
    [0o644, 'go-r'],
    [0o777, 'o='],
    [0o644, 'a=r,u+w'],
    [0o600, '+x'],
    [0o600, '+w'],
    [0o755, '-x'],
    [0o755, '+t'],
    [0o644, 'u=rwx,g=rx,o='],
    [0o6755, 'ug-s'],
    [0o644, 'u+x-w'],
  ];
  it.each(cases)('%o with %s', (start, mode) => {
    const file = path.join(work, 'mode');
    writeFileSync(file, '');
    chmodSync(file, start);
    const r = run('sh', ['-c', `umask 022; chmod ${mode} "$1"`, 'sh', file]);
    expect(r.status, r.stderr).toBe(0);
    const change = parseSymbolicMode(mode);
    if (typeof change === 'string') throw new Error(change);
    expect(changedMode(start, change).toString(8)).toBe((statSync(file).mode & 0o7777).toString(8));
  });

  it('says what it does not model instead of guessing', () => {
    expect(parseSymbolicMode('g=u')).toMatch(/neither octal nor a symbolic mode layerpkg models/);
    expect(parseSymbolicMode('a+X')).toMatch(/neither octal nor a symbolic mode layerpkg models/);
    expect(chmodEffects(['u+q', '/etc/x'], { pathType: () => 'file' })).toEqual({ unrecognized: expect.stringContaining('u+q') });
  });

  it('takes leading zeros beyond four octal digits, as GNU chmod does (chmod 04755)', () => {
    expect(chmodEffects(['04755', '/usr/bin/x'], { pathType: () => 'file' })).toEqual({ effects: [{ kind: 'attributes', path: '/usr/bin/x', mode: 0o4755 }] });
  });
});

describe('setcap capability text, as libcap writes security.capability', () => {
  const cases = ['cap_net_raw+ep', 'cap_net_bind_service,cap_setuid=eip', 'cap_net_admin+p', 'cap_sys_admin,cap_bpf+ei', 'cap_chown=ep cap_kill=ep', 'cap_ipc_lock,cap_sys_nice=pe'];
  it.each(cases)('%s', (text) => {
    const file = path.join(work, 'cap');
    writeFileSync(file, '');
    const set = run('setcap', [text, file]);
    expect(set.status, set.stderr).toBe(0);
    // Python reads the attribute's raw bytes; getcap would only print the text back.
    const real = run('python3', ['-c', 'import os,sys;print(os.getxattr(sys.argv[1],"security.capability").hex())', file]);
    expect(real.status, real.stderr).toBe(0);
    const parsed = parseCapabilities(text);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(encodeCapabilities(parsed).toString('hex')).toBe(real.stdout.trim());
  });

  it('refuses what setcap refuses, with the reason', () => {
    const file = path.join(work, 'cap');
    writeFileSync(file, '');
    // A file has one effective bit: effective must be all of permitted and inheritable, or none.
    expect(run('setcap', ['cap_chown=p cap_kill+ep', file]).status).not.toBe(0);
    expect(parseCapabilities('cap_chown=p cap_kill+ep')).toMatch(/effective set/);
    expect(run('setcap', ['cap_nonsense+ep', file]).status).not.toBe(0);
    expect(parseCapabilities('cap_nonsense+ep')).toMatch(/not a capability name/);
  });

  it('applies to a regular file of the image only', () => {
    const dir = path.join(work, 'd');
    mkdirSync(dir, { recursive: true });
    expect(run('setcap', ['cap_net_raw+ep', dir]).status).not.toBe(0);
    expect(setcapEffects(['cap_net_raw+ep', '/usr/lib/x'], { pathType: () => 'directory' })).toEqual({ unrecognized: expect.stringContaining('not a regular file') });
    expect(setcapEffects(['cap_net_raw+ep', '/bin/ping'], { pathType: () => 'file' })).toEqual({ effects: [{ kind: 'attributes', path: '/bin/ping', capability: 'cap_net_raw+ep' }] });
    expect(setcapEffects(['-r', '/bin/ping'], { pathType: () => 'file' })).toEqual({ unrecognized: expect.stringContaining('only CAPS FILE pairs') });
  });
});
