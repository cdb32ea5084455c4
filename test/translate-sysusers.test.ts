import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applySysusers, type AccountFiles, type SysusersOptions } from '../src/translate/applySysusers.js';
import { parseSysusers, renderSysusers, type SysusersItem } from '../src/translate/sysusersConf.js';

const EPOCH = 1_700_000_000;
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const NONE: AccountFiles = { passwd: '', group: '', shadow: '', gshadow: '' };

describe('parseSysusers', () => {
  it('reads every line type, with quoting, "-" and the id forms', () => {
    const text = [
      '# comment',
      '',
      'u foo 123 "Foo \\"the\\" user" /var/lib/foo /bin/sh',
      "u bar 200:300 'Bar Bar'",
      'u baz -:wheel - - /usr/bin/zsh',
      'u qux /var/lib/qux',
      'g grp 500',
      'g other',
      'm foo grp',
      'r - 100-199',
      'r - 42',
      '  u    spaced   -   "a%%b"  ',
    ].join('\n');
    const items = parseSysusers(text, 'x.conf');
    expect(items.map(({ source: _s, ...rest }) => rest)).toEqual([
      { type: 'u', name: 'foo', uid: 123, gecos: 'Foo "the" user', home: '/var/lib/foo', shell: '/bin/sh' },
      { type: 'u', name: 'bar', uid: 200, gid: 300, gecos: 'Bar Bar' },
      { type: 'u', name: 'baz', groupName: 'wheel', shell: '/usr/bin/zsh' },
      { type: 'u', name: 'qux', idPath: '/var/lib/qux' },
      { type: 'g', name: 'grp', gid: 500 },
      { type: 'g', name: 'other' },
      { type: 'm', user: 'foo', group: 'grp' },
      { type: 'r', first: 100, last: 199 },
      { type: 'r', first: 42, last: 42 },
      { type: 'u', name: 'spaced', gecos: 'a%b' },
    ]);
    expect(items[0]?.source).toEqual({ file: 'x.conf', line: 3 });
  });

  it('round-trips through renderSysusers', () => {
    const items: SysusersItem[] = [
      { type: 'u', name: 'a', uid: 5, gecos: 'With space', home: '/home/with space', shell: '/bin/sh' },
      { type: 'u', name: 'b', gid: 7 },
      { type: 'u', name: 'c', uid: 9, groupName: 'grp', shell: '/bin/false' },
      { type: 'u', name: 'd', gecos: '50% "quoted" \\ back' },
      { type: 'g', name: 'grp' },
      { type: 'g', name: 'grp2', gid: 77 },
      { type: 'm', user: 'a', group: 'grp' },
      { type: 'r', first: 10, last: 20 },
    ];
    const text = renderSysusers(items);
    expect(text).toBe(
      [
        'u a 5 "With space" "/home/with space" /bin/sh',
        'u b -:7',
        'u c 9:grp - - /bin/false',
        'u d - "50%% \\"quoted\\" \\\\ back"',
        'g grp',
        'g grp2 77',
        'm a grp',
        'r - 10-20',
        '',
      ].join('\n'),
    );
    expect(parseSysusers(text, 'r.conf').map(({ source: _s, ...rest }) => rest)).toEqual(items);
  });

  it.each([
    ['x foo', /x\.conf:1: unknown command type 'x'/],
    ['uu foo', /unknown modifier 'uu'/],
    ['u', /missing action and name columns/],
    ['u 9foo', /'9foo' is not a valid user or group name/],
    ['u foo abc', /failed to parse UID/],
    ['u foo 65535', /failed to parse UID/],
    ['u foo 1:bad!', /failed to parse GID/],
    ['g foo - "gecos"', /don't take a GECOS field/],
    ['m foo', /require a group name/],
    ['r foo 1-2', /don't take a name field/],
    ['r - 5-1', /invalid UID range/],
    ['u foo - "a:b"', /not a valid GECOS field/],
    ['u foo - - relative', /not a valid home directory field/],
    ['u foo - - - /bin/../sh', /not a valid login shell field/],
    ['u foo - "unterminated', /syntax error/],
    ['u foo - a b c d', /trailing garbage/],
    ['u foo - "%H host"', /specifier "%H" in "%H host" names the running machine/],
    ['u foo - "%u user"', /specifier "%u" .* is not supported \(only "%%" is\)/],
  ])('rejects %j with a clear message', (line, message) => {
    expect(() => parseSysusers(line, 'x.conf')).toThrow(message);
  });

  it('refuses to render values systemd would read as absent', () => {
    expect(() => renderSysusers([{ type: 'u', name: 'a', gecos: '-' }])).toThrow(/absent/);
  });
});

// ---- Oracle: the real systemd-sysusers --root on the same input ----

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

// Same basename again goes to a directory of higher priority, which is how the tool overrides.
const CONF_DIRS = ['usr/lib/sysusers.d', 'usr/local/lib/sysusers.d', 'run/sysusers.d', 'etc/sysusers.d'];
const FILES = ['passwd', 'group', 'shadow', 'gshadow'] as const;

function runTool(existing: AccountFiles, confs: { file: string; text: string }[], setup?: (root: string) => void): AccountFiles {
  const root = mkdtempSync(join(tmpdir(), 'layerpkg-sysusers-'));
  roots.push(root);
  mkdirSync(join(root, 'etc'));
  for (const f of FILES) if (existing[f] !== '') writeFileSync(join(root, 'etc', f), existing[f]);
  const seen = new Map<string, number>();
  for (const c of confs) {
    const n = seen.get(basename(c.file)) ?? 0;
    seen.set(basename(c.file), n + 1);
    const dir = join(root, CONF_DIRS[n] ?? 'etc/sysusers.d');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, basename(c.file)), c.text);
  }
  setup?.(root);
  const r = spawnSync('systemd-sysusers', ['--root', root], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-sysusers failed: ${r.stderr}`);
  const read = (f: string) => (existsSync(join(root, 'etc', f)) ? readFileSync(join(root, 'etc', f), 'utf8') : '');
  return { passwd: read('passwd'), group: read('group'), shadow: read('shadow'), gshadow: read('gshadow') };
}

function expectSameAsTool(existing: AccountFiles, confs: { file: string; text: string }[], opts: Partial<SysusersOptions> = {}, setup?: (root: string) => void) {
  const expected = runTool(existing, confs, setup);
  const ours = applySysusers(existing, confs, { sourceDateEpoch: EPOCH, ...opts });
  for (const f of FILES) expect(ours.files[f], f).toBe(expected[f]);
  return ours;
}

const lines = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');

/** A bookworm base system as base-passwd and pwconv leave it. */
function debianBase(): AccountFiles {
  const days = Math.floor(1_690_000_000 / 86400);
  const passwd = readFileSync(join(FIXTURES, 'base-passwd.passwd.master'), 'utf8').trim().split('\n');
  const group = readFileSync(join(FIXTURES, 'base-passwd.group.master'), 'utf8').trim().split('\n');
  const field = (l: string) => l.split(':');
  return {
    passwd: lines(...passwd.map((l) => field(l).map((v, i) => (i === 1 ? 'x' : v)).join(':'))),
    shadow: lines(...passwd.map((l) => `${field(l)[0]}:${field(l)[0] === 'root' ? '*' : '*'}:${days}:0:99999:7:::`)),
    group: lines(...group.map((l) => field(l).map((v, i) => (i === 1 ? 'x' : v)).join(':'))),
    gshadow: lines(...group.map((l) => `${field(l)[0]}:*::${field(l)[3] ?? ''}`)),
  };
}

describe('applySysusers against systemd-sysusers --root', () => {
  it('creates accounts with fixed ids, and "uid:gid" only with an existing gid', () => {
    const r = expectSameAsTool(NONE, [
      {
        file: '/usr/lib/sysusers.d/fixed.conf',
        text: lines('g grp 700', 'u alice 701 "Alice A" /home/alice /bin/bash', 'u bob 702:700', 'u carol 703:799', 'u root 0 "Super User" /root', 'g grp 800'),
      },
    ]);
    expect(r.created).toEqual({ users: ['alice', 'bob', 'root'], groups: ['grp', 'alice', 'root'] });
    expect(r.ignored.join('\n')).toMatch(/fixed\.conf:4: .*799/);
    expect(r.ignored.join('\n')).toMatch(/fixed\.conf:6: conflicts with the earlier definition of grp/);
  });

  it('allocates free ids downward from 999, groups before users, uid = gid where it can', () => {
    const r = expectSameAsTool(NONE, [
      { file: 'a.conf', text: lines('u first', 'g g1', 'u second - "Second"', 'g g2', 'u third 999', 'u fourth -:g1') },
    ]);
    expect(r.files.group).toContain('g1:x:999:\n');
    expect(r.files.passwd).toContain('first:x:997:997::/:/usr/sbin/nologin\n');
  });

  it('steps around ids the existing files use', () => {
    const existing: AccountFiles = {
      passwd: lines('root:x:0:0:root:/root:/bin/bash', 'taken:x:999:999::/:/bin/sh', 'other:x:997:5::/:/bin/sh'),
      group: lines('root:x:0:', 'taken:x:999:', 'g998:x:998:', 'g995:x:995:'),
      shadow: lines('root:*:19000:0:99999:7:::', 'taken:!:19000::::::'),
      gshadow: lines('root:*::', 'taken:!::'),
    };
    expectSameAsTool(existing, [
      { file: 'x.conf', text: lines('u new1', 'u new2 999', 'g newg 998', 'u taken 5', 'g taken', 'u new3 996', 'g root 5', 'u g995') },
    ]);
  });

  it('adds members, to existing groups and to groups and users it creates', () => {
    const existing: AccountFiles = {
      passwd: lines('root:x:0:0:root:/root:/bin/bash', 'zed:x:1000:1000::/home/zed:/bin/bash'),
      group: lines('root:x:0:', 'adm:x:4:zed', 'audio:x:29:', 'zed:x:1000:'),
      shadow: lines('root:*:19000:0:99999:7:::', 'zed:*:19000:0:99999:7:::'),
      gshadow: lines('root:*::', 'adm:*::zed', 'zed:!::'),
    };
    const r = expectSameAsTool(existing, [
      { file: 'm.conf', text: lines('u svc - "Service"', 'm svc adm', 'm root adm', 'm svc audio', 'm zed adm', 'm svc newgrp', 'm ghost newgrp', 'm svc svc') },
    ]);
    expect(r.created.users).toEqual(['svc', 'ghost']);
  });

  it('leaves the files alone when members are already there', () => {
    const existing: AccountFiles = { passwd: lines('root:x:0:0::/root:/bin/sh'), group: lines('# keep me', 'root:x:0:', 'adm:x:4:root'), shadow: '', gshadow: '' };
    const r = expectSameAsTool(existing, [{ file: 'm.conf', text: lines('m root adm') }]);
    expect(r.files.group).toBe(existing.group);
    expect(r.created).toEqual({ users: [], groups: [] });
  });

  it('creates the group of an existing user that lacks one, as a u line implies', () => {
    const existing: AccountFiles = { passwd: lines('root:x:0:0::/root:/bin/sh'), group: '', shadow: '', gshadow: '' };
    const r = expectSameAsTool(existing, [{ file: 'm.conf', text: lines('m root adm') }]);
    expect(r.created).toEqual({ users: [], groups: ['adm', 'root'] });
  });

  it('allocates from r ranges instead of the system range, until they run out', () => {
    expectSameAsTool(NONE, [
      { file: 'r.conf', text: lines('r - 500-502', 'r - 600', 'r - 503-504', 'u a', 'g b', 'u c', 'u d 550', 'u e', 'g f', 'g h') },
    ]);
  });

  it('gives a user a named group from a g line, an existing group, or none if missing', () => {
    const existing: AccountFiles = { passwd: '', group: lines('staff:x:50:'), shadow: '', gshadow: lines('staff:*::') };
    const r = expectSameAsTool(existing, [
      { file: 'n.conf', text: lines('g www 33', 'u web -:www', 'u worker 400:staff', 'u lost -:nosuchgroup', 'u helper -:web') },
    ]);
    expect(r.ignored.join('\n')).toMatch(/nosuchgroup/);
  });

  it('orders files by basename, a later file with the same basename replacing the earlier', () => {
    const r = expectSameAsTool(NONE, [
      { file: '/usr/lib/sysusers.d/b.conf', text: lines('u fromb') },
      { file: '/usr/lib/sysusers.d/a.conf', text: lines('u masked', 'g masked') },
      { file: '/usr/lib/sysusers.d/c.conf', text: lines('u fromc 900', 'u fromb 901') },
      { file: '/etc/sysusers.d/a.conf', text: lines('u froma', 'g shared 950') },
      { file: '/etc/sysusers.d/c.conf', text: lines('g shared 951', 'u fromc2') },
    ]);
    expect(r.created.users).toEqual(['froma', 'fromb', 'fromc2']);
  });

  it('applies systemd and dbus files to a Debian base like the tool', () => {
    const basic = lines(
      'g adm 4 -',
      'g tty 5 -',
      'g users 100 -',
      'g nogroup 65534 -',
      'u root 0 - /root /bin/bash',
      'u daemon 1 - /usr/sbin /usr/sbin/nologin',
      'u sync 4:65534 - /bin /bin/sync',
      'u games 5:60 - /usr/games /usr/sbin/nologin',
      'u _apt 42:65534 - /nonexistent /usr/sbin/nologin',
      'u nobody 65534:65534 - /nonexistent /usr/sbin/nologin',
    );
    const r = expectSameAsTool(debianBase(), [
      { file: '/usr/lib/sysusers.d/basic.conf', text: basic },
      { file: '/usr/lib/sysusers.d/dbus.conf', text: lines('u messagebus - "System Message Bus"') },
      { file: '/usr/lib/sysusers.d/polkitd.conf', text: lines('u polkitd - "polkit" /nonexistent') },
      { file: '/usr/lib/sysusers.d/systemd-journal.conf', text: lines('g systemd-journal - -') },
      { file: '/usr/lib/sysusers.d/systemd-network.conf', text: lines('u systemd-network - "systemd Network Management"') },
      { file: '/usr/lib/sysusers.d/systemd-timesync.conf', text: lines('u systemd-timesync - "systemd Time Synchronization"') },
    ]);
    expect(r.created.groups).toEqual(['systemd-journal', 'messagebus', 'polkitd', 'systemd-network', 'systemd-timesync']);
    expect(r.files.shadow).toContain(`messagebus:!*:${Math.floor(EPOCH / 86400)}::::::\n`);
    expect(r.files.gshadow).toContain('systemd-journal:!*::\n');
  });

  it("rewrites changed files in glibc's canonical form, keeping NIS entries last", () => {
    const existing: AccountFiles = {
      passwd: lines('# comment', '  root:x:0:0:root:/root:/bin/bash', '', 'bad:x:abc:1::/:/bin/sh', 'short:x:5:5', 'z:x:007:+8:g:/h:/s', '+nis', 'after:x:20:20::/:/bin/sh'),
      group: lines('root:x:0:', 'adm:x:4: a , b,,c ,d', 'badg:x', '+', 'afterg:x:30:'),
      shadow: lines('root:*:19000:0:99999:7:::', 'short:x:1:2', 'old:x:1:2:3', 'big:x:4294967295:2:3:4:5:6:', 'extra:x:1:2:3:4:5:6:7:8', '+nis', 'after::::::::'),
      gshadow: lines('root:*::', 'adm:!: x , y:a,,b', 'short:!'),
    };
    expectSameAsTool(existing, [{ file: 'a.conf', text: lines('u newu', 'm root adm') }]);
  });

  it("gives root /bin/bash only when the image has it, and updates a shadow line it finds", () => {
    const existing: AccountFiles = { passwd: '', group: '', shadow: lines('root:$6$hash:18000:0:99999:7:::'), gshadow: '' };
    const conf = [{ file: 'root.conf', text: lines('u root 0') }];
    expectSameAsTool(existing, conf);
    expectSameAsTool(existing, conf, { exists: (p) => p === '/bin/bash' }, (root) => {
      mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
      writeFileSync(join(root, 'usr', 'bin', 'bash'), '');
      symlinkSync('usr/bin', join(root, 'bin'));
    });
  });

  it('refuses ids taken from a file owner, naming the line', () => {
    expect(() => applySysusers(NONE, [{ file: 'p.conf', text: lines('u svc /var/lib/svc') }], { sourceDateEpoch: EPOCH })).toThrow(/p\.conf:1: .*\/var\/lib\/svc/);
  });
});
