import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { updateMime } from '../adapters/deb/updateMime.js';
import { run } from './helpers/cli.js';
import { downloadDebianPackage } from './helpers/debianPackage.js';

/**
 * update-mime against the real one: bookworm's mailcap package is fetched from the Debian mirror
 * (`apt-get download`), and its update-mime run with its fixed paths pointed at a scratch tree
 * (rewritten on the fly, nothing of it is kept). Both read the same entries, desktop files and
 * mailcap.order, and must write the same /etc/mailcap, byte for byte.
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-mime-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let pkgRoot = '';


beforeAll(() => {
  pkgRoot = downloadDebianPackage('mailcap', work).root;
}, 120_000);

// Entries as packages ship them: priorities, wildcard types, a comment, a stray priority.
const FILES: Record<string, string> = {
  'usr/lib/mime/packages/viewer': '# viewer entries\ntext/plain; less %s; needsterminal; priority=3\nimage/*; viewer %s; test=test -n "$DISPLAY"\n\napplication/pdf; viewer %s; priority=7\n',
  'usr/lib/mime/packages/editor': 'text/plain; editor %s; edit=editor %s; priority=3\ntext/*; editor %s\n*/*; hexdump %s; priority=1\n',
  'usr/lib/mime/packages/bad~': 'text/plain; never %s\n',
  'usr/share/applications/player.desktop': '[Desktop Entry]\nName=Player\nExec=player --open %U\nIcon=player\nMimeType=audio/ogg;video/ogg;;\nTerminal=false\n[Desktop Action new]\nExec=ignored\n',
  'usr/share/applications/sub/tool.desktop': '[Desktop Entry]\nExec=tool %c %i\nIcon=tool-icon\nMimeType=application/x-tool;\nTerminal=true\n',
  'usr/share/applications/editor.desktop': '[Desktop Entry]\nExec=shadowed %f\nMimeType=text/x-shadowed;\n',
  'etc/mailcap.order': '# prefer the editor for text\neditor:text/*\nviewer\n',
};

describe('update-mime', () => {
  it('writes the /etc/mailcap the real update-mime writes', () => {
    const scratch = path.join(work, 'scratch');
    for (const [rel, text] of Object.entries(FILES)) {
      mkdirSync(path.dirname(path.join(scratch, rel)), { recursive: true });
      writeFileSync(path.join(scratch, rel), text);
    }
    const template = readFileSync(path.join(pkgRoot, 'usr/lib/mime/mailcap'), 'utf8');
    mkdirSync(path.join(scratch, 'usr/lib/mime'), { recursive: true });
    writeFileSync(path.join(scratch, 'usr/lib/mime/mailcap'), template);
    // The real script, its fixed paths moved into the scratch tree.
    const real = readFileSync(path.join(pkgRoot, 'usr/sbin/update-mime'), 'utf8').replace(/"(\/etc\/(?:update-mime\.conf|mailcap(?:\.order)?)|\/usr\/lib\/mime(?:\/mailcap|\/packages)?|\/usr\/share\/applications)"/g, (_, p: string) => `"${scratch}${p}"`);
    writeFileSync(path.join(work, 'update-mime'), real);
    mkdirSync(path.join(scratch, 'etc'), { recursive: true });
    run('perl', [path.join(work, 'update-mime')]);
    const expected = readFileSync(path.join(scratch, 'etc/mailcap'), 'utf8');

    const all = { ...FILES, 'usr/lib/mime/mailcap': template };
    const meta = {
      name: 'mailcap', version: '1', arch: 'all', control: [], controlFiles: {}, conffiles: [], files: [], paths: Object.keys(all), directories: [],
      captured: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    } as unknown as DebMetadata;
    const r = updateMime(['--triggered'], [meta]);
    if (!('effects' in r)) throw new Error(JSON.stringify(r));
    const [file] = r.effects;
    expect(file).toMatchObject({ kind: 'file', path: '/etc/mailcap', mode: 0o644 });
    expect(Buffer.from((file as { content: string }).content, 'base64').toString('utf8')).toBe(expected);
    // The ordering that mattered: mailcap.order's editor entries for text/* first (in priority
    // order), then the viewer's, then the rest; the desktop files' entries; the catch-all last.
    expect(expected).toContain('###\n\ntext/*; editor %s\ntext/plain; editor %s; edit=editor %s\napplication/pdf; viewer %s\n');
    expect(expected.trimEnd().split('\n').at(-1)).toBe('*/*; hexdump %s');
  });

  it('says what it cannot do', () => {
    expect(updateMime(['--local'], [])).toEqual({ unrecognized: 'update-mime --local' });
    expect(updateMime([], [])).toEqual({ unrecognized: 'update-mime: no package in the image ships /usr/lib/mime/mailcap' });
  });
});
