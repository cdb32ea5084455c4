import { readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';

/**
 * A package from the Debian mirror, as apt's lists name it, fetched with `apt-get download` and
 * unpacked into `work`: its files under `root`, its control members (postinst, templates…) under
 * `control`. Tests take the real tools they compare with (a2enmod, update-mime, update-locale…)
 * and real maintainer scripts from here.
 */
export function downloadDebianPackage(name: string, work: string): { root: string; control: string } {
  run('apt-get', ['download', name], { cwd: work });
  const deb = readdirSync(work).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${name} left no .deb in ${work}`);
  const root = path.join(work, `${name}-root`);
  const control = path.join(work, `${name}-control`);
  run('dpkg-deb', ['-x', path.join(work, deb), root]);
  run('dpkg-deb', ['-e', path.join(work, deb), control]);
  return { root, control };
}
