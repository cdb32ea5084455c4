import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALPINE_BUSYBOX_DEFAULTS, parseBusyboxAddgroup, parseBusyboxAdduser } from '../adapters/apk/busyboxAccounts.js';
import { chfnGecos, parseAddgroup, parseAdduser } from '../adapters/deb/adduserCommand.js';
import { commandWords } from '../adapters/shell/shellCommands.js';
import {
  applyUserUpdate,
  ARCH_SHADOW_DEFAULTS,
  DEBIAN_SHADOW_DEFAULTS,
  parseGpasswd,
  parseGroupadd,
  parseUseradd,
  parseUsermod,
  type AccountCommandEffect,
  type AccountCommandResult,
} from '../adapters/shadowCommands.js';
import type { Effect, IdRange, UserEffect } from '../src/translate/effects.js';
import { MINIROOTFS_TARBALL } from './helpers/minirootfs.js';

// Real bookworm maintainer scripts; see fixtures/deb/scripts/PROVENANCE.md.
const SCRIPTS = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string): string => readFileSync(join(SCRIPTS, name), 'utf8');

/** The argument words of the first `command` in a script, as layerpkg's shell reader gives them. */
function argsOf(script: string, command: string): string[] {
  const found = commandWords(script).commands.find((c) => c.command === command);
  if (!found) throw new Error(`no ${command} in the script`);
  return found.args;
}

/** One command line (shell syntax), split the way the shell reader splits it. */
function words(line: string): string[] {
  const [first] = commandWords(line).commands;
  if (!first) throw new Error(`no command in ${line}`);
  return first.args;
}

function effectsOf(result: AccountCommandResult): AccountCommandEffect[] {
  if ('unrecognized' in result) throw new Error(`unrecognized: ${result.unrecognized}`);
  return result.effects;
}

function noteOf(result: AccountCommandResult): string | undefined {
  return 'unrecognized' in result ? undefined : result.note;
}

const up = (min: number, max: number): IdRange => ({ min, max, order: 'ascending' });
const down = (min: number, max: number): IdRange => ({ min, max, order: 'descending' });
const ADDUSER_SYSTEM = up(100, 999);

describe('Debian adduser (adduser 3.134)', () => {
  it('apt.postinst: a system user in nogroup, home /nonexistent, not created', () => {
    const args = argsOf(fixture('apt.postinst'), 'adduser');
    expect(args).toEqual(['--force-badname', '--system', '--home', '/nonexistent', '--no-create-home', '--quiet', '_apt']);
    expect(effectsOf(parseAdduser(args))).toEqual([
      { kind: 'user', name: '_apt', range: ADDUSER_SYSTEM, group: 'nogroup', gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin', origin: 'script' },
    ]);
  });

  it('dbus-system-bus-common.postinst: the user name is a variable, so it is only known at run time', () => {
    const line = 'in_sysroot adduser --system \\\n --quiet \\\n --home /nonexistent \\\n --no-create-home \\\n --disabled-password \\\n --group "$MESSAGEUSER"';
    const args = commandWords(line).commands[0]!.args.slice(1);
    expect(parseAdduser(args)).toEqual({ unrecognized: 'adduser: $MESSAGEUSER is only known when the script runs' });
    // With MESSAGEUSER=messagebus (the script's own assignment): its group from 100 up, then the user.
    const known = args.map((a) => (a === '$MESSAGEUSER' ? 'messagebus' : a));
    expect(effectsOf(parseAdduser(known))).toEqual([
      { kind: 'group', name: 'messagebus', range: ADDUSER_SYSTEM, origin: 'script' },
      { kind: 'user', name: 'messagebus', range: ADDUSER_SYSTEM, group: 'messagebus', gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin', origin: 'script' },
    ]);
  });

  it('polkitd.postinst: --gecos goes through chfn, which fills the other fields', () => {
    const args = words("adduser --group --system --quiet --gecos 'polkit' \\\n    --no-create-home --home /nonexistent polkitd");
    const [group, user] = effectsOf(parseAdduser(args));
    expect(group).toEqual({ kind: 'group', name: 'polkitd', range: ADDUSER_SYSTEM, origin: 'script' });
    expect(user).toMatchObject({ kind: 'user', name: 'polkitd', group: 'polkitd', gecos: 'polkit,,,', home: '/nonexistent' });
    expect(effectsOf(parseAddgroup(words('addgroup --system --quiet polkitd')))).toEqual([{ kind: 'group', name: 'polkitd', range: ADDUSER_SYSTEM, origin: 'script' }]);
  });

  it('postgresql-common.postinst: $quiet is a run-time word; spelled out, the user keeps its shell and has no new home', () => {
    const line = 'adduser --system $quiet --home /var/lib/postgresql --no-create-home \\\n  --shell /bin/bash --group --gecos "PostgreSQL administrator" postgres';
    expect(parseAdduser(words(line))).toEqual({ unrecognized: 'adduser: $quiet is only known when the script runs' });
    const effects = effectsOf(parseAdduser(words(line.replace('$quiet', '--quiet'))));
    expect(effects).toEqual([
      { kind: 'group', name: 'postgres', range: ADDUSER_SYSTEM, origin: 'script' },
      { kind: 'user', name: 'postgres', range: ADDUSER_SYSTEM, group: 'postgres', gecos: 'PostgreSQL administrator,,,', home: '/var/lib/postgresql', shell: '/bin/bash', origin: 'script' },
    ]);
  });

  it('postgresql-common.postinst: adduser USER GROUP is a membership', () => {
    expect(effectsOf(parseAdduser(words('adduser --quiet postgres ssl-cert')))).toEqual([{ kind: 'member', user: 'postgres', group: 'ssl-cert', origin: 'script' }]);
  });

  it('ssl-cert and openssh-client: addgroup --system with --force-badname', () => {
    expect(effectsOf(parseAddgroup(words('addgroup --quiet --system --force-badname ssl-cert')))).toEqual([{ kind: 'group', name: 'ssl-cert', range: ADDUSER_SYSTEM, origin: 'script' }]);
    expect(effectsOf(parseAddgroup(words('addgroup --system --quiet --force-badname _ssh')))).toEqual([{ kind: 'group', name: '_ssh', range: ADDUSER_SYSTEM, origin: 'script' }]);
  });

  it('a system user with a home: made 0755, owned by the user and its group, unless it exists', () => {
    const args = words('adduser --system --home /var/lib/foo --gid 120 foo');
    expect(effectsOf(parseAdduser(args))).toEqual([
      { kind: 'user', name: 'foo', range: ADDUSER_SYSTEM, group: 120, gecos: '', home: '/var/lib/foo', shell: '/usr/sbin/nologin', origin: 'script' },
      { kind: 'directory', path: '/var/lib/foo', mode: 0o755, user: 'foo', group: '120' },
    ]);
    expect(effectsOf(parseAdduser(args, 'adduser', { homeExists: (p) => p === '/var/lib/foo' }))).toHaveLength(1);
  });

  it('--uid with --group: the group takes the uid', () => {
    expect(parseAdduser(words('adduser --system --uid 555 --group --ingroup x fixed'))).toEqual({ unrecognized: 'adduser: --group, --ingroup and --gid are mutually exclusive' });
    const [group, user] = effectsOf(parseAdduser(words('adduser --system --uid 555 --group fixed')));
    expect(group).toEqual({ kind: 'group', name: 'fixed', gid: 555, origin: 'script' });
    expect(user).toMatchObject({ uid: 555, group: 'fixed' });
  });

  it('a regular user: own group, member of users, home 0700 with skeleton and terminal prompts noted', () => {
    const result = parseAdduser(words('adduser --disabled-password --gecos "" fred'));
    expect(effectsOf(result)).toEqual([
      { kind: 'user', name: 'fred', range: up(1000, 59999), gecos: ',,,', home: '/home/fred', shell: '/bin/bash', origin: 'script' },
      { kind: 'member', user: 'fred', group: 'users', origin: 'script' },
      { kind: 'directory', path: '/home/fred', mode: 0o700, user: 'fred', group: 'fred' },
    ]);
    expect(noteOf(result)).toContain('/etc/skel');
    expect(noteOf(result)).not.toContain('passwd asks');
    const prompted = parseAdduser(words('adduser --no-create-home --disabled-login wilma'));
    expect(effectsOf(prompted)[0]).toMatchObject({ gecos: ',,,', shell: '/usr/sbin/nologin' });
    expect(noteOf(prompted)).toContain('chfn asks');
  });

  it('chfn: comma-separated gecos fields, and what it refuses', () => {
    expect(chfnGecos('')).toBe(',,,');
    expect(chfnGecos('a,b')).toBe('a,b,,');
    expect(chfnGecos('a,b,c,d,e,f')).toBe('a,b,c,d,e');
    expect(chfnGecos('a,b,c,d,')).toBe('a,b,c,d');
    expect(chfnGecos('x=y')).toBeUndefined();
    expect(chfnGecos('n,r,wörk')).toBeUndefined();
    expect(parseAdduser(words('adduser --system --gecos "a:b" x'))).toEqual({ unrecognized: 'adduser: chfn refuses the gecos "a:b"' });
  });

  it('reads options as Getopt::Long does: one dash, abbreviations, =value, operands anywhere', () => {
    const effects = effectsOf(parseAdduser(words('adduser sysuser -system --no-create --home=/srv/x -q --SHELL /bin/sh')));
    expect(effects).toEqual([{ kind: 'user', name: 'sysuser', range: ADDUSER_SYSTEM, group: 'nogroup', gecos: '', home: '/srv/x', shell: '/bin/sh', origin: 'script' }]);
    expect(parseAdduser(words('adduser --disabled x'))).toEqual({ unrecognized: 'adduser: option --disabled is ambiguous' });
    expect(parseAdduser(words('adduser --allow-bad x'))).toEqual({ unrecognized: 'adduser: option --allow-bad is ambiguous' });
    expect(parseAdduser(words('adduser --encrypt-home x'))).toEqual({ unrecognized: 'adduser: option --encrypt-home is not understood' });
    expect(parseAdduser(words('adduser --system --uid=abc x'))).toEqual({ unrecognized: 'adduser: option --uid needs a number, not abc' });
    expect(parseAdduser(words('adduser --system --gecos= x'))).toEqual({ unrecognized: 'adduser: option --gecos needs a value' });
  });

  it('refuses what adduser refuses', () => {
    expect(parseAddgroup(words('addgroup user group'))).toEqual({ unrecognized: 'addgroup: two names is an unspecified operation' });
    expect(parseAdduser(words('adduser --system a b'))).toEqual({ unrecognized: 'adduser: only one name is allowed in this mode' });
    expect(parseAdduser(words('adduser --system --home var/x x'))).toEqual({ unrecognized: 'adduser: the home directory var/x is not an absolute path' });
    expect(parseAdduser(words('adduser --system Foo'))).toEqual({ unrecognized: 'adduser: the name Foo is refused without --allow-bad-names' });
    expect(effectsOf(parseAdduser(words('adduser --system --allow-bad-names Foo')))).toHaveLength(1);
    expect(parseAdduser(words('adduser --system --allow-all-names 123'))).toEqual({ unrecognized: 'adduser: the name 123 is refused' });
    expect(parseAdduser(words('adduser --conf /tmp/x.conf --system x'))).toEqual({ unrecognized: 'adduser: --conf reads another configuration file' });
    expect(effectsOf(parseAdduser(['--help']))).toEqual([]);
  });

  it('adduser --group without --system is addgroup; addgroup --gid and ranges', () => {
    expect(effectsOf(parseAdduser(words('adduser --group staffers')))).toEqual([{ kind: 'group', name: 'staffers', range: up(1000, 59999), origin: 'script' }]);
    expect(effectsOf(parseAddgroup(words('addgroup --system --gid 42 shadowy')))).toEqual([{ kind: 'group', name: 'shadowy', gid: 42, origin: 'script' }]);
    expect(effectsOf(parseAddgroup(words('addgroup --system --firstgid 200 --lastgid 299 ranged')))).toEqual([{ kind: 'group', name: 'ranged', range: up(200, 299), origin: 'script' }]);
  });
});

describe('shadow-utils useradd, groupadd, usermod, gpasswd', () => {
  it('passwd.postinst: groupadd -g 42 shadow', () => {
    expect(effectsOf(parseGroupadd(argsOf(fixture('passwd.postinst'), 'groupadd'), DEBIAN_SHADOW_DEFAULTS))).toEqual([{ kind: 'group', name: 'shadow', gid: 42, origin: 'script' }]);
  });

  it("Arch's bitlbee.install: a system group and user with fixed ids", () => {
    // archlinux/svntogit-packages bitlbee/trunk/bitlbee.install
    expect(effectsOf(parseGroupadd(words('groupadd -r -g 65 bitlbee'), ARCH_SHADOW_DEFAULTS))).toEqual([{ kind: 'group', name: 'bitlbee', gid: 65, origin: 'script' }]);
    const result = parseUseradd(words('useradd -r -u 65 -g bitlbee -d /var/lib/bitlbee -s /bin/false -c bitlbee bitlbee'), ARCH_SHADOW_DEFAULTS);
    expect(effectsOf(result)).toEqual([{ kind: 'user', name: 'bitlbee', uid: 65, group: 'bitlbee', gecos: 'bitlbee', home: '/var/lib/bitlbee', shell: '/bin/false', origin: 'script' }]);
    expect(noteOf(result)).toBeUndefined();
  });

  it("Arch's bind.install: a regular-mode useradd with a low uid gets no subordinate ids", () => {
    // archlinux/svntogit-packages bind/repos/extra-x86_64/bind.install
    const result = parseUseradd(words('usr/sbin/useradd -u 40 -c "BIND DNS Server" -g named -d /var/named -s /bin/false named'), ARCH_SHADOW_DEFAULTS);
    expect(effectsOf(result)).toEqual([{ kind: 'user', name: 'named', uid: 40, group: 'named', gecos: 'BIND DNS Server', home: '/var/named', shell: '/bin/false', origin: 'script' }]);
    expect(noteOf(result)).toBeUndefined();
  });

  it('defaults: an own group, /home/NAME not made for -r, the distribution’s shell and -N group', () => {
    expect(effectsOf(parseUseradd(['-r', 'svc'], DEBIAN_SHADOW_DEFAULTS))).toEqual([
      { kind: 'user', name: 'svc', range: down(101, 999), gecos: '', home: '/home/svc', shell: '/bin/sh', origin: 'script' },
    ]);
    expect(effectsOf(parseUseradd(['-r', 'svc'], ARCH_SHADOW_DEFAULTS))[0]).toMatchObject({ shell: '/bin/bash' });
    expect(effectsOf(parseUseradd(['-N', 'u'], DEBIAN_SHADOW_DEFAULTS))[0]).toMatchObject({ group: 100, range: up(1000, 60000) });
    expect(effectsOf(parseUseradd(['-N', 'u'], ARCH_SHADOW_DEFAULTS))[0]).toMatchObject({ group: 'users' });
    expect(noteOf(parseUseradd(['u'], DEBIAN_SHADOW_DEFAULTS))).toContain('/etc/subuid');
  });

  it('-m makes the home (mode from UMASK), with the skeleton noted unless -k /dev/null or it exists', () => {
    const result = parseUseradd(words('useradd -r -m -d /var/lib/svc -G adm,audio svc'), DEBIAN_SHADOW_DEFAULTS);
    expect(effectsOf(result)).toEqual([
      { kind: 'user', name: 'svc', range: down(101, 999), gecos: '', home: '/var/lib/svc', shell: '/bin/sh', origin: 'script' },
      { kind: 'member', user: 'svc', group: 'adm', origin: 'script' },
      { kind: 'member', user: 'svc', group: 'audio', origin: 'script' },
      { kind: 'directory', path: '/var/lib/svc', mode: 0o755, user: 'svc', group: 'svc' },
    ]);
    expect(noteOf(result)).toBe('useradd: files of /etc/skel are not copied into /var/lib/svc');
    expect(noteOf(parseUseradd(words('useradd -r -m -k /dev/null svc'), DEBIAN_SHADOW_DEFAULTS))).toBeUndefined();
    expect(effectsOf(parseUseradd(['-r', '-m', 'svc'], DEBIAN_SHADOW_DEFAULTS, { homeExists: () => true }))).toHaveLength(1);
    expect(effectsOf(parseUseradd(['-r', '-m', '-K', 'HOME_MODE=0700', 'svc'], DEBIAN_SHADOW_DEFAULTS))[1]).toMatchObject({ mode: 0o700 });
  });

  it('bundled flags, attached values and long options', () => {
    expect(effectsOf(parseUseradd(['-rMNs/usr/sbin/nologin', '--gid=nogroup', '--comm', 'x y', 'svc'], DEBIAN_SHADOW_DEFAULTS))).toEqual([
      { kind: 'user', name: 'svc', range: down(101, 999), group: 'nogroup', gecos: 'x y', home: '/home/svc', shell: '/usr/sbin/nologin', origin: 'script' },
    ]);
  });

  it("-K as Debian's adduser passes it, and a -K the ranges cannot take", () => {
    const args = words('/usr/sbin/useradd -r -K SYS_UID_MIN=100 -K SYS_UID_MAX=999 -d /nonexistent -g nogroup -s /usr/sbin/nologin svc');
    expect(effectsOf(parseUseradd(args, DEBIAN_SHADOW_DEFAULTS))[0]).toMatchObject({ range: down(100, 999) });
    expect(parseUseradd(['-r', '-K', 'UID_MIN=500', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({
      unrecognized: 'useradd: -K UID_MIN/GID_MIN without SYS_UID_MAX/SYS_GID_MAX leaves the system range to login.defs',
    });
    expect(parseUseradd(['-K', 'PASS_MAX_DAYS=30', 'u'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: -K PASS_MAX_DAYS=30 is not modeled' });
  });

  it('passwords, conflicts, and options that reach outside the image', () => {
    expect(noteOf(parseUseradd(['-r', '-p', 'Zq3x.hash', 'svc'], DEBIAN_SHADOW_DEFAULTS))).toContain('password');
    // A crypt hash reads as expansions once its quotes are gone: "$6" could be a positional parameter.
    expect(parseUseradd(['-r', '-p', '$6$salt$hash', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: $6$salt$hash is only known when the script runs' });
    expect(noteOf(parseUseradd(['-r', '-p', '!', 'svc'], DEBIAN_SHADOW_DEFAULTS))).toBeUndefined();
    expect(parseUseradd(['-U', '-g', 'x', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: -U and -g conflict' });
    expect(parseUseradd(['-o', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: -o is only allowed with -u' });
    expect(parseUseradd(['-D', '-s', '/bin/zsh'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd -D changes useradd’s own defaults' });
    expect(parseUseradd(['-e', '2030-01-01', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: -e sets an expiry date, which is not modeled' });
    expect(parseUseradd(['-s', 'bash', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: bash is not a valid shell' });
    expect(parseUseradd(['--frobnicate', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: option --frobnicate is not understood' });
    expect(parseUseradd(['-r', '-d', '$HOME_DIR', 'svc'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'useradd: $HOME_DIR is only known when the script runs' });
  });

  it('groupadd: -r, -f, -U members, -p', () => {
    expect(effectsOf(parseGroupadd(['-r', '-f', 'grp'], DEBIAN_SHADOW_DEFAULTS))).toEqual([{ kind: 'group', name: 'grp', range: down(101, 999), origin: 'script' }]);
    expect(effectsOf(parseGroupadd(['-U', 'a,b', 'team'], DEBIAN_SHADOW_DEFAULTS))).toEqual([
      { kind: 'group', name: 'team', range: up(1000, 60000), origin: 'script' },
      { kind: 'member', user: 'a', group: 'team', origin: 'script' },
      { kind: 'member', user: 'b', group: 'team', origin: 'script' },
    ]);
    expect(parseGroupadd(['-o', 'x'], DEBIAN_SHADOW_DEFAULTS)).toEqual({ unrecognized: 'groupadd: -o is only allowed with -g' });
  });

  it("usermod: adduser's -a -G, polkitd.postinst's -d and -g as an update of the account", () => {
    expect(parseUsermod(words('/usr/sbin/usermod -a -G ssl-cert postgres'))).toEqual({ effects: [{ kind: 'member', user: 'postgres', group: 'ssl-cert', origin: 'script' }] });
    const home = parseUsermod(words('usermod -d /nonexistent polkitd'));
    const group = parseUsermod(words('usermod -g polkitd polkitd'));
    if ('unrecognized' in home || 'unrecognized' in group) throw new Error('unrecognized');
    expect(home).toEqual({ effects: [], update: { user: 'polkitd', home: '/nonexistent' } });
    const created: UserEffect = { kind: 'user', name: 'polkitd', range: ADDUSER_SYSTEM, group: 'nogroup', gecos: '', home: '/var/lib/polkit-1', shell: '/usr/sbin/nologin', origin: 'script' };
    const effects: Effect[] = [created];
    expect(applyUserUpdate(effects, home.update!)).toBe(true);
    expect(applyUserUpdate(effects, group.update!)).toBe(true);
    expect(effects[0]).toMatchObject({ home: '/nonexistent', group: 'polkitd' });
    expect(applyUserUpdate([], group.update!)).toBe(false);
    expect(noteOf(parseUsermod(['-G', 'a,b', 'u']) as AccountCommandResult)).toContain('drops the user');
    expect(parseUsermod(['-l', 'new', 'old'])).toEqual({ unrecognized: 'usermod: -l changes the login name, which is not modeled' });
    expect(parseUsermod(['-a', 'u'])).toEqual({ unrecognized: 'usermod: -a is only allowed with -G' });
    expect(parseUsermod(['-L', 'u'])).toEqual({ effects: [] });
  });

  it('gpasswd -a USER GROUP', () => {
    expect(effectsOf(parseGpasswd(words('gpasswd -a alice wheel')))).toEqual([{ kind: 'member', user: 'alice', group: 'wheel', origin: 'script' }]);
    expect(effectsOf(parseGpasswd(['--add', 'alice', 'wheel']))).toHaveLength(1);
    expect(parseGpasswd(['-d', 'alice', 'wheel'])).toEqual({ unrecognized: 'gpasswd: -d is not modeled' });
    expect(parseGpasswd(['wheel'])).toEqual({ unrecognized: 'gpasswd: without -a it changes the group password' });
  });
});

describe('BusyBox adduser and addgroup (Alpine)', () => {
  const SYS = ALPINE_BUSYBOX_DEFAULTS.systemRange;

  it('alpine-baselayout.pre-install: addgroup -S -g 42 shadow', () => {
    expect(effectsOf(parseBusyboxAddgroup(words('addgroup -S -g 42 shadow')))).toEqual([{ kind: 'group', name: 'shadow', gid: 42, origin: 'script' }]);
  });

  it('caddy.pre-install: -g is the gecos, -G the group (also a membership), the home is made 02755', () => {
    // alpinelinux/aports community/caddy/caddy.pre-install
    expect(effectsOf(parseBusyboxAddgroup(words('addgroup -S caddy')))).toEqual([{ kind: 'group', name: 'caddy', range: SYS, origin: 'script' }]);
    expect(effectsOf(parseBusyboxAdduser(words('adduser -S -D -h /var/lib/caddy -s /sbin/nologin -G caddy -g caddy caddy')))).toEqual([
      { kind: 'user', name: 'caddy', range: SYS, group: 'caddy', gecos: 'caddy', home: '/var/lib/caddy', shell: '/sbin/nologin', origin: 'script' },
      { kind: 'member', user: 'caddy', group: 'caddy', origin: 'script' },
      { kind: 'directory', path: '/var/lib/caddy', mode: 0o2755, user: 'caddy', group: 'caddy' },
    ]);
    expect(effectsOf(parseBusyboxAdduser(words('adduser caddy www-data')))).toEqual([{ kind: 'member', user: 'caddy', group: 'www-data', origin: 'script' }]);
  });

  it('at.pre-install: fixed ids and -H', () => {
    // alpinelinux/aports community/at/at.pre-install
    expect(effectsOf(parseBusyboxAddgroup(words('addgroup -g 25 -S at')))).toEqual([{ kind: 'group', name: 'at', gid: 25, origin: 'script' }]);
    expect(effectsOf(parseBusyboxAdduser(words('adduser -u 25 -S -D -H -s /sbin/nologin -h /var/spool/atd -G at -g at at')))).toEqual([
      { kind: 'user', name: 'at', uid: 25, group: 'at', gecos: 'at', home: '/var/spool/atd', shell: '/sbin/nologin', origin: 'script' },
      { kind: 'member', user: 'at', group: 'at', origin: 'script' },
    ]);
  });

  it('cups.pre-install: a system user without -H gets /home/NAME; addgroup USER GROUP is a membership', () => {
    // alpinelinux/aports main/cups/cups.pre-install
    expect(effectsOf(parseBusyboxAdduser(words('adduser -S -G lp lp')))).toEqual([
      { kind: 'user', name: 'lp', range: SYS, group: 'lp', gecos: 'Linux User,,,', home: '/home/lp', shell: '/sbin/nologin', origin: 'script' },
      { kind: 'member', user: 'lp', group: 'lp', origin: 'script' },
      { kind: 'directory', path: '/home/lp', mode: 0o2755, user: 'lp', group: 'lp' },
    ]);
    expect(effectsOf(parseBusyboxAddgroup(words('addgroup lp lp')))).toEqual([{ kind: 'member', user: 'lp', group: 'lp', origin: 'script' }]);
  });

  it('dbus.pre-install: operands may come before options; nginx.pre-install: a non-system group', () => {
    // alpinelinux/aports main/dbus/dbus.pre-install and an older main/nginx/nginx.pre-install
    const [user] = effectsOf(parseBusyboxAdduser(words('adduser -S -H -h /dev/null -s /sbin/nologin -D messagebus -G messagebus')));
    expect(user).toMatchObject({ name: 'messagebus', group: 'messagebus', home: '/dev/null' });
    expect(effectsOf(parseBusyboxAddgroup(words('addgroup nginx')))).toEqual([{ kind: 'group', name: 'nginx', range: up(1000, 256000), origin: 'script' }]);
  });

  it('backuppc.pre-install: a quoted gecos', () => {
    const [user] = effectsOf(parseBusyboxAdduser(words('adduser -S -D -H -h /var/lib/BackupPC -s /bin/sh -G backuppc -g "BackupPC user" backuppc')));
    expect(user).toMatchObject({ gecos: 'BackupPC user', shell: '/bin/sh' });
  });

  it('defaults: a system user joins nogroup; a regular one gets its own group and root’s shell', () => {
    expect(effectsOf(parseBusyboxAdduser(['-S', 'svc']))).toEqual([
      { kind: 'user', name: 'svc', range: SYS, group: 'nogroup', gecos: 'Linux User,,,', home: '/home/svc', shell: '/sbin/nologin', origin: 'script' },
      { kind: 'member', user: 'svc', group: 'nogroup', origin: 'script' },
      { kind: 'directory', path: '/home/svc', mode: 0o2755, user: 'svc', group: 'nogroup' },
    ]);
    const regular = parseBusyboxAdduser(['-D', 'bob']);
    expect(effectsOf(regular)).toEqual([
      { kind: 'user', name: 'bob', range: up(1000, 256000), gecos: 'Linux User,,,', home: '/home/bob', shell: '/bin/ash', origin: 'script' },
      { kind: 'directory', path: '/home/bob', mode: 0o2755, user: 'bob', group: 'bob' },
    ]);
    expect(noteOf(regular)).toBeUndefined();
    expect(noteOf(parseBusyboxAdduser(['bob']))).toContain('passwd');
    expect(effectsOf(parseBusyboxAdduser(['-SDHh/srv', '--no-create', 'x']))[0]).toMatchObject({ home: '/srv' });
  });

  it('refuses what the applets refuse', () => {
    expect(parseBusyboxAddgroup(['-g', '5', 'u', 'g'])).toEqual({ unrecognized: 'addgroup: -g with a user and a group is a usage error' });
    expect(parseBusyboxAdduser(['-u', '300000', 'x'])).toEqual({ unrecognized: 'adduser: 300000 is not a user id' });
    expect(parseBusyboxAdduser(['-S', '.x'])).toEqual({ unrecognized: 'adduser: .x is not a valid user name' });
    expect(parseBusyboxAdduser(['-Q', 'x'])).toEqual({ unrecognized: 'adduser: option -Q is not understood' });
    expect(parseBusyboxAdduser(['-S', '-h'])).toEqual({ unrecognized: 'adduser: option -h needs a value' });
  });
});

// ---------------------------------------------------------------------------------------------
// Oracles: the real tools on seeded account files, against what the effects and their id ranges
// imply (the first free id in the range's order; a user without `group` gets its own group with
// the uid's number when that gid is free, else one from its range).

interface AccountState {
  users: Map<string, { uid: number; gid: number; gecos: string; home: string; shell: string }>;
  groups: Map<string, { gid: number; members: string[] }>;
}

function readState(etc: string): AccountState {
  const rows = (file: string) => readFileSync(join(etc, file), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  const users = new Map(rows('passwd').map((f) => [f[0]!, { uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]! }]));
  const groups = new Map(rows('group').map((f) => [f[0]!, { gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }]));
  return { users, groups };
}

function firstFree(range: IdRange, used: Set<number>): number {
  for (let i = 0; i <= range.max - range.min; i++) {
    const id = range.order === 'ascending' ? range.min + i : range.max - i;
    if (!used.has(id)) return id;
  }
  throw new Error('range full');
}

/** The account files' entries the effects imply, given the state before the command. */
function implied(effects: AccountCommandEffect[], before: AccountState): AccountState {
  const uids = new Set([...before.users.values()].map((u) => u.uid));
  const gids = new Set([...before.groups.values()].map((g) => g.gid));
  const gidOf = new Map([...before.groups].map(([n, g]) => [n, g.gid]));
  const out: AccountState = { users: new Map(), groups: new Map() };
  const addGroup = (name: string, gid: number) => {
    gids.add(gid);
    gidOf.set(name, gid);
    out.groups.set(name, { gid, members: [] });
  };
  for (const e of effects) {
    if (e.kind === 'group' && !gidOf.has(e.name)) addGroup(e.name, e.gid ?? firstFree(e.range!, gids));
    if (e.kind === 'user') {
      const uid = e.uid ?? firstFree(e.range!, uids);
      uids.add(uid);
      if (e.group === undefined) addGroup(e.name, gids.has(uid) ? firstFree(e.range ?? up(100, 999), gids) : uid);
      const gid = typeof e.group === 'number' ? e.group : gidOf.get(e.group ?? e.name)!;
      out.users.set(e.name, { uid, gid, gecos: e.gecos, home: e.home, shell: e.shell });
    }
    if (e.kind === 'member') out.groups.set(e.group, { gid: gidOf.get(e.group)!, members: [...(out.groups.get(e.group)?.members ?? []), e.user] });
  }
  return out;
}

/** The tool's result (state after) holds everything the effects imply, directories included. */
function expectImplied(effects: AccountCommandEffect[], before: AccountState, after: AccountState, root: string): void {
  const want = implied(effects, before);
  for (const [name, user] of want.users) expect(after.users.get(name), `user ${name}`).toEqual(user);
  for (const [name, group] of want.groups) {
    expect(after.groups.get(name)?.gid, `gid of ${name}`).toBe(group.gid);
    for (const m of group.members) expect(after.groups.get(name)?.members, `members of ${name}`).toContain(m);
  }
  for (const e of effects) {
    if (e.kind !== 'directory') continue;
    const st = statSync(join(root, e.path));
    const gid = /^\d+$/.test(e.group) ? Number(e.group) : after.groups.get(e.group)!.gid;
    expect({ path: e.path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ path: e.path, mode: e.mode, uid: after.users.get(e.user)!.uid, gid });
  }
}

const temporary: string[] = [];
afterAll(() => temporary.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** base-passwd's masters plus the given lines, with the host's login.defs and useradd defaults. */
function seedEtc(etc: string, passwd: string[], group: string[]): void {
  mkdirSync(join(etc, 'default'), { recursive: true });
  writeFileSync(join(etc, 'passwd'), fixture('base-passwd.passwd.master') + passwd.map((l) => `${l}\n`).join(''));
  writeFileSync(join(etc, 'group'), fixture('base-passwd.group.master') + group.map((l) => `${l}\n`).join(''));
  for (const f of ['shadow', 'gshadow', 'subuid', 'subgid']) writeFileSync(join(etc, f), '');
}

describe('oracle: useradd and groupadd --root (shadow 4.13, this host)', () => {
  it('choose the ids, fields and homes the effects imply', () => {
    const root = tempDir('layerpkg-useradd-');
    const etc = join(root, 'etc');
    // System ids taken from the top down, as useradd -r fills them; one gid taken out of step.
    seedEtc(etc, ['sysa:x:999:999::/home/sysa:/bin/sh', 'sysb:x:998:998::/home/sysb:/bin/sh', 'alice:x:1000:1000::/home/alice:/bin/sh'], ['sysa:x:999:', 'sysb:x:998:', 'taken:x:997:', 'alice:x:1000:']);
    writeFileSync(join(etc, 'login.defs'), readFileSync('/etc/login.defs'));
    writeFileSync(join(etc, 'default', 'useradd'), readFileSync('/etc/default/useradd'));
    const cases: [tool: 'useradd' | 'groupadd', line: string][] = [
      ['useradd', 'useradd -r sysc'],
      ['groupadd', 'groupadd -r -g 65 bitlbee'],
      ['useradd', 'useradd -r -u 65 -g bitlbee -d /var/lib/bitlbee -s /bin/false -c bitlbee bitlbee'],
      ['groupadd', 'groupadd -r grp'],
      ['groupadd', 'groupadd grp2'],
      ['useradd', 'useradd -m -c "Bob,,," bob'],
      ['useradd', 'useradd -N carol'],
      ['useradd', 'useradd -r -m -d /srv/svc -s /usr/sbin/nologin -G grp,grp2 svc'],
      ['useradd', 'useradd -rM -K SYS_UID_MIN=500 -K SYS_UID_MAX=599 ranged'],
      ['groupadd', 'groupadd -g 4242 -U bob,carol team'],
      ['useradd', 'useradd -u 1500 -K HOME_MODE=0750 -m dave'],
      ['useradd', 'useradd -r -g nogroup -d /nonexistent -s /usr/sbin/nologin -u 120 fixed'],
    ];
    for (const [tool, line] of cases) {
      const args = words(line);
      const result = tool === 'useradd' ? parseUseradd(args, DEBIAN_SHADOW_DEFAULTS) : parseGroupadd(args, DEBIAN_SHADOW_DEFAULTS);
      const before = readState(etc);
      const run = spawnSync(tool, ['--root', root, ...args], { encoding: 'utf8' });
      expect(run.status, `${line}: ${run.stderr}`).toBe(0);
      expectImplied(effectsOf(result), before, readState(etc), root);
    }
  });
});

/** Runs Debian's adduser with /etc and /home bind-mounted from `dir` in a private mount namespace. */
function adduserIn(dir: string, tool: string, args: string[]): { status: number | null; stderr: string } {
  const script = 'mount --bind "$D/etc" /etc && mount --bind "$D/home" /home && mount -t tmpfs none /run && exec "$@" </dev/null';
  const run = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', `/usr/sbin/${tool}`, ...args], { encoding: 'utf8', env: { ...process.env, D: dir } });
  return { status: run.status, stderr: run.stderr };
}


describe('oracle: Debian adduser 3.134 of this host, in a private mount namespace', () => {
  it('chooses the ids, fields and homes the effects imply', () => {
    const dir = tempDir('layerpkg-adduser-');
    const etc = join(dir, 'etc');
    mkdirSync(join(dir, 'home'));
    expect(spawnSync('cp', ['-a', '/etc/.', etc]).status).toBe(0);
    seedEtc(etc, ['early:x:100:65534::/nonexistent:/usr/sbin/nologin'], []);
    const cases: [tool: 'adduser' | 'addgroup', line: string][] = [
      // apt.postinst's line; _apt itself is a base-passwd account (uid 42), which adduser refuses to touch.
      ['adduser', 'adduser --force-badname --system --home /nonexistent --no-create-home --quiet _aptly'],
      ['adduser', "adduser --group --system --quiet --gecos 'polkit' --no-create-home --home /nonexistent polkitd"],
      ['adduser', 'adduser --system --quiet --home /home/pg --shell /bin/bash --group --gecos "PostgreSQL administrator" postgres'],
      ['addgroup', 'addgroup --quiet --system --force-badname ssl-cert'],
      ['adduser', 'adduser --quiet postgres ssl-cert'],
      ['adduser', 'adduser --system --uid 555 --group --quiet fixed'],
      ['adduser', 'adduser --system --quiet --comment "a,b,c,d,e" --ingroup ssl-cert --home /home/gecosy gecosy'],
      ['adduser', 'adduser --system --quiet --gid 50 staffer'],
      ['adduser', 'adduser --quiet --disabled-password --gecos Fred fred'],
      ['addgroup', 'addgroup --quiet --gid 3000 plain'],
      ['addgroup', 'addgroup --quiet plain2'],
    ];
    for (const [tool, line] of cases) {
      const args = words(line);
      const result = parseAdduser(args, tool);
      const before = readState(etc);
      const run = adduserIn(dir, tool, args);
      expect(run.status, `${line}: ${run.stderr}`).toBe(0);
      expectImplied(effectsOf(result), before, readState(etc), dir);
    }
  });
});


describe('oracle: BusyBox adduser/addgroup of the Alpine 3.16 minirootfs, in a chroot', () => {
  it('chooses the ids, fields and homes the effects imply', () => {
    const root = tempDir('layerpkg-busybox-');
    expect(spawnSync('tar', ['-xzf', MINIROOTFS_TARBALL, '-C', root]).status).toBe(0);
    const cases: [tool: 'adduser' | 'addgroup', line: string][] = [
      ['addgroup', 'addgroup -S nginx'],
      ['adduser', 'adduser -S -D -H -h /var/empty -s /sbin/nologin -G nginx -g nginx nginx'],
      ['addgroup', 'addgroup -S caddy'],
      ['adduser', 'adduser -S -D -h /var/lib/caddy -s /sbin/nologin -G caddy -g caddy caddy'],
      ['adduser', 'adduser caddy www-data'],
      ['addgroup', 'addgroup -S messagebus'],
      ['adduser', 'adduser -S -H -h /dev/null -s /sbin/nologin -D messagebus -G messagebus'],
      ['adduser', 'adduser -S plainsys'],
      ['adduser', 'adduser -D regular'],
      ['addgroup', 'addgroup -g 4000 fixedgrp'],
      ['addgroup', 'addgroup regular fixedgrp'],
      ['adduser', 'adduser -u 4001 -DH -G fixedgrp -s /bin/sh fixeduser'],
    ];
    for (const [tool, line] of cases) {
      const args = words(line);
      const result = tool === 'adduser' ? parseBusyboxAdduser(args) : parseBusyboxAddgroup(args);
      const before = readState(join(root, 'etc'));
      const run = spawnSync('chroot', [root, '/bin/sh', '-c', 'exec "$@"', 'sh', tool, ...args], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      expect(run.status, `${line}: ${run.stderr}`).toBe(0);
      expectImplied(effectsOf(result), before, readState(join(root, 'etc')), root);
    }
  });
});
