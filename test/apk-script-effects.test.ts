import { describe, expect, it } from 'vitest';
import type { ApkMetadata } from '../adapters/apk/apkMetadata.js';
import { apkScriptEffects } from '../adapters/apk/scriptEffects.js';
import type { ScriptContext } from '../adapters/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function pkg(scripts: Record<string, string>): ApkMetadata {
  return {
    name: 'p',
    version: '1.0-r0',
    arch: 'x86_64',
    checksum: 'Q1',
    fileSize: 0,
    pkginfo: [],
    files: [],
    scripts: Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, b64(v)])),
  };
}

/** The image has /etc/init.d/sshd and the default and boot runlevels. */
function effectsOf(meta: ApkMetadata) {
  const present: Record<string, 'file' | 'directory'> = { '/etc/init.d/sshd': 'file', '/etc/runlevels/default': 'directory', '/etc/runlevels/boot': 'directory' };
  const pathType = (p: string) => present[p] ?? 'absent';
  const ctx: ScriptContext = { pathType, pathTypeBeforeUnpack: pathType, packages: [meta] };
  return apkScriptEffects(meta, ctx);
}

describe('Alpine install scripts as effects', () => {
  it('turns rc-update add into the runlevel links OpenRC makes', () => {
    const r = effectsOf(pkg({ '.post-install': '#!/bin/sh\nrc-update add sshd default boot\n' }));
    expect(r.effects).toEqual([
      { kind: 'symlink', path: '/etc/runlevels/default/sshd', target: '/etc/init.d/sshd', ifMissing: true },
      { kind: 'symlink', path: '/etc/runlevels/boot/sshd', target: '/etc/init.d/sshd', ifMissing: true },
    ]);
    expect(r.untranslated).toEqual([]);
  });

  it('reports rc-update without a runlevel, for a missing service or runlevel, and other verbs', () => {
    const r = effectsOf(pkg({ '.post-install': 'rc-update add sshd\nrc-update add nope default\nrc-update add sshd nonet\nrc-update del sshd default\nrc-service sshd restart\n' }));
    expect(r.effects).toEqual([]);
    expect(r.untranslated).toEqual([
      '.post-install: rc-update add sshd (no runlevel named; rc-update would use the running one)',
      '.post-install: rc-update add nope default (/etc/init.d/nope is not in the image)',
      '.post-install: rc-update add sshd nonet (runlevel nonet does not exist in the image)',
      '.post-install: rc-update del sshd default (only `rc-update add SERVICE RUNLEVEL…` with known words is translated)',
    ]);
  });

  it('reports sed -i, which edits a file, and passes over sed used as a filter', () => {
    const r = effectsOf(pkg({ '.post-install': 'v=$(echo x | sed s/x/y/)\nsed -i "s/a/b/" /etc/conf\nsed -ne p -i.bak /etc/conf\n' }));
    expect(r.untranslated).toEqual(['.post-install: sed -i "s/a/b/" /etc/conf', '.post-install: sed -ne p -i.bak /etc/conf']);
  });
});
