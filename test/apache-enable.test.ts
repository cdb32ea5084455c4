import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apacheEnable } from '../adapters/deb/apacheEnable.js';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import type { Effect } from '../src/translate/effects.js';
import { run } from './helpers/cli.js';
import { downloadDebianPackage } from './helpers/debianPackage.js';

/**
 * a2enmod, a2enconf and a2ensite against the real tools: bookworm's apache2 package is fetched
 * from the Debian mirror (`apt-get download`), its a2enmod run with APACHE_CONFDIR and
 * APACHE_STATE_DIRECTORY pointed at a copy of its /etc/apache2, in the order apache2's postinst
 * runs them on a fresh install. The links and state markers must be the ones our recognizer
 * makes from the same *-available files.
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-apache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let root = '';

// apache2 2.4.x postinst, enable_default_* and install_default_site on a fresh install.
const MODULES = ['authz_host', 'auth_basic', 'access_compat', 'authn_file', 'authz_user', 'alias', 'dir', 'autoindex', 'env', 'mime', 'negotiation', 'setenvif', 'filter', 'deflate', 'status', 'reqtimeout'];
const CONFS = ['charset', 'localized-error-pages', 'other-vhosts-access-log', 'security', 'serve-cgi-bin'];
const CALLS: [string, string[]][] = [
  ['a2enmod', ['-m', '-q', 'mpm_event']],
  ...MODULES.map((m): [string, string[]] => ['a2enmod', ['-m', '-q', m]]),
  ...CONFS.map((c): [string, string[]] => ['a2enconf', ['-m', '-q', c]]),
  ['a2ensite', ['-q', '000-default']],
];


beforeAll(() => {
  root = downloadDebianPackage('apache2', work).root;
}, 120_000);

/** Every link under *-enabled and file under the state directory, as `path -> target` or `path`. */
function listTree(conf: string, state: string): string[] {
  const out: string[] = [];
  for (const d of ['mods-enabled', 'conf-enabled', 'sites-enabled']) {
    for (const f of readdirSync(path.join(conf, d))) out.push(`/etc/apache2/${d}/${f} -> ${readlinkSync(path.join(conf, d, f))}`);
  }
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (lstatSync(p).isDirectory()) walk(p);
      else out.push(`/var/lib/apache2/${path.relative(state, p)}`);
    }
  };
  walk(state);
  return out.sort();
}

describe('a2enmod, a2enconf, a2ensite as apache2 runs them on a fresh install', () => {
  it('give the links and state markers the real tools make', () => {
    const conf = path.join(work, 'real/etc/apache2');
    const state = path.join(work, 'real/var/lib/apache2');
    cpSync(path.join(root, 'etc/apache2'), conf, { recursive: true });
    mkdirSync(state, { recursive: true });
    const env = { ...process.env, APACHE_CONFDIR: conf, APACHE_STATE_DIRECTORY: state };
    for (const [tool, args] of CALLS) run('perl', [path.join(root, 'usr/sbin', tool), ...args], { env });
    const real = listTree(conf, state);

    // Ours: the same calls, each seeing what the ones before it made.
    const available = ['mods', 'conf', 'sites'].flatMap((d) => readdirSync(path.join(root, 'etc/apache2', `${d}-available`)).map((f) => `etc/apache2/${d}-available/${f}`));
    const captured = Object.fromEntries(available.map((p) => [p, readFileSync(path.join(root, p)).toString('base64')]));
    const meta = { name: 'apache2', version: '2.4', arch: 'amd64', control: [], controlFiles: {}, conffiles: [], files: [], paths: available, directories: [], captured } as unknown as DebMetadata;
    const effects: Effect[] = [];
    const pathType = (abs: string): 'file' | 'directory' | 'absent' => {
      const mine = effects.filter((e) => 'path' in e && e.path === abs).at(-1);
      if (mine) return mine.kind === 'directory' ? 'directory' : 'file';
      try {
        return lstatSync(path.join(root, abs)).isDirectory() ? 'directory' : 'file';
      } catch {
        return 'absent';
      }
    };
    for (const [tool, args] of CALLS) {
      const r = apacheEnable(tool, args, { pathType }, [meta]);
      if (!r || !('effects' in r)) throw new Error(`${tool} ${args.join(' ')}: ${JSON.stringify(r)}`);
      effects.push(...r.effects);
    }
    const ours = effects
      .flatMap((e) => (e.kind === 'symlink' ? [`${e.path} -> ${e.target}`] : e.kind === 'file' ? [e.path] : []))
      .sort();
    expect(ours).toEqual(real);
    // mpm_event first, and auth_basic's Depends (authn_core) enabled on the way.
    expect(real).toContain('/etc/apache2/mods-enabled/mpm_event.load -> ../mods-available/mpm_event.load');
    expect(real).toContain('/var/lib/apache2/module/enabled_by_maint/authn_core');
    expect(real).toContain('/var/lib/apache2/site/enabled_by_admin/000-default');
  });

  it('refuses what the real tool refuses: a missing module, a conflicting MPM', () => {
    const effects: Effect[] = [];
    const pathType = (abs: string): 'file' | 'directory' | 'absent' => {
      if (effects.some((e) => 'path' in e && e.path === abs)) return 'file';
      try {
        return lstatSync(path.join(root, abs)).isDirectory() ? 'directory' : 'file';
      } catch {
        return 'absent';
      }
    };
    const available = readdirSync(path.join(root, 'etc/apache2/mods-available')).map((f) => `etc/apache2/mods-available/${f}`);
    const captured = Object.fromEntries(available.map((p) => [p, readFileSync(path.join(root, p)).toString('base64')]));
    const meta = { name: 'apache2', version: '2.4', arch: 'amd64', control: [], controlFiles: {}, conffiles: [], files: [], paths: available, directories: [], captured } as unknown as DebMetadata;
    expect(apacheEnable('a2enmod', ['-q', 'no_such_module'], { pathType }, [meta])).toEqual({ unrecognized: expect.stringContaining('no /etc/apache2/mods-available/no_such_module.load') });
    const first = apacheEnable('a2enmod', ['-m', 'mpm_event'], { pathType }, [meta]);
    if (!first || !('effects' in first)) throw new Error('mpm_event');
    effects.push(...first.effects);
    expect(apacheEnable('a2enmod', ['mpm_prefork'], { pathType }, [meta])).toEqual({ unrecognized: expect.stringContaining('conflicts') });
  });
});
