import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { debScriptEffects } from '../adapters/deb/scriptEffects.js';
import type { ScriptContext } from '../adapters/types.js';
import { run } from './helpers/cli.js';
import { downloadDebianPackage } from './helpers/debianPackage.js';

/**
 * samba-common's postinst on a fresh install against the real one: bookworm's samba-common is
 * fetched from the Debian mirror (`apt-get download`) and its postinst runs with its paths under
 * a scratch root, debconf answering each question's template default (as a fresh,
 * non-interactive install does). Its seds and ucf must leave the /etc/samba/smb.conf we write.
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-samba-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let root = '';
let control = '';


beforeAll(() => {
  ({ root, control } = downloadDebianPackage('samba-common', work));
}, 120_000);

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe("samba-common's postinst", () => {
  it('writes the smb.conf the real postinst writes from the template (workgroup set, the DHCP include removed)', () => {
    const postinst = readFileSync(path.join(control, 'postinst'), 'utf8');
    const templates = readFileSync(path.join(control, 'templates'), 'utf8');
    const template = readFileSync(path.join(root, 'usr/share/samba/smb.conf'));
    const meta = {
      name: 'samba-common', version: '1', arch: 'all', control: [], conffiles: [], files: [], directories: [],
      controlFiles: { postinst: b64(postinst), templates: b64(templates) },
      paths: ['usr/share/samba/smb.conf'],
      captured: { 'usr/share/samba/smb.conf': b64(template) },
    } as unknown as DebMetadata;
    const dirs = ['/etc', '/etc/samba', '/run', '/var', '/var/log', '/var/log/samba', '/var/lib', '/var/lib/samba', '/usr', '/usr/share', '/usr/share/samba'];
    const pathType: ScriptContext['pathType'] = (p) => (p === '/usr/share/samba/smb.conf' ? 'file' : dirs.includes(p) ? 'directory' : 'absent');
    const r = debScriptEffects(meta, { pathType, pathTypeBeforeUnpack: pathType, packages: [meta], glob: () => [], globBeforeUnpack: () => [] });
    expect(r.untranslated).toEqual([]);
    const written = r.effects.filter((e) => e.kind === 'file' && e.path === '/etc/samba/smb.conf').at(-1);
    if (written?.kind !== 'file') throw new Error('no smb.conf');

    // The real postinst: paths under the scratch root, debconf's template defaults, no ucf
    // registry (a fresh install's ucf copies the new file into place).
    const scratch = path.join(work, 'scratch');
    mkdirSync(path.join(scratch, 'etc/samba'), { recursive: true });
    const defaults = Object.fromEntries(
      templates.split(/\n\n+/).flatMap((para) => {
        const name = /^Template: (.*)$/m.exec(para)?.[1];
        const value = /^Default: (.*)$/m.exec(para)?.[1] ?? '';
        return name ? [[name, value]] : [];
      }),
    );
    const stubs = [
      `db_get() { case "$1" in ${Object.entries(defaults).map(([k, v]) => `${k}) RET='${v}' ;;`).join(' ')} *) RET= ;; esac; }`,
      'db_stop() { :; }',
      `ucf() { while [ "\${1#-}" != "$1" ]; do shift; done; [ -e "$2" ] || cp -p "$1" "$2"; }`,
      'ucfr() { :; }',
    ].join('\n');
    const real = postinst
      .replace('. /usr/share/debconf/confmodule', stubs)
      .replace('TEMPDIR=/run/samba/upgrades', `TEMPDIR=${scratch}/run/samba/upgrades`)
      .replace('CONFIG=/etc/samba/smb.conf', `CONFIG=${scratch}/etc/samba/smb.conf`)
      .replaceAll('/usr/share/samba/smb.conf', path.join(root, 'usr/share/samba/smb.conf'))
      .replace('dpkg-statoverride --list /var/log/samba', 'false')
      .replace(/^\s*chmod 0750 \/var\/log\/samba$/m, ':')
      .replace(/^\s*chown root:adm \/var\/log\/samba$/m, ':');
    writeFileSync(path.join(work, 'postinst'), real);
    run('sh', [path.join(work, 'postinst'), 'configure', '']);
    const expected = readFileSync(path.join(scratch, 'etc/samba/smb.conf'), 'utf8');
    expect(Buffer.from(written.content, 'base64').toString('utf8')).toBe(expected);
    expect(expected).toMatch(/^\s*workgroup = WORKGROUP$/m);
    expect(written.mode).toBe(0o644);
  });
});
