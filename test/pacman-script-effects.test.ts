import { describe, expect, it } from 'vitest';
import { pacmanScriptEffects } from '../adapters/pacman/scriptEffects.js';
import type { PacmanMetadata } from '../adapters/pacman/pacmanMetadata.js';

function withInstall(text: string): PacmanMetadata {
  return { name: 'p', version: '1-1', arch: 'any', pkginfo: [], files: [], backup: [], install: Buffer.from(text).toString('base64') };
}

describe('pacman .INSTALL lines listed as untranslated', () => {
  it('lists the commands of pre_install and post_install, not of the upgrade or removal functions', () => {
    const r = pacmanScriptEffects(withInstall('pre_install() {\n  mkdir -p /srv/x\n}\n\npost_install() {\n  useradd -r x\n  # comment\n}\n\npost_upgrade() {\n  post_install\n}\npre_remove() {\n  userdel x\n}\n'));
    expect(r.untranslated).toEqual(['.INSTALL pre_install: mkdir -p /srv/x', '.INSTALL post_install: useradd -r x']);
  });

  it('reads a one-line function and a body with braces in quotes', () => {
    const r = pacmanScriptEffects(withInstall('post_install() { useradd foo; echo done; }\npre_install() {\n  echo "}"; useradd bar\n}\n'));
    expect(r.untranslated).toEqual(['.INSTALL post_install: useradd foo', '.INSTALL post_install: echo done', '.INSTALL pre_install: echo "}"; useradd bar']);
  });

  it('lists every line of a file it cannot follow, so that nothing goes unreported', () => {
    const r = pacmanScriptEffects(withInstall('post_install() {\n  useradd a\n  }\nchown a /srv\n'));
    expect(r.untranslated).toEqual(['.INSTALL: post_install() {', '.INSTALL: useradd a', '.INSTALL: }', '.INSTALL: chown a /srv']);
  });
});
