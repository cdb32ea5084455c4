import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sedInPlace } from '../adapters/shell/sedScript.js';

/**
 * sedInPlace against the real GNU sed: each script edits the same text both ways, and the
 * results must be byte-equal. The scripts are those real maintainer scripts run (libnss-systemd's
 * nsswitch.conf edits, locales' locale.gen edits, samba-common's smb.conf workgroup) plus the
 * corners of the subset (ranges, 0,/re/, negation, numbered and global s, & and \1, BRE/ERE).
 */
const work = mkdtempSync(path.join(tmpdir(), 'layerpkg-sed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NSSWITCH = `# /etc/nsswitch.conf
passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files # local only
`;
const LOCALE_GEN = `# This file lists locales that you wish to have built.
# en_US.UTF-8 UTF-8
de_DE.UTF-8 UTF-8
 fr_FR.UTF-8 UTF-8
# en_US.UTF-8 UTF-8
`;
const SMB = `[global]
   workgroup = OLD
   server string = %h
[homes]
   workgroup = keep
`;

function realSed(args: string[], text: string): string {
  const file = path.join(work, 'f');
  writeFileSync(file, text);
  const r = spawnSync('sed', [...args, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sed ${args.join(' ')}: ${r.stderr}`);
  return readFileSync(file, 'utf8');
}

const cases: [string[], string][] = [
  [['-E', '-i', '-e', '/^passwd:\\s[^#]*$/ s/$/ systemd/', '-e', '/^passwd:\\s.*#/ s/#/ systemd #/'], NSSWITCH],
  [['-E', '-i', '-e', '/^networks:\\s[^#]*$/ s/$/ systemd/', '-e', '/^networks:\\s.*#/ s/#/ systemd #/'], NSSWITCH],
  [['-i', '-e', 's/^ *[a-zA-Z]/# &/'], LOCALE_GEN],
  [['-i', '-e', '0,/^[# ]*en_US.UTF-8 UTF-8 *$/ s/^[# ]*en_US.UTF-8 UTF-8 *$/en_US.UTF-8 UTF-8/'], LOCALE_GEN],
  [['-i', '-e', 's/^\\([[:space:]]*\\)\\[global\\]/\\1\\[global\\]/I', '-e', '/^[[:space:]]*\\[global\\]/,/^[[:space:]]*\\[/ s/^\\([[:space:]]*\\)workgroup[[:space:]]*=.*/\\1workgroup = NEW/I'], SMB],
  [['-i', '/^hosts:/d'], NSSWITCH],
  [['-i', '2,4!d'], NSSWITCH],
  [['-i', '$d'], NSSWITCH],
  [['-i', '-e', 's/s/S/2'], NSSWITCH],
  [['-i', '-e', 's/s/S/g;s/files/F/'], NSSWITCH],
  [['-r', '-i', 's/(files) (dns)/\\2 \\1/'], NSSWITCH],
  [['-i', '/^group/,$ s/^/> /'], NSSWITCH],
  [['-i', '3,/^$/ s/files/x/'], NSSWITCH],
  [['-i', 's|a*|-|g'], 'baaac\n'],
  [['-i', 's/^$/EMPTY/'], 'a\n\nb'],
  [['-i', 's/a.b/X/;s/a\\.b/Y/'], 'a.b axb\n'],
  [['-i', 's/x\\{2\\}/2/;s/(y)/z/'], 'xxx (y)\n'],
];

describe('sedInPlace agrees with GNU sed', () => {
  it.each(cases)('sed %j', (args, text) => {
    const edit = sedInPlace([...args, '/etc/f']);
    if (typeof edit === 'string') throw new Error(edit);
    expect(edit.files).toEqual(['/etc/f']);
    expect(edit.apply(text)).toBe(realSed(args, text));
  });

  it('refuses what it does not model, saying what', () => {
    expect(sedInPlace(['-e', 's/a/b/', '/f'])).toBe('sed without -i');
    expect(sedInPlace(['-i.bak', 's/a/b/', '/f'])).toBe('sed -i.bak: a backup copy is not modelled');
    expect(sedInPlace(['-i', '/a/a\\text', '/f'])).toBe('sed: the command "a" is not modelled in "/a/a\\text"');
    expect(sedInPlace(['-i', 's/\\(a\\)\\1/b/', '/f'])).toMatch(/the regular expression .* is not understood/);
    expect(sedInPlace(['-n', '-i', 'p', '/f'])).toBe('sed: option -n is not understood');
  });
});
