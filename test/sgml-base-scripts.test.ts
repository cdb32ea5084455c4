import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { updateCatalog } from '../adapters/deb/updateCatalog.js';
import { recognizeUsrLocal } from '../adapters/deb/usrLocalSnippet.js';
import { commandWords } from '../adapters/shell/shellCommands.js';
import { run } from './helpers/cli.js';
import { downloadDebianPackage } from './helpers/debianPackage.js';

/**
 * sgml-base's postinst against the real thing: bookworm's sgml-base is fetched from the Debian
 * mirror (`apt-get download`). Its dh_usrlocal snippet runs for real with its data lines moved
 * under a scratch root, and its update-catalog runs with /etc/sgml and /var/lib/sgml-base moved
 * there too (rewritten on the fly, nothing of either is kept); our effects must match.
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-sgml-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let pkg = '';
let control = '';


beforeAll(() => {
  ({ root: pkg, control } = downloadDebianPackage('sgml-base', work));
}, 120_000);

const typeIn = (root: string) => (abs: string): 'file' | 'directory' | 'absent' => {
  try {
    return lstatSync(path.join(root, abs)).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'absent';
  }
};

describe("sgml-base's postinst", () => {
  it.each([false, true])('dh_usrlocal snippet: the directories the real one makes (staff-group-for-usr-local: %s)', (staff) => {
    const postinst = readFileSync(path.join(control, 'postinst'), 'utf8');
    const root = path.join(work, `usrlocal-${staff}`);
    mkdirSync(path.join(root, 'usr/local/share'), { recursive: true });
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    if (staff) writeFileSync(path.join(root, 'etc/staff-group-for-usr-local'), '');
    // The snippet itself, its paths under the scratch root.
    const lines = postinst.split('\n');
    const from = lines.findIndex((l) => l.trim() === '(' && lines[lines.indexOf(l) + 1]?.trim() === 'default_mode=0755');
    const to = lines.indexOf('DATA', from + 1);
    const snippet = lines
      .slice(from, to + 1)
      .map((l) => l.replace(/^\/usr\/local/, `${root}/usr/local`).replace('/etc/staff-group-for-usr-local', `${root}/etc/staff-group-for-usr-local`))
      .join('\n');
    // Ours first, on the tree as the snippet finds it.
    const block = recognizeUsrLocal(postinst, commandWords(postinst), { pathType: typeIn(root) });
    expect(block).toBeDefined();
    const ours = block!.effects.map((e) => `${e.path} ${(e as { mode: number }).mode.toString(8)} ${(e as { group: string }).group}`).sort();
    run('sh', ['-c', `umask 022\n${snippet}`]);
    const made: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir).sort()) {
        const p = path.join(dir, f);
        if (!lstatSync(p).isDirectory()) continue;
        const st = lstatSync(p);
        if (p !== path.join(root, 'usr/local/share')) made.push(`/${path.relative(root, p)} ${(st.mode & 0o7777).toString(8)} ${st.gid === 0 ? 'root' : 'staff'}`);
        walk(p);
      }
    };
    walk(path.join(root, 'usr/local'));

    expect(ours).toEqual(made.sort());
    expect(ours).toContain(staff ? '/usr/local/share/sgml 2775 staff' : '/usr/local/share/sgml 755 root');
  });

  it('update-catalog --update-super: the super catalog the real one writes, a catalog with a missing reference left out', () => {
    const root = path.join(work, 'catalogs');
    const files: Record<string, string> = {
      'etc/sgml/good.cat': 'CATALOG "/usr/share/sgml/good/catalog"\n-- a comment --\n',
      'etc/sgml/relative.cat': 'BASE "/usr/share/sgml/rel"\nCATALOG catalog\n',
      'etc/sgml/broken.cat': 'CATALOG /usr/share/sgml/missing/catalog\n',
      'etc/sgml/.hidden.cat': 'CATALOG /usr/share/sgml/good/catalog\n',
      'usr/share/sgml/good/catalog': '',
      'usr/share/sgml/rel/catalog': '',
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    mkdirSync(path.join(root, 'var/lib/sgml-base'), { recursive: true });
    const script = readFileSync(path.join(pkg, 'usr/sbin/update-catalog'), 'utf8')
      .replace(/"\/etc\/sgml"/g, `"${root}/etc/sgml"`)
      .replace(/"\/var\/lib\/sgml-base\/supercatalog"/g, `"${root}/var/lib/sgml-base/supercatalog"`);
    writeFileSync(path.join(work, 'update-catalog'), script);
    // Its CATALOG references are absolute: point them into the scratch root as well.
    for (const rel of Object.keys(files).filter((f) => f.endsWith('.cat'))) {
      writeFileSync(path.join(root, rel), files[rel]!.replace(/\/usr\/share/g, `${root}/usr/share`));
    }
    run('perl', [path.join(work, 'update-catalog'), '--quiet', '--update-super']);
    const real = readFileSync(path.join(root, 'var/lib/sgml-base/supercatalog'), 'utf8').replaceAll(root, '');

    const meta = {
      name: 'cats', version: '1', arch: 'all', control: [], controlFiles: {}, conffiles: [], files: [], paths: Object.keys(files), directories: [],
      captured: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    } as unknown as DebMetadata;
    const r = updateCatalog(['--quiet', '--update-super'], { pathType: (abs) => (Object.hasOwn(files, abs.slice(1)) ? 'file' : 'absent') }, [meta]);
    if (!('effects' in r)) throw new Error(JSON.stringify(r));
    expect(Buffer.from((r.effects[0] as { content: string }).content, 'base64').toString('utf8')).toBe(real);
    expect(real).toContain('CATALOG /etc/sgml/good.cat\nCATALOG /etc/sgml/relative.cat\n');
    expect(real).not.toContain('broken');
    expect(updateCatalog(['--add', '/etc/sgml/x.cat', '/y'], { pathType: () => 'absent' }, [meta])).toEqual({ unrecognized: 'update-catalog --add /etc/sgml/x.cat /y' });
  });
});
