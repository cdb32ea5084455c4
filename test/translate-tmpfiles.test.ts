import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FinalEntry } from '../adapters/types.js';
import { applyTmpfiles, type ExistingPath, type TmpfilesContext } from '../src/translate/applyTmpfiles.js';
import { parseTmpfiles, parseTmpfilesLine, renderTmpfiles, tmpfilesArgument, type TmpfilesLine } from '../src/translate/tmpfilesConf.js';
import { usableLines } from '../src/translate/usableLines.js';

const strip = (lines: TmpfilesLine[]) => lines.map(({ source: _s, ...rest }) => rest);
const NO_MODS = { boot: false, force: false, allowFailure: false, replace: false, base64: false, credential: false };

describe('parseTmpfiles', () => {
  it('reads types, modifiers, mode prefixes, owners, age and the raw argument', () => {
    const lines = parseTmpfiles(
      ['# c', '', 'd /run/app 0755 root root 10d', 'f+ "/etc/with space" ~:0640 :svc - - hello "world"', 'L+! /a/b', 'z /x', 'w- /p/%% - - - - 50%%'].join('\n'),
      'a.conf',
    );
    expect(strip(lines)).toEqual([
      { type: 'd', modifiers: NO_MODS, path: '/run/app', mode: { value: 0o755, masked: false, onlyCreate: false }, user: { name: 'root', onlyCreate: false }, group: { name: 'root', onlyCreate: false }, age: '10d' },
      { type: 'f', modifiers: { ...NO_MODS, force: true }, path: '/etc/with space', mode: { value: 0o640, masked: true, onlyCreate: true }, user: { name: 'svc', onlyCreate: true }, argument: 'hello "world"' },
      { type: 'L', modifiers: { ...NO_MODS, force: true, boot: true }, path: '/a/b' },
      { type: 'z', modifiers: NO_MODS, path: '/x' },
      { type: 'w', modifiers: { ...NO_MODS, allowFailure: true }, path: '/p/%', argument: '50%%' },
    ]);
    expect(lines[1]?.source).toEqual({ file: 'a.conf', line: 4 });
  });

  it('decodes arguments as the tool does: C escapes then %%, or base64; no newline added', () => {
    const [f, b64, a] = parseTmpfiles(['f /x - - - - a\\tb\\x41\\101\\u00e9\\n%%', 'f~ /y - - - - aGk=', 'a /z - - - - u:foo:rw'].join('\n'), 'e.conf');
    expect(f && tmpfilesArgument(f)).toEqual(Buffer.from('a\tbAAé\n%'));
    expect(b64 && tmpfilesArgument(b64)).toEqual(Buffer.from('hi'));
    expect(a && tmpfilesArgument(a)).toEqual(Buffer.from('u:foo:rw'));
  });

  it('round-trips through renderTmpfiles', () => {
    const text = ['d /run/app 0755 root root 10d', 'f+ "/etc/with space" ~:0640 :svc - - hello "world"', 'L+ /a/b - - - - ../target', 'z /x', 'e /tmp/% 1777', 'C /srv/c', "w~ /w - - - - aGk="].map((l) => l.replaceAll('%', '%%')).join('\n');
    const lines = parseTmpfiles(text, 'r.conf');
    const rendered = renderTmpfiles(lines);
    expect(strip(parseTmpfiles(rendered, 'r.conf'))).toEqual(strip(lines));
    expect(rendered.split('\n')[0]).toBe('d /run/app 0755 root root 10d');
    expect(rendered.split('\n')[5]).toBe('C /srv/c');
  });

  it.each([
    ['y /x', /a\.conf:1: unknown command type 'y'/],
    ['d+? /x', /unknown modifiers in command 'd\+\?'/],
    ['d++ /x', /unknown modifiers/],
    ['d', /needs at least a type and a path/],
    ['d relative', /path 'relative' not absolute/],
    ['d /x 0999', /invalid mode '0999'/],
    ['d /x 17777', /invalid mode/],
    ['d /x - - - soon', /invalid age 'soon'/],
    ['w /x', /write file requires an argument/],
    ['c /dev/x - - - - 1', /major\/minor/],
    ['L~ /x - - - - aGk=', /base64 decoding not supported/],
    ['C /x - - - - relative', /source path 'relative' is not absolute/],
    ['d /home/%u', /specifier "%u" .* is not supported \(only "%%" is\)/],
    ['f /x - - - - \\q', /failed to unescape/],
    ['d "/x', /failed to parse line/],
  ])('rejects %j with a clear message', (line, message) => {
    expect(() => parseTmpfiles(line, 'a.conf')).toThrow(message);
  });
});

// ---- Oracle: the real systemd-tmpfiles --create --root on the same tree ----

interface Spec {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode?: number;
  uid?: number;
  gid?: number;
  target?: string;
  content?: string;
}

interface Observed {
  type: string;
  mode?: number;
  uid: number;
  gid: number;
  target?: string;
  content?: string;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\nsvc:x:999:998::/:/usr/sbin/nologin\nfoo:x:1000:1000::/home/foo:/bin/bash\n';
const GROUP = 'root:x:0:\ndaemon:x:1:\nadm:x:4:\nsvcgrp:x:998:\nfoo:x:1000:\n';
const USERS: Record<string, number> = { root: 0, daemon: 1, svc: 999, foo: 1000 };
const GROUPS: Record<string, number> = { root: 0, daemon: 1, adm: 4, svcgrp: 998, foo: 1000 };
const CONF_DIRS = ['usr/lib/tmpfiles.d', 'run/tmpfiles.d', 'etc/tmpfiles.d'];

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** The tree the packages installed: the given paths, account files, and the conf files where the tool looks. */
function tree(specs: Spec[], confs: { file: string; text: string }[]): Spec[] {
  const all: Spec[] = [
    { path: 'etc', type: 'directory' },
    { path: 'etc/passwd', type: 'file', content: PASSWD },
    { path: 'etc/group', type: 'file', content: GROUP },
  ];
  const seen = new Map<string, number>();
  for (const c of confs) {
    const n = seen.get(basename(c.file)) ?? 0;
    seen.set(basename(c.file), n + 1);
    all.push({ path: `${CONF_DIRS[n] ?? 'etc/tmpfiles.d'}/${basename(c.file)}`, type: 'file', content: c.text });
  }
  const withParents = new Map<string, Spec>();
  for (const s of [...all, ...specs]) {
    for (let d = dirname(s.path); d !== '.'; d = dirname(d)) if (!withParents.has(d)) withParents.set(d, { path: d, type: 'directory' });
    withParents.set(s.path, s);
  }
  return [...withParents.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

function materialize(specs: Spec[]): string {
  const root = mkdtempSync(join(tmpdir(), 'layerpkg-tmpfiles-'));
  roots.push(root);
  chmodSync(root, 0o755);
  for (const s of specs) {
    const p = join(root, s.path);
    if (s.type === 'directory') mkdirSync(p, { recursive: true });
    if (s.type === 'file') writeFileSync(p, s.content ?? '');
    if (s.type === 'symlink') symlinkSync(s.target ?? '', p);
    if (s.type === 'symlink') {
      lchownSync(p, s.uid ?? 0, s.gid ?? 0);
    } else {
      chownSync(p, s.uid ?? 0, s.gid ?? 0);
      chmodSync(p, s.mode ?? (s.type === 'directory' ? 0o755 : 0o644));
    }
  }
  return root;
}

function walk(root: string, rel = '', out = new Map<string, Observed>()): Map<string, Observed> {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    const base = { uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      out.set(r, { type: 'directory', mode: st.mode & 0o7777, ...base });
      walk(root, r, out);
    } else if (st.isSymbolicLink()) {
      out.set(r, { type: 'symlink', target: readlinkSync(join(root, r)), ...base });
    } else if (st.isFile()) {
      out.set(r, { type: 'file', mode: st.mode & 0o7777, content: readFileSync(join(root, r), 'utf8'), ...base });
    } else {
      out.set(r, { type: 'other', ...base });
    }
  }
  return out;
}

function observed(s: Spec): Observed {
  const base = { uid: s.uid ?? 0, gid: s.gid ?? 0 };
  if (s.type === 'symlink') return { type: 'symlink', target: s.target, ...base };
  if (s.type === 'directory') return { type: 'directory', mode: s.mode ?? 0o755, ...base };
  return { type: 'file', mode: s.mode ?? 0o644, content: s.content ?? '', ...base };
}

/** The packages' tree with the final layer applied over it: a non-directory hides what was below. */
function overlay(specs: Spec[], entries: FinalEntry[]): Map<string, Observed> {
  const out = new Map(specs.map((s) => [s.path, observed(s)]));
  for (const e of entries) {
    if (e.type !== 'directory') for (const k of [...out.keys()]) if (k.startsWith(`${e.path}/`)) out.delete(k);
    if (e.type === 'symlink') out.set(e.path, { type: 'symlink', target: e.linkname, uid: 0, gid: 0 });
    if (e.type === 'directory') out.set(e.path, { type: 'directory', mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0 });
    if (e.type === 'file') out.set(e.path, { type: 'file', mode: e.mode, content: e.content.toString('utf8'), uid: e.uid ?? 0, gid: e.gid ?? 0 });
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function context(specs: Spec[]): TmpfilesContext {
  const byPath = new Map(specs.map((s) => [s.path, s]));
  return {
    existing: (rel) => {
      const s = byPath.get(rel);
      if (s === undefined) return undefined;
      const e: ExistingPath = { type: s.type, mode: s.mode ?? (s.type === 'directory' ? 0o755 : s.type === 'symlink' ? 0o777 : 0o644), uid: s.uid ?? 0, gid: s.gid ?? 0 };
      if (s.type === 'symlink') e.target = s.target;
      if (s.type === 'file') e.content = Buffer.from(s.content ?? '');
      return e;
    },
    list: (rel) => specs.filter((s) => dirname(s.path) === rel || (rel === '' && !s.path.includes('/'))).map((s) => basename(s.path)),
    uidOf: (n) => USERS[n],
    gidOf: (n) => GROUPS[n],
  };
}

/** Run both on the same tree and configuration; the trees must be equal and nothing left unapplied. */
function expectSameAsTool(specs: Spec[], confs: { file: string; text: string }[]) {
  const all = tree(specs, confs);
  const root = materialize(all);
  const tool = spawnSync('systemd-tmpfiles', ['--create', '--root', root], { encoding: 'utf8' });
  const ours = applyTmpfiles(
    confs.flatMap((c) => parseTmpfiles(c.text, c.file)),
    context(all),
  );
  expect(ours.notApplied).toEqual([]);
  expect(Object.fromEntries(overlay(all, ours.entries))).toEqual(Object.fromEntries(walk(root)));
  return { ours, tool };
}

const conf = (...lines: string[]) => [{ file: '/usr/lib/tmpfiles.d/test.conf', text: lines.map((l) => `${l}\n`).join('') }];

describe('usableLines', () => {
  it('leaves a line naming the running machine to the tool at boot, reports a line it would reject, keeps the rest', () => {
    const text = 'd /var/log/journal/%m 2755 root systemd-journal - -\nd /x 0755 - - -\nd /y/%u 0755 - - -\nq\n';
    const r = usableLines(text, 'systemd.conf', parseTmpfilesLine);
    expect(r.atBoot).toEqual(['systemd.conf:1: specifier "%m" in "/var/log/journal/%m" names the running machine']);
    expect(r.skipped).toHaveLength(2);
    expect(r.skipped[0]).toMatch(/^systemd\.conf:3: specifier "%u" .* is not supported .*; line not applied$/);
    expect(r.skipped[1]).toMatch(/^systemd\.conf:4: .*; line not applied$/);
    expect(r.text).toBe('\nd /x 0755 - - -\n\n\n');
  });
});

describe('applyTmpfiles against systemd-tmpfiles --create --root', () => {
  it('d: creates, or adjusts an existing directory only where the line sets mode or owner', () => {
    const { ours } = expectSameAsTool(
      [
        { path: 'var/lib/app', type: 'directory', mode: 0o755 },
        { path: 'var/lib/keep', type: 'directory', mode: 0o700, uid: 1000 },
        { path: 'var/lib/partial', type: 'directory', mode: 0o711, uid: 1000, gid: 1000 },
        { path: 'var/lib/isfile', type: 'file', content: 'x' },
      ],
      conf('d /var/lib/app 0750 svc svcgrp', 'd /var/lib/keep', 'd /var/lib/partial - - adm', 'd /var/lib/new', 'd /var/lib/isfile 0700', 'd /var/lib/numeric 0700 1000 4'),
    );
    expect(ours.failed.join('\n')).toMatch(/test\.conf:5: .*not a directory/);
  });

  it('makes missing parents 0755 root, through a link to a directory', () => {
    expectSameAsTool(
      [
        { path: 'srv/real', type: 'directory', mode: 0o750, uid: 999 },
        { path: 'srv/link', type: 'symlink', target: 'real' },
        { path: 'srv/sgid', type: 'directory', mode: 0o2775, gid: 998 },
        { path: 'srv/abslink', type: 'symlink', target: '/srv/real' },
      ],
      conf('d /a/b/c/d 0700 svc', 'f /x/y/z.txt 0600 - - - hi', 'd /srv/link/sub/deeper', 'f /srv/sgid/inner/file', 'd /srv/sgid/made', 'd /srv/abslink/viaabs 0701'),
    );
  });

  it('L: keeps what is there, L+ replaces a file, a wrong link or a whole directory', () => {
    expectSameAsTool(
      [
        { path: 'etc/a', type: 'file', content: 'file' },
        { path: 'etc/b', type: 'file', content: 'file' },
        { path: 'etc/c', type: 'symlink', target: '/wrong' },
        { path: 'etc/d', type: 'symlink', target: '/right' },
        { path: 'etc/e', type: 'directory' },
        { path: 'etc/e/inner', type: 'file', content: 'gone' },
      ],
      conf('L /etc/a - - - - /target', 'L+ /etc/b - - - - /target', 'L+ /etc/c - - - - /right', 'L /etc/d - - - - /right', 'L+ /etc/e - - - - ../x', 'L /etc/default', 'L /new/dir/link - - - - rel/target'),
    );
  });

  it('f writes its argument as given on creation only; f+ and F rewrite an existing file', () => {
    expectSameAsTool(
      [
        { path: 'etc/exists', type: 'file', content: 'old content\n', mode: 0o644 },
        { path: 'etc/trunc', type: 'file', content: 'old content\n', mode: 0o600, uid: 1000 },
        { path: 'etc/legacy', type: 'file', content: 'old' },
      ],
      conf(
        'f /etc/new.conf 0640 root adm - line one\\nline two',
        'f /etc/exists 0600 - - - ignored',
        'f+ /etc/trunc - - - - new',
        'F /etc/legacy',
        'f /etc/quoted - - - - "a  b"\\ttab%%',
        'f~ /etc/b64 0400 - - - aGVsbG8K',
        'f /etc/escapes - - - - \\x41\\101\\u00e9\\s',
        'f /etc/empty',
      ),
    );
  });

  it('z and m adjust an existing path (a file too); Z everything below it', () => {
    expectSameAsTool(
      [
        { path: 'srv/data', type: 'directory', mode: 0o755 },
        { path: 'srv/file', type: 'file', content: 'bin', mode: 0o755 },
        { path: 'srv/legacy', type: 'file', content: 'l' },
        { path: 'srv/tree', type: 'directory' },
        { path: 'srv/tree/a', type: 'file', content: 'a', mode: 0o600 },
        { path: 'srv/tree/sub', type: 'directory', mode: 0o700 },
        { path: 'srv/tree/sub/b', type: 'file', content: 'b' },
      ],
      conf('z /srv/data 0700 foo foo', 'z /srv/file 4755', 'z /srv/missing 0700', 'm /srv/legacy 0711', 'Z /srv/tree 0750 foo', 'd /srv/tree/new 0700'),
    );
  });

  it('e adjusts an existing directory only; D, v, q, Q create plain directories', () => {
    expectSameAsTool(
      [
        { path: 'srv/data2', type: 'directory', mode: 0o755 },
        { path: 'srv/afile', type: 'file', content: 'f' },
        { path: 'run', type: 'directory' },
      ],
      conf('e /srv/data2 0711 foo - 10d', 'e /srv/nothere 0700', 'e /srv/afile 0700', 'D /run/tmpd 1777', 'v /var/lib/machines 0700', 'q /var/lib/portables', 'Q /var/lib/q2 0711 svc'),
    );
  });

  it('mode with ~ masks by the current mode; ":" values apply only on creation', () => {
    expectSameAsTool(
      [
        { path: 'srv/m1', type: 'file', content: 'x', mode: 0o640 },
        { path: 'srv/m2', type: 'directory', mode: 0o700 },
        { path: 'srv/m4', type: 'file', content: 'y', mode: 0o4711 },
        { path: 'srv/c1', type: 'directory', mode: 0o755 },
      ],
      conf('z /srv/m1 ~0777', 'd /srv/m2 ~2775', 'f /srv/m3 ~4755', 'z /srv/m4 ~6777', 'd /srv/c1 :0700 :foo', 'd /srv/c2 :0700 :foo :foo'),
    );
  });

  it('names resolve through the image accounts; numbers and root without them', () => {
    expectSameAsTool([], conf('d /srv/owned 0750 svc svcgrp', 'd /srv/num 0750 1000 998', 'f /srv/root 0600 root root', 'd /srv/daemon - daemon'));
  });

  it('orders files by basename, a later file replacing one of the same basename; first line per path wins', () => {
    expectSameAsTool(
      [],
      [
        { file: '/usr/lib/tmpfiles.d/b.conf', text: 'd /srv/b 0700\nd /srv/shared 0711\n' },
        { file: '/usr/lib/tmpfiles.d/a.conf', text: 'd /srv/masked\n' },
        { file: '/etc/tmpfiles.d/a.conf', text: 'd /srv/a 0701\nd /srv/shared 0755\nz /srv/shared 0750\n' },
        { file: '/usr/lib/tmpfiles.d/c.conf', text: 'f /srv/b/file 0600\nd /srv/b 0777\n' },
      ],
    );
  });

  it('runs a path\'s parent lines first, even a z after its child, and moves /var/run to /run', () => {
    expectSameAsTool([{ path: 'run', type: 'directory' }], conf('d /p/q/r 0700', 'z /p 0711', 'd /p 0750', 'd /var/run/app 0755 svc', 'z /p/q 0701'));
  });

  it('= removes what has the wrong type, on the path and its parents', () => {
    expectSameAsTool(
      [
        { path: 'srv/wasfile', type: 'file', content: 'f' },
        { path: 'srv/wasdir', type: 'directory' },
        { path: 'srv/wasdir/child', type: 'file', content: 'c' },
        { path: 'srv/filepar', type: 'file', content: 'p' },
        { path: 'srv/dangling', type: 'symlink', target: 'nowhere' },
        { path: 'srv/lnk', type: 'symlink', target: 'x' },
      ],
      conf('d= /srv/wasfile 0700', 'f= /srv/wasdir - - - - now a file', 'd= /srv/filepar/sub', 'f= /srv/dangling/file', 'd= /srv/lnk'),
    );
  });

  it('w writes over an existing file from the start, w+ appends, nothing for a missing one', () => {
    expectSameAsTool(
      [
        { path: 'srv/wfile', type: 'file', content: 'hello' },
        { path: 'srv/wfile2', type: 'file', content: 'hello' },
        { path: 'srv/wlink', type: 'symlink', target: 'wfile3' },
        { path: 'srv/wfile3', type: 'file', content: '123456' },
      ],
      conf('w /srv/wfile - - - - AB', 'w+ /srv/wfile2 0600 - - - more', 'w /srv/wmissing - - - - x', 'w /srv/wlink - - - - Z'),
    );
  });

  it('C copies a file from its source or /usr/share/factory, skips a missing source, adjusts an existing target', () => {
    expectSameAsTool(
      [
        { path: 'usr/share/src.txt', type: 'file', content: 'source', mode: 0o640, uid: 1000 },
        { path: 'usr/share/factory/etc/fromfactory', type: 'file', content: 'factory', mode: 0o600 },
        { path: 'srv/cexists', type: 'file', content: 'kept' },
      ],
      conf('C /srv/copied - - - - /usr/share/src.txt', 'C /etc/fromfactory', 'C /srv/nosrc - - - - /nope', 'C /srv/cexists 0600 - - - /usr/share/src.txt', 'C /srv/owned 0644 svc - - /usr/share/src.txt'),
    );
  });
});

describe('applyTmpfiles input', () => {
  it('counts a file whose lines come twice (applied twice) once, like a file read once', () => {
    const text = 'w+ /srv/f - - - - x\n';
    const specs = tree([{ path: 'srv/f', type: 'file', content: 'hello' }], []);
    const lines = [...parseTmpfiles(text, '/usr/lib/tmpfiles.d/a.conf'), ...parseTmpfiles(text, '/usr/lib/tmpfiles.d/a.conf')];
    const r = applyTmpfiles(lines, context(specs));
    expect(r.entries).toEqual([{ path: 'srv/f', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('hellox') }]);
  });
});

describe('applyTmpfiles reports what it cannot reproduce', () => {
  // srv/big is a file whose content the caller does not know.
  const known: TmpfilesContext = {
    existing: (rel) => (rel === 'srv/big' ? { type: 'file', mode: 0o644, uid: 0, gid: 0 } : rel === 'srv' || rel === 'run' ? { type: 'directory', mode: 0o755, uid: 0, gid: 0 } : undefined),
    uidOf: (n) => USERS[n],
    gidOf: (n) => GROUPS[n],
  };
  const apply = (text: string, ctx = known) => applyTmpfiles(parseTmpfiles(text, '/usr/lib/tmpfiles.d/x.conf'), ctx);

  it.each([
    ['p /run/fifo', /x\.conf:1: p \/run\/fifo: .*fifo/],
    ['c /dev/null2 - - - - 1:3', /device nodes/],
    ['a /srv - - - - u:foo:rwx', /ACLs/],
    ['z /var/log/*.log 0640', /glob/],
    ['d /srv/x 0700 nobodyknows', /unknown user "nobodyknows"/],
    ['L /srv/lnk2 - foo - - /t', /owned by 1000:0/],
    ['w /srv/big - - - - x', /current content of \/srv\/big is not known/],
    ['z /srv/big 0600', /content of \/srv\/big is not known/],
  ])('%s', (line, message) => {
    expect(apply(line).notApplied.join('\n')).toMatch(message);
  });

  it('stops Z at the path itself without a listing of what is below', () => {
    const r = apply('Z /srv 0700');
    expect(r.entries).toEqual([{ path: 'srv', type: 'directory', mode: 0o700, uid: 0, gid: 0 }]);
    expect(r.notApplied.join('\n')).toMatch(/only \/srv itself/);
  });

  it('cannot resolve through a packaged path of unknown kind', () => {
    const r = apply('f /bin/tool 0755', { ...known, existing: (rel) => (rel === 'bin' ? { type: 'other', mode: 0o777, uid: 0, gid: 0 } : undefined) });
    expect(r.entries).toEqual([]);
    expect(r.notApplied.join('\n')).toMatch(/x\.conf:1: f \/bin\/tool: .*not a directory/);
  });

  it('lists lines the tool itself fails on separately', () => {
    const r = apply('f /srv/big/inside 0644\nd /srv/big');
    expect(r.notApplied).toEqual([]);
    // The line for the parent path runs first.
    expect(r.failed).toEqual([
      '/usr/lib/tmpfiles.d/x.conf:2: d /srv/big: /srv/big already exists and is not a directory',
      '/usr/lib/tmpfiles.d/x.conf:1: f /srv/big/inside: parent of /srv/big/inside is not a directory',
    ]);
  });
});
