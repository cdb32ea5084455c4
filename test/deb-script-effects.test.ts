import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { debAdapter } from '../adapters/deb/index.js';
import { debScriptEffects } from '../adapters/deb/scriptEffects.js';
import type { ScriptContext, ScriptEffects } from '../adapters/types.js';
import { commandWords, type ShellScript } from '../adapters/shell/shellCommands.js';

// Real bookworm maintainer scripts; see fixtures/deb/scripts/PROVENANCE.md.
const DIR = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const names = (s: ShellScript): string[] => [...new Set(s.commands.map((c) => c.command))].sort();
const wordsOf = (script: string): string[] => names(commandWords(script));

function debPackage(name: string, scripts: Record<string, string>, captured: Record<string, string> = {}, paths: string[] = []): DebMetadata {
  const controlFiles = Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, b64(v)]));
  const capturedB64 = Object.fromEntries(Object.entries(captured).map(([k, v]) => [k, b64(v)]));
  return { name, version: '0', arch: 'amd64', control: [], controlFiles, conffiles: [], files: [], paths, directories: [], captured: capturedB64 };
}

/** A package built from the fixtures named <name>.preinst / <name>.postinst. */
function fixturePackage(name: string, captured: Record<string, string> = {}, paths: string[] = []): DebMetadata {
  const scripts: Record<string, string> = {};
  for (const s of ['preinst', 'postinst']) {
    try {
      scripts[s] = fixture(`${name}.${s}`);
    } catch {
      // the package has no such script
    }
  }
  return debPackage(name, scripts, captured, paths);
}

/** debScriptEffects with the package alone as the image: its paths are all a script can see. */
function effectsOf(meta: DebMetadata, others: DebMetadata[] = []): ScriptEffects {
  const all = [meta, ...others];
  const files = new Set(all.flatMap((m) => m.paths));
  const dirs = new Set(all.flatMap((m) => [...m.directories.map((d) => d.path), ...m.paths.flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/')))]));
  const pathType = (abs: string) => {
    const rel = debAdapter.canonicalPath(abs);
    return rel === '' || dirs.has(rel) ? 'directory' : files.has(rel) ? 'file' : 'absent';
  };
  // Fixture packages ship nothing a preinst would see differently; no earlier script diverted anything.
  const ctx: ScriptContext = { pathType, pathTypeBeforeUnpack: pathType, packages: all, diversion: () => undefined };
  return debScriptEffects(meta, ctx);
}

const BASE_PASSWD_MASTERS = {
  'usr/share/base-passwd/passwd.master': fixture('base-passwd.passwd.master'),
  'usr/share/base-passwd/group.master': fixture('base-passwd.group.master'),
};

/** Stand-ins for base-files' defaults (only their flow into the effects matters here). */
const BASE_FILES_DEFAULTS = Object.fromEntries(
  ['dot.profile', 'dot.bashrc', 'profile', 'motd', 'info.dir'].map((n) => [`usr/share/base-files/${n}`, `default ${n}\n`]),
);
/** The shipped origin the origins/default link needs. */
const BASE_FILES_PATHS = ['etc/dpkg/origins/debian', 'etc/os-release'];
const baseFiles = (): DebMetadata => fixturePackage('base-files', BASE_FILES_DEFAULTS, BASE_FILES_PATHS);

describe('commandWords: shell syntax', () => {
  it('skips heredoc bodies for every delimiter form, keeping the body', () => {
    const script = [
      'cat <<EOF', 'not a command', 'EOF',
      'cat <<-EOF', '\tnot2 either', '\tEOF',
      "cat <<'EOF'", '$(not3)', 'EOF',
      'cat << "END" > /etc/x', 'not4', 'END',
      'after',
    ].join('\n');
    const s = commandWords(script);
    expect(names(s)).toEqual(['after', 'cat']);
    expect(s.commands.find((c) => c.command === 'after')?.line).toBe(13);
    expect(s.commands.map((c) => c.redirects.find((r) => r.heredoc)?.heredoc)).toEqual([
      { body: 'not a command\n', expands: true },
      { body: 'not2 either\n', expands: true },
      { body: '$(not3)\n', expands: false },
      { body: 'not4\n', expands: false },
      undefined,
    ]);
    expect(s.writes.map((w) => w.target)).toEqual(['/etc/x']);
  });

  it('finds command substitutions inside an expanding heredoc, and two heredocs on one line', () => {
    const s = commandWords('cat <<A; cat <<B\nnow: $(date)\nA\n`uname`\nB\nnext\n');
    expect(names(s)).toEqual(['cat', 'date', 'next', 'uname']);
  });

  it('does not take words in quotes, comments or case patterns as commands', () => {
    const script = `
# comment: rm -rf /
echo "rm -rf / ; reboot" 'halt; poweroff' foo#bar # trailing
case "$1" in
  (configure) first ;;
  abort-upgrade|\\
  abort-remove)
    second
    ;;
  N*|n*) third;;
  \\#*|"") fourth
esac
case $x in *) fifth
esac
`;
    expect(wordsOf(script)).toEqual(['echo', 'fifth', 'first', 'fourth', 'second', 'third']);
  });

  it('finds commands in $(…), `…`, $((…)), subshells, groups, pipelines and lists', () => {
    const script = [
      'v=$(($(one "$1" | two) + 1))',
      'w="$(three "$(four)")" x=`five \\`six\\``',
      '( seven || eight ) && { nine; } | ten & eleven',
      '! twelve; if thirteen; then fourteen; elif fifteen; then :; else sixteen; fi',
      'while seventeen; do eighteen; done; until nineteen; do break; done',
      'for f in not-a-command $(twenty); do twentyone; done',
      'echo "escaped \\`not22\\` and $(twentytwo)" >&2',
      '< /etc/input twentythree -x',
      'FOO=1 BAR="$(twentyfour)" twentyfive arg',
    ].join('\n');
    const s = commandWords(script);
    expect(names(s)).toEqual([
      ':', 'break', 'echo', 'eight', 'eighteen', 'eleven', 'fifteen', 'five', 'four', 'fourteen', 'nine', 'nineteen',
      'one', 'seven', 'seventeen', 'six', 'sixteen', 'ten', 'thirteen', 'three', 'twelve', 'twenty', 'twentyfive',
      'twentyfour', 'twentyone', 'twentythree', 'twentytwo', 'two',
    ]);
    expect(s.commands.find((c) => c.command === 'twentythree')).toMatchObject({ args: ['-x'], redirects: [{ op: '<', target: '/etc/input' }] });
    expect(s.commands.find((c) => c.command === 'twentyfive')?.args).toEqual(['arg']);
    expect(s.assignments.map((a) => a.name)).toEqual(['v', 'w', 'x', 'FOO', 'BAR']);
    expect(s.writes).toEqual([]); // >&2 duplicates a descriptor
  });

  it('knows reserved words right after a compound command', () => {
    const s = commandWords('if (a) then b; fi\nfor x in y; do if c; then d; fi done\n{ e; } >/tmp/f\n');
    expect(names(s)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(s.writes.map((w) => w.target)).toEqual(['/tmp/f']);
  });

  it('records function definitions and which function each command is in', () => {
    const script = [
      'one() {', '  a', '}',
      'two()', '(', '  b', ')',
      'function three { c; }',
      '  four () { d "$(e)"; }',
      'one; f',
    ].join('\n');
    const s = commandWords(script);
    expect(s.functions).toEqual(['one', 'two', 'three', 'four']);
    const fnOf = Object.fromEntries(s.commands.map((c) => [c.command, c.function ?? null]));
    expect(fnOf).toEqual({ a: 'one', b: 'two', c: 'three', d: 'four', e: 'four', one: null, f: null });
  });

  it('marks commands named by an expansion as dynamic', () => {
    const s = commandWords('$idl stop\n"$DPKG_ROOT/usr/bin/x" y\nplain\n');
    expect(s.commands.map((c) => [c.command, c.dynamic])).toEqual([['$idl', true], ['$DPKG_ROOT/usr/bin/x', true], ['plain', false]]);
  });

  it('keeps quoted words intact across lines and continuations', () => {
    const s = commandWords("awk '{ print $1 }\n  END { x }' file\nsed -e 's/a/b/' \\\n  -e 's/c/d/'\n");
    expect(s.commands.map((c) => [c.command, c.args, c.line])).toEqual([
      ['awk', ['{ print $1 }\n  END { x }', 'file'], 1],
      ['sed', ['-e', 's/a/b/', '-e', 's/c/d/'], 3],
    ]);
  });
});

describe('commandWords: real bookworm scripts', () => {
  it('mawk.postinst runs only update-alternatives (and set/[)', () => {
    const s = commandWords(fixture('mawk.postinst'));
    expect(names(s)).toEqual(['[', 'set', 'update-alternatives']);
    const ua = s.commands.find((c) => c.command === 'update-alternatives');
    expect(ua?.line).toBe(5);
    expect(ua?.args.slice(0, 5)).toEqual(['--install', '/usr/bin/awk', 'awk', '/usr/bin/mawk', '5']);
    expect(ua?.args).toHaveLength(17);
  });

  it('base-passwd.preinst: heredoc lines are data, not commands', () => {
    const s = commandWords(fixture('base-passwd.preinst'));
    expect(names(s)).toEqual(['[', 'cat', 'exit', 'set']);
    const inBodies = s.commands.filter((c) => (c.line >= 7 && c.line <= 24) || (c.line >= 30 && c.line <= 67));
    expect(inBodies).toEqual([]);
    const bodies = s.commands.flatMap((c) => c.redirects.flatMap((r) => (r.heredoc ? [r.heredoc.body] : [])));
    // The preinst's accounts are the master files, byte for byte.
    expect(bodies).toEqual([fixture('base-passwd.passwd.master'), fixture('base-passwd.group.master')]);
  });

  it('base-passwd.postinst: echoed text and heredocs are not commands', () => {
    expect(wordsOf(fixture('base-passwd.postinst'))).toEqual([
      '.', ':', '[', 'askyesno', 'break', 'cat', 'cp', 'db_version', 'echo', 'exit', 'mktemp', 'nscd', 'printf',
      'read', 'return', 'rm', 'searchpath', 'set', 'tr', 'true', 'update-passwd',
    ]);
  });

  it('libc6.preinst: case patterns and $(( $(…) )) are handled', () => {
    const words = wordsOf(fixture('libc6.preinst'));
    expect(words).toEqual([
      '.', '[', 'busctl', 'command', 'cut', 'db_fset', 'db_get', 'db_go', 'db_input', 'db_reset', 'db_stop',
      'db_subst', 'db_version', 'dpkg', 'dpkg-query', 'echo', 'exit', 'export', 'grep', 'invoke-rc.d', 'ischroot',
      'kernel_compare_versions', 'ln', 'mkdir', 'perl', 'read', 'readlink', 'rm', 'sed', 'set', 'systemctl', 'test',
      'touch', 'tr', 'true', 'uname',
    ]);
    const s = commandWords(fixture('libc6.preinst'));
    expect(s.commands.find((c) => c.command === 'perl')).toMatchObject({ args: ['-e', ''], line: 18 });
    expect(s.commands.find((c) => c.command === 'busctl')?.line).toBe(301);
    expect(s.commands.find((c) => c.command === 'touch')?.line).toBe(311);
  });

  it('dpkg.postinst: case labels are not commands; a function body may be a subshell', () => {
    const s = commandWords(fixture('dpkg.postinst'));
    expect(names(s)).toEqual([
      '.', '[', 'break', 'cd', 'check_merged_usr_via_aliased_dirs', 'continue', 'deb-systemd-helper',
      'deb-systemd-invoke', 'echo', 'error', 'exit', 'fixup_misplaced_alternatives', 'get_vendor', 'head', 'local',
      'mv', 'readlink', 'return', 'sed', 'set', 'setup_colors', 'systemctl', 'tr', 'true', 'warning',
    ]);
    expect(s.functions).toEqual(['get_vendor', 'check_merged_usr_via_aliased_dirs', 'fixup_misplaced_alternatives']);
    expect(s.commands.find((c) => c.command === 'mv')).toMatchObject({ line: 89, function: 'fixup_misplaced_alternatives' });
  });

  it('passwd.postinst: the heredoc (with its ``…`` quotes) runs nothing', () => {
    const s = commandWords(fixture('passwd.postinst'));
    expect(names(s)).toEqual([
      '[', 'cat', 'command', 'dpkg-maintscript-helper', 'exit', 'getent', 'grep', 'groupadd', 'set', 'shadowconfig',
      'systemd-tmpfiles', 'true',
    ]);
    expect(s.commands.find((c) => c.command === 'groupadd')?.line).toBe(9);
    expect(s.commands.find((c) => c.command === 'shadowconfig')).toMatchObject({ args: ['on'], line: 26 });
  });

  it('adduser.preinst: hashes in a continued string are not commands', () => {
    expect(wordsOf(fixture('adduser.preinst'))).toEqual([
      '[', 'break', 'create_adduser_conf', 'dpkg', 'grep', 'mv', 'printf', 'return', 'sed', 'set', 'sha512sum',
    ]);
  });

  it('terminates on malformed input (unterminated quotes, stray parens, cut-off scripts)', () => {
    const bits = ['a', ' ', '\n', '"', "'", '`', '$', '(', ')', '{', '}', '\\', '<<', 'EOF', ';', ';;', '|', '&', '#', 'case', 'in', 'esac', 'for', 'do', 'done', 'if', 'fi', '$(', '$((', '${', '>', 'x=', 'function', '[['];
    let seed = 42;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 5000; i++) commandWords(Array.from({ length: rnd(50) }, () => bits[rnd(bits.length)]).join(''));
    const text = fixture('libc6.preinst');
    for (let k = 0; k < text.length; k += 53) commandWords(text.slice(0, k));
  });

  it('every fixture parses without stray words', () => {
    for (const f of readdirSync(DIR).filter((n) => /\.(pre|post)inst$/.test(n))) {
      for (const c of commandWords(fixture(f)).commands) {
        expect(c.command, `${f}:${c.line}`).toMatch(/^([.:[]|\$\w+|[A-Za-z_][\w.+-]*)$/);
      }
    }
  });
});

describe('debScriptEffects on real bookworm scripts', () => {
  it('recognizes the mawk alternative and reports nothing else', () => {
    const r = effectsOf(fixturePackage('mawk'));
    expect(r.untranslated).toEqual([]);
    expect(r.effects).toEqual([
      {
        kind: 'alternative',
        link: '/usr/bin/awk',
        name: 'awk',
        path: '/usr/bin/mawk',
        priority: 5,
        slaves: [
          { link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' },
          { link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/mawk' },
          { link: '/usr/share/man/man1/nawk.1.gz', name: 'nawk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' },
        ],
      },
    ]);
  });

  it('seeds base-passwd accounts once, from the preinst heredocs', () => {
    const r = effectsOf(fixturePackage('base-passwd', BASE_PASSWD_MASTERS));
    const users = r.effects.filter((e) => e.kind === 'user');
    const groups = r.effects.filter((e) => e.kind === 'group');
    expect(users).toHaveLength(18);
    expect(groups).toHaveLength(38);
    expect(users[0]).toEqual({ kind: 'user', name: 'root', password: '*', uid: 0, group: 0, gecos: 'root', home: '/root', shell: '/bin/bash', origin: 'base' });
    expect(groups.find((g) => g.kind === 'group' && g.name === 'shadow')).toMatchObject({ gid: 42, members: [] });
    // The restore of /etc/passwd.org and update-passwd run only on upgrades: nothing is left.
    expect(r.untranslated).toEqual([]);
  });

  it('seeds the same accounts from the postinst copy of the masters', () => {
    const both = effectsOf(fixturePackage('base-passwd', BASE_PASSWD_MASTERS));
    const postinstOnly = effectsOf(debPackage('base-passwd', { postinst: fixture('base-passwd.postinst') }, BASE_PASSWD_MASTERS));
    expect(postinstOnly.effects).toEqual(both.effects);
    // Without the captured masters, the copy is not understood and is reported.
    const blind = effectsOf(debPackage('base-passwd', { postinst: fixture('base-passwd.postinst') }));
    expect(blind.effects).toEqual([]);
    expect(blind.untranslated).toEqual(['postinst: cp /usr/share/base-passwd/group.master /etc/group', 'postinst: cp /usr/share/base-passwd/passwd.master /etc/passwd']);
  });

  it('recognizes update-ca-certificates and the conf it writes', () => {
    const r = effectsOf(fixturePackage('ca-certificates', { 'usr/share/ca-certificates/mozilla/X.crt': 'PEM' }));
    expect(r.effects).toEqual([{ kind: 'ca-bundle', certificates: [{ relPath: 'mozilla/X.crt', base64: Buffer.from('PEM').toString('base64') }] }]);
    expect(r.untranslated.join()).not.toMatch(/>\/etc\/ca-certificates\.conf(,|$)/);
  });

  it('translates base-files\' fresh-install layout from its helper functions', () => {
    const r = effectsOf(baseFiles());
    expect(r.untranslated).toEqual([]);
    const root = { user: 'root', group: 'root' };
    const dflt = (name: string, path: string) => ({ kind: 'file', path, mode: 0o644, ...root, content: b64(`default ${name}\n`), ifMissing: true });
    const dir = (path: string, mode = 0o755, group = 'root') => ({ kind: 'directory', path, mode, user: 'root', group });
    const log = (path: string, mode: number) => ({ kind: 'file', path, mode, user: 'root', group: 'utmp', content: '', ifMissing: true });
    expect(r.effects).toEqual([
      { kind: 'symlink', path: '/etc/dpkg/origins/default', target: 'debian', ifMissing: true },
      dflt('dot.profile', '/root/.profile'),
      dflt('dot.bashrc', '/root/.bashrc'),
      dflt('profile', '/etc/profile'),
      dflt('motd', '/etc/motd'),
      dir('/mnt'),
      dir('/srv'),
      dir('/opt'),
      dir('/etc/opt'),
      dir('/var/opt'),
      dir('/media'),
      dir('/var/mail', 0o2775, 'mail'),
      { kind: 'symlink', path: '/var/spool/mail', target: '../mail', ifMissing: true },
      dir('/run/lock', 0o1777),
      { kind: 'symlink', path: '/var/run', target: '/run', ifMissing: false },
      { kind: 'symlink', path: '/var/lock', target: '/run/lock', ifMissing: false },
      ...['', '/share', '/share/man', '/bin', '/games', '/lib', '/include', '/sbin', '/src', '/etc'].map((d) => dir(`/usr/local${d}`)),
      { kind: 'symlink', path: '/usr/local/man', target: 'share/man', ifMissing: false },
      log('/var/log/wtmp', 0o664),
      log('/var/log/btmp', 0o660),
      log('/var/log/lastlog', 0o664),
      dflt('info.dir', '/usr/share/info/dir'),
    ]);
  });

  it('reports base-files helpers it cannot translate', () => {
    // Without the captured defaults (metadata from an older cache), the copies stay reported.
    const blind = effectsOf(fixturePackage('base-files', {}, BASE_FILES_PATHS));
    expect(blind.effects.some((e) => e.kind === 'file' && e.path === '/root/.bashrc')).toBe(false);
    expect(blind.effects.some((e) => e.kind === 'directory' && e.path === '/var/mail')).toBe(true);
    // Each copy is listed with its words (the info dir's is not made: the fixture ships the file).
    expect(blind.untranslated).toEqual(['dot.bashrc /root/.bashrc', 'dot.profile /root/.profile', 'motd /etc/motd', 'profile /etc/profile'].map((w) => `postinst: cp -p /usr/share/base-files/${w}`));

    // No shipped debian origin: the link's guard fails, so the script makes no link.
    const noOrigin = effectsOf(fixturePackage('base-files', BASE_FILES_DEFAULTS));
    expect(noOrigin.untranslated).toEqual([]);
    expect(noOrigin.effects.some((e) => e.kind === 'symlink' && e.path === '/etc/dpkg/origins/default')).toBe(false);

    // A helper whose body differs from base-files' is not recognized as base-files' helper: its
    // calls are read command by command, with $1… bound to each call's words; the `rm` of the
    // directory just made removes it again (it is not taken for a no-op on an absent path).
    const changed = fixture('base-files.postinst').replace('chmod "$2" "$DPKG_ROOT/$1"', 'chmod "$2" "$DPKG_ROOT/$1"; rm -rf "$DPKG_ROOT/$1"');
    const r = effectsOf(debPackage('base-files', { postinst: changed }, BASE_FILES_DEFAULTS, BASE_FILES_PATHS));
    expect(r.effects.filter((e) => 'path' in e && e.path === '/var/mail')).toEqual([
      { kind: 'directory', path: '/var/mail', mode: 0o755, user: 'root', group: 'root' },
      { kind: 'attributes', path: '/var/mail', user: 'root', group: 'mail' },
      { kind: 'attributes', path: '/var/mail', mode: 0o2775 },
      { kind: 'remove', path: '/var/mail', recursive: true },
    ]);
    expect(r.untranslated).toEqual([]);

    // Outside base-files' helpers, a literal link is a plain `ln -s`.
    const stray = effectsOf(debPackage('p', { postinst: '#!/bin/sh\nln -s ../mail "$DPKG_ROOT/var/spool/mail"\n' }));
    expect(stray).toEqual({ effects: [{ kind: 'symlink', path: '/var/spool/mail', target: '../mail', ifMissing: true }], untranslated: [], scripts: ['postinst'] });
  });

  it("pam-auth-update: /etc/pam.d/common-* and /var/lib/pam as the real tool wrote them from the same profiles", () => {
    // libpam-runtime's real postinst: `force` is --force on a fresh install (the `force=` in the
    // loop is for a common-* file that is not there), which the tool needs on its first run.
    const pam = (dir: string) => new URL(`../fixtures/deb/pam/${dir}/`, import.meta.url);
    const captured: Record<string, string> = {};
    for (const f of readdirSync(pam('profiles'))) captured[`usr/share/pam-configs/${f}`] = readFileSync(new URL(f, pam('profiles')), 'utf8');
    for (const f of readdirSync(pam('templates'))) captured[`usr/share/pam/${f}`] = readFileSync(new URL(f, pam('templates')), 'utf8');
    const r = effectsOf(fixturePackage('libpam-runtime', captured));
    expect(r.untranslated).toEqual([]);
    const written = r.effects.map((e) => (e.kind === 'file' ? { path: e.path, mode: e.mode, owner: `${e.user}:${e.group}`, text: Buffer.from(e.content, 'base64').toString('utf8') } : e));
    const expected = ['etc/pam.d/common-auth', 'var/lib/pam/auth', 'etc/pam.d/common-account', 'var/lib/pam/account', 'etc/pam.d/common-password', 'var/lib/pam/password']
      .concat(['etc/pam.d/common-session', 'var/lib/pam/session', 'etc/pam.d/common-session-noninteractive', 'var/lib/pam/session-noninteractive', 'var/lib/pam/seen'])
      .map((f) => ({ path: `/${f}`, mode: 0o644, owner: 'root:root', text: readFileSync(new URL(`../fixtures/deb/pam/expected/${f}`, import.meta.url), 'utf8') }));
    expect(written).toEqual(expected);
    // mkhomedir says `Default: no`: listed as seen, never enabled.
    expect(written.at(-1)).toMatchObject({ text: 'unix\nsystemd\nmkhomedir\ncapability\n' });
    expect(written[0]).toMatchObject({ text: expect.not.stringContaining('mkhomedir') });

    // Only the whole-root, package-mode forms are translated.
    const other = effectsOf(debPackage('p', { postinst: '#!/bin/sh\npam-auth-update --enable mkhomedir\n' }, captured));
    expect(other.untranslated).toEqual(['postinst: pam-auth-update --enable mkhomedir: only --package, --force and an empty --root are translated']);
  });

  it('reports a script that is not sh', () => {
    const r = effectsOf(debPackage('p', { postinst: '#!/usr/bin/perl\nprint 1;\n' }));
    expect(r.untranslated).toEqual(['postinst: not a shell script (#!/usr/bin/perl); its effects are unknown']);
  });

  it('reports exactly this for the bookworm minbase scripts', () => {
    const pkgs = [...new Set(readdirSync(DIR).filter((n) => /\.(pre|post)inst$/.test(n)).map((n) => n.replace(/\.[a-z]+$/, '')))].sort();
    const meta = (p: string): DebMetadata =>
      p === 'base-passwd' ? fixturePackage(p, BASE_PASSWD_MASTERS) : p === 'base-files' ? baseFiles() : fixturePackage(p);
    const report = Object.fromEntries(pkgs.map((p) => [p, effectsOf(meta(p)).untranslated]));
    // Units are reported missing here because these packages come without their files.
    expect(report).toEqual({
      adduser: [],
      apt: ['postinst: unit apt-daily-upgrade.timer: no package in the image ships its file', 'postinst: unit apt-daily.timer: no package in the image ships its file'],
      'base-files': [],
      'base-passwd': [],
      bash: [], // update-menus only where command -v finds it
      'ca-certificates': ['postinst: chgrp: "$(stat -L -c %g /usr/local)" is not known before the script runs', 'postinst: mkdir: mode "$(stat -L -c %a /usr/local)" is not an octal mode'],
      coreutils: [],
      dash: [], // the fixture ships no /bin/sh: nothing to remove or copy; see script-commands for the real layout
      debconf: [],
      debianutils: [],
      dpkg: ['postinst: mv $file alternatives/$file', 'postinst: unit dpkg-db-backup.timer: no package in the image ships its file'],
      e2fsprogs: ['postinst: unit e2scrub_all.timer: no package in the image ships its file', 'postinst: unit e2scrub_reap.service: no package in the image ships its file'],
      'libc-bin': ['postinst: cp -p /usr/share/libc-bin/nsswitch.conf /etc/nsswitch.conf'], // ldconfig is an ld-cache effect; the nsswitch.conf default is not captured here
      libc6: [],
      'libpam-modules': [],
      'libpam-runtime': ['postinst: pam-auth-update: no package in the image ships /usr/share/pam/common-auth'], // templates not captured here; see the pam-auth-update test
      libpam0g: [],
      login: [],
      mawk: [],
      passwd: [], // systemd-tmpfiles runs only where the image has it
      'perl-base': [],
      tar: [],
      // Without its templates here, db_get's answers (Etc/UTC) are not known: see the servers test.
      tzdata: ['postinst: >/etc/timezone', 'postinst: ln: "/usr/share/zoneinfo/$TIMEZONE" is not known before the script runs', 'postinst: mv -f /etc/localtime.dpkg-new /etc/localtime'],
      'usr-is-merged': [], // `[ -e "$DPKG_ROOT$dir" ] || continue` for each biarch directory: none is in this image
      'util-linux': ['postinst: unit fstrim.timer: no package in the image ships its file'],
    });
  });
});
