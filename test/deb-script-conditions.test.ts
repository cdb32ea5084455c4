import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conditionValue, FRESH_INSTALL_ARGS, guardsHold, knownVariables, type PathType, type ScriptEnv } from '../adapters/shell/scriptConditions.js';
import { debCommandStatus } from '../adapters/deb/commandStatus.js';
import { commandWords, type Condition, type Guard, type ShellCommand, type ShellScript } from '../adapters/shell/shellCommands.js';

// Real bookworm maintainer scripts: fixtures/deb/scripts/PROVENANCE.md and PROVENANCE-conditions.md.
const DIR = join(import.meta.dirname, '..', 'fixtures', 'deb', 'scripts');
const fixture = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const FIXTURES = [
  ...readdirSync(DIR).filter((n) => /\.(pre|post)inst$/.test(n)),
  ...readdirSync(join(DIR, 'conditions')).map((n) => `conditions/${n}`),
];

/** A fresh install with DPKG_ROOT empty; `paths` are what the image holds, anything else is absent. */
function freshEnv(script: 'preinst' | 'postinst', paths: Record<string, PathType> = {}, variables: Record<string, string> = { DPKG_ROOT: '' }): ScriptEnv {
  return { args: [...FRESH_INSTALL_ARGS[script]], variables, pathType: (p) => paths[p] ?? 'absent', commandStatus: debCommandStatus };
}

/** Fresh-install env for a script text, with its constant variables. */
function scriptEnv(text: string, script: 'preinst' | 'postinst', paths: Record<string, PathType> = {}): ScriptEnv {
  const env = freshEnv(script, paths);
  return { ...env, variables: knownVariables(text, commandWords(text), env) };
}

/** "line command" → verdict for every command (verdicts of same-named commands on a line joined by ","). */
function verdicts(text: string, env: ScriptEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of commandWords(text).commands) {
    const key = `${c.line} ${c.command}`;
    const v = guardsHold(c.guards, env);
    out[key] = out[key] === undefined ? v : `${out[key]},${v}`;
  }
  return out;
}

function show(c: Condition): string {
  switch (c.kind) {
    case 'command':
      return [c.command.command, ...c.command.args].join(' ');
    case 'not':
      return `!${show(c.operand)}`;
    case 'and':
    case 'or':
      return `(${show(c.left)} ${c.kind === 'and' ? '&&' : '||'} ${show(c.right)})`;
    case 'unknown':
      return '?';
  }
}

function showGuard(g: Guard): string {
  if (g.kind === 'case') return `case ${g.subject} in ${g.patterns.join('|')}${g.excluded.length ? ` not ${g.excluded.join('|')}` : ''}`;
  if (g.kind === 'if') return `if ${g.expect ? '' : '!'}${show(g.condition)}`;
  return `${g.expect ? '&&' : '||'} ${show(g.condition)}`;
}

function only(s: ShellScript, command: string): ShellCommand {
  const found = s.commands.filter((c) => c.command === command);
  if (found.length !== 1) throw new Error(`${found.length} commands named ${command}`);
  return found[0]!;
}
const guardsOf = (s: ShellScript, command: string): string[] => only(s, command).guards.map(showGuard);

describe('commandWords records guards', () => {
  it('if/elif/else: a branch expects its test true and every earlier test false', () => {
    const s = commandWords('if a; then b; elif c x; then d; else e; fi; f\n');
    const a = only(s, 'a');
    expect(only(s, 'b').guards).toEqual([{ kind: 'if', condition: { kind: 'command', command: a }, expect: true }]);
    expect(guardsOf(s, 'c')).toEqual(['if !a']);
    expect(guardsOf(s, 'd')).toEqual(['if !a', 'if c x']);
    expect(guardsOf(s, 'e')).toEqual(['if !a', 'if !c x']);
    expect(guardsOf(s, 'a')).toEqual([]);
    expect(guardsOf(s, 'f')).toEqual([]);
  });

  it('the test of an if is the status of its last and-or list; guards nest outermost first', () => {
    const s = commandWords('if p; q && r; then\n  if s; then t; fi\nfi\n');
    expect(guardsOf(s, 't')).toEqual(['if (q && r)', 'if s']);
    expect(guardsOf(s, 's')).toEqual(['if (q && r)']);
    expect(guardsOf(s, 'r')).toEqual(['&& q']);
  });

  it('&& and || are left-associative with equal precedence; ! and pipelines', () => {
    const s = commandWords('a && b || c\n! d | e && f\ng || h && i\n{ j; k; } && l\nm || if n; then o; fi\n');
    expect(guardsOf(s, 'b')).toEqual(['&& a']);
    expect(guardsOf(s, 'c')).toEqual(['|| (a && b)']);
    expect(guardsOf(s, 'e')).toEqual([]); // a pipeline's commands all run
    expect(guardsOf(s, 'f')).toEqual(['&& !e']); // the last command decides, ! negates
    expect(guardsOf(s, 'h')).toEqual(['|| g']);
    expect(guardsOf(s, 'i')).toEqual(['&& (g || h)']);
    expect(guardsOf(s, 'l')).toEqual(['&& k']); // a group's status is its last command's
    expect(guardsOf(s, 'n')).toEqual(['|| m']);
    expect(guardsOf(s, 'o')).toEqual(['|| m', 'if n']);
  });

  it('an operator at the end of a line continues the list; ; and newlines end it', () => {
    const s = commandWords('if\n  [ -h x ] &&\n  [ -f y ] |\n  tee\nthen\n  z\nfi\nw; v\n');
    expect(guardsOf(s, 'z')).toEqual(['if ([ -h x ] && tee)']);
    expect(guardsOf(s, 'v')).toEqual([]);
  });

  it('case items: patterns as written, earlier ;; items excluded, ;& falls through', () => {
    const script = [
      'case "$1" in',
      '  configure) a ;;',
      '  abort-upgrade|abort-remove) b ;;',
      '  (x) c ;&',
      '  "y") d ;;',
      '  *) e',
      'esac',
    ].join('\n');
    const s = commandWords(script);
    expect(guardsOf(s, 'a')).toEqual(['case "$1" in configure']);
    expect(guardsOf(s, 'b')).toEqual(['case "$1" in abort-upgrade|abort-remove not configure']);
    expect(guardsOf(s, 'c')).toEqual(['case "$1" in x not configure|abort-upgrade|abort-remove']);
    expect(guardsOf(s, 'd')).toEqual(['case "$1" in x|"y" not configure|abort-upgrade|abort-remove']);
    expect(guardsOf(s, 'e')).toEqual(['case "$1" in * not configure|abort-upgrade|abort-remove|x|"y"']);
    const runs = (arg: string): string[] =>
      ['a', 'b', 'c', 'd', 'e'].filter((n) => guardsHold(only(s, n).guards, { ...freshEnv('postinst'), args: [arg] }) === 'always');
    expect(runs('configure')).toEqual(['a']);
    expect(runs('abort-remove')).toEqual(['b']);
    expect(runs('x')).toEqual(['c', 'd']);
    expect(runs('y')).toEqual(['d']);
    expect(runs('triggered')).toEqual(['e']);
  });

  it('a case inside an if, and an if inside a case item', () => {
    const s = commandWords('if [ "$1" = configure ]; then\n case "$2" in "") a ;; *) b ;; esac\nfi\ncase $1 in configure) [ -n "$2" ] && c ;; esac\n');
    expect(guardsOf(s, 'a')).toEqual(['if [ $1 = configure ]', 'case "$2" in ""']);
    expect(guardsOf(s, 'c')).toEqual(['case $1 in configure', '&& [ -n $2 ]']);
    const env = freshEnv('postinst');
    expect(['a', 'b', 'c'].map((n) => guardsHold(only(s, n).guards, env))).toEqual(['always', 'never', 'never']);
  });

  it('while bodies expect the test true, until bodies false', () => {
    const s = commandWords('while read x; do a; done < /etc/f\nuntil [ -e /f ]; do b; done\n');
    expect(guardsOf(s, 'a')).toEqual(['if read x']);
    expect(guardsOf(s, 'b')).toEqual(['if ![ -e /f ]']);
    expect(guardsHold(only(s, 'a').guards, freshEnv('postinst'))).toBe('maybe');
    expect(guardsHold(only(s, 'b').guards, freshEnv('postinst'))).toBe('always');
  });

  it('guards in a function body are relative to the body; $1 there is the function\'s', () => {
    const s = commandWords('if [ -d /run/systemd/system ]; then\n  f() { [ -d "$1" ] || mkdir "$1"; }\nfi\nif [ "$1" = configure ]; then g; fi\n');
    expect(guardsOf(s, 'mkdir')).toEqual(['|| [ -d $1 ]']);
    expect(only(s, 'mkdir').function).toBe('f');
    // With $1 = "configure", the script's [ -d "$1" ] would be false; inside f it is unknown.
    expect(guardsHold(only(s, 'mkdir').guards, freshEnv('postinst'))).toBe('maybe');
    expect(guardsHold(only(s, 'g').guards, freshEnv('postinst'))).toBe('always');
  });

  it('commands in $(…), heredocs and redirections carry the guards of where they are', () => {
    const s = commandWords('[ -n "$2" ] && x=$(a "$(b)")\n[ "$1" = configure ] && cat > /etc/f <<EOF\n$(c)\nEOF\nif d; then e; fi >/etc/g\n');
    expect(guardsOf(s, 'a')).toEqual(['&& [ -n $2 ]']);
    expect(guardsOf(s, 'b')).toEqual(['&& [ -n $2 ]']);
    expect(guardsOf(s, 'c')).toEqual(['&& [ $1 = configure ]']);
    expect(s.assignments[0]?.guards.map(showGuard)).toEqual(['&& [ -n $2 ]']);
    expect(s.writes.map((w) => [w.target, w.guards.map(showGuard)])).toEqual([
      ['/etc/f', ['&& [ $1 = configure ]']],
      ['/etc/g', []],
    ]);
  });

  it('the commands of a test are still commands, and raw words keep their quotes', () => {
    const s = commandWords('if [ "$1" = \'configure\' ] && ! getent passwd x >/dev/null; then adduser x; fi\n');
    expect(s.commands.map((c) => c.command)).toEqual(['[', 'getent', 'adduser']);
    expect(only(s, '[').raw).toEqual(['[', '"$1"', '=', "'configure'", ']']);
    expect(guardsOf(s, 'adduser')).toEqual(['if ([ $1 = configure ] && !getent passwd x)']);
    expect(guardsHold(only(s, 'adduser').guards, freshEnv('postinst'))).toBe('maybe');
  });

  it('after shift or set -- (or either inside a loop), $1… are no longer the script\'s', () => {
    const env = freshEnv('postinst');
    const hold = (script: string): string => guardsHold(only(commandWords(script), 'a').guards, env);
    expect(hold('[ "$1" = configure ] && a\n')).toBe('always');
    expect(hold('set -e\n[ "$1" = configure ] && a\n')).toBe('always');
    expect(hold('shift\n[ "$1" = configure ] && a\n')).toBe('maybe');
    expect(hold('set -- x\ncase "$1" in configure) a ;; esac\n')).toBe('maybe');
    expect(hold('for i in 1 2; do\n  [ "$1" = configure ] && a\n  set -- $i\ndone\n')).toBe('maybe');
    expect(hold('[ "$1" = configure ] && a\nf() { shift; }\n')).toBe('always'); // f's own arguments
  });

  it('never throws on malformed input, and every guard evaluates', () => {
    const bits = ['a', ' ', '\n', '"', "'", '`', '$', '$1', '(', ')', '{', '}', '\\', '<<', 'EOF', ';', ';;', ';&', '|', '&', '&&', '||', '!', '#', 'case', 'in', 'esac', 'for', 'do', 'done', 'if', 'then', 'elif', 'else', 'fi', 'while', '$(', '${', '[', ']', '-n', '=', '>', 'x=', 'f()', '[['];
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const env = freshEnv('postinst');
    for (let i = 0; i < 3000; i++) {
      const s = commandWords(Array.from({ length: rnd(40) }, () => bits[rnd(bits.length)]).join(' '));
      for (const c of s.commands) guardsHold(c.guards, env);
    }
  });
});

describe('conditionValue', () => {
  const PATHS: Record<string, PathType> = {
    '/etc/x': 'file',
    '/etc/init.d/foo': 'file',
    '/var/run': 'symlink',
    '/usr/share/man/man1': 'directory',
  };
  /** The value of `expr` as an if test, for `postinst configure ""`. */
  const valueOf = (expr: string, env: ScriptEnv = freshEnv('postinst', PATHS)): boolean | undefined => {
    const g = only(commandWords(`if ${expr}\nthen MARK; fi\n`), 'MARK').guards[0];
    if (g?.kind !== 'if') throw new Error(expr);
    return conditionValue(g.condition, env);
  };

  // [expression, value]; undefined = cannot be known without running it.
  const WORDS: [string, boolean | undefined][] = [
    ['[ "$1" = configure ]', true],
    ['[ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]', true],
    ['[ "$1" != configure ]', false],
    ['[ "x$1" = xconfigure ]', true],
    ['[ "$1" = \'$1\' ]', false],
    ['test -z "$2"', true],
    ['[ -n "$2" ]', false],
    ['[ ! -z "$2" ]', false],
    ['[ "$2" ]', false],
    ['[ "$1" ]', true],
    ['[ "$2" = "" ]', true],
    ['[ -z "${DPKG_ROOT:-}" ]', true],
    ['[ -n "${DPKG_ROOT-}" ]', false],
    ['[ -z "$DPKG_ROOT" ]', true],
    ['[ -n "${2:-}" ]', false],
    ['[ "${1}" = configure ]', true],
    ['test "${2+set}" = set', true],
    ['test "${3+set}" = set', false],
    ['[ "${2:-none}" = none ]', true],
    ['[ ${2:-a b} = a ]', undefined], // `[ a b = a ]`: the default splits like any expansion
    ['[ ${2:-"a b"} = "a b" ]', true],
    ['[ "${#1}" -eq 9 ]', true],
    ['[ $# -eq 2 ]', true],
    ['[ "$1" = configure -a -z "$2" ]', true],
    ['[ "$1" = upgrade -o -n "$2" ]', false],
    ['[ \\( "$1" = x \\) -o -z "$2" ]', true],
    ['[ ! "$1" = configure ]', false],
    ['[ "$1" = configure ] && [ -z "${DPKG_ROOT:-}" ] && ! [ -n "$2" ]', true],
    ['true', true],
    [':', true],
    ['false', false],
    ['! false', true],
    ['[ ]', false],
    ['dpkg --compare-versions "$2" lt 1.0', true],
    ['dpkg --compare-versions "$2" le "1:3.2.7-3"', true],
    ['dpkg --compare-versions "$2" lt-nl 1.0', false],
    ['dpkg --compare-versions "$2" gt 1.0', false],
    ['dpkg --compare-versions -- "$2" le-nl "2.4.5~"', false],
    ['dpkg --compare-versions "$2" eq ""', true],
    ['dpkg --compare-versions 1.0 lt 2.0', true],
    ['dpkg --compare-versions 2:1 lt 1:9', false],
    ['dpkg --compare-versions 1.0 gt-nl ""', false],
    // dash's [ has no ==; bash's has.
    ['[ "$1" == configure ]', undefined],
    // An unquoted empty $2 vanishes: `[ = x ]` is an error, not a comparison.
    ['[ $2 = x ]', undefined],
    ['[ "$RET" = true ]', undefined],
    ['[ -n "x$RET" ]', true],
    ['[ -z "$RET" ] && [ -n "$2" ]', false],
    ['[ -z "$RET" ] || [ -z "$2" ]', true],
    ['dpkg --compare-versions "$RET" lt 1', undefined],
    // No PATH directory has foo (every path not in PATHS is absent); /etc/init.d is not on PATH.
    ['[ -x "$(command -v foo)" ]', false],
    ['command -v foo >/dev/null', false],
    ['which foo', false],
    ['! getent passwd foo >/dev/null', undefined],
    ['[[ $1 == conf* ]]', true],
    ['[[ $1 == "conf*" ]]', false],
    ['[[ -n $2 || $1 = configure ]]', true],
    ['[[ ! -z $2 && ( -z $2 ) ]]', false],
  ];
  it.each(WORDS)('%s → %s', (expr, value) => {
    expect(valueOf(expr)).toBe(value);
  });

  const PATH_TESTS: [string, boolean | undefined][] = [
    ['[ -d /run/systemd/system ]', false],
    ['[ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]', false],
    ['[ -e "$DPKG_ROOT/etc/x" ]', true],
    ['[ -f //etc/./x ]', true],
    ['[ -f /etc/x/ ]', false],
    ['[ -d /etc/x ]', false],
    ['[ -x /etc/init.d/foo ]', undefined], // its mode is not known
    ['[ -x /usr/sbin/absent ]', false],
    ['[ -s /etc/x ]', undefined],
    ['[ -L /var/run ]', true],
    ['[ -h /etc/x ]', false],
    ['[ -d /var/run ]', undefined], // through a symlink
    ['[ -d /usr/share/man/man1/ ]', true],
    ['[ -e relative ]', undefined],
    ['[ -e /usr/../etc/x ]', undefined],
    ['[ -e /etc/* ]', undefined], // globbing
    ['test "$1" = upgrade -a -L /etc/x', false],
    ['test ! -f /etc/x', false],
  ];
  it.each(PATH_TESTS)('%s → %s', (expr, value) => {
    expect(valueOf(expr)).toBe(value);
  });

  it('a path the caller does not know leaves the test undefined', () => {
    expect(valueOf('[ -e /etc/x ]', { ...freshEnv('postinst'), pathType: () => undefined })).toBe(undefined);
    expect(valueOf('[ -n "$2" ] && [ -e /etc/x ]', { ...freshEnv('postinst'), pathType: () => undefined })).toBe(false);
  });

  // Every definite answer above is what dash (and dpkg) give, run for real where available.
  it('agrees with dash for every definite, path-free answer', () => {
    for (const [expr, value] of WORDS) {
      if (value === undefined || /\[\[/.test(expr)) continue;
      const script = `DPKG_ROOT=\nif ${expr}\nthen echo true; else echo false; fi`;
      const out = execFileSync('/bin/dash', ['-c', script, 'postinst', 'configure', ''], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      expect(`${expr} → ${out}`).toBe(`${expr} → ${String(value)}`);
    }
  });

  const PATTERNS: [string, boolean | undefined][] = [
    ['configure', true],
    ['conf*', true],
    ['c?nfigure', true],
    ['[a-c]onfigure', true],
    ['[!c]onfigure', false],
    ['[[:alpha:]]*', true],
    ['"conf*"', false],
    ['conf\\*', false],
    ['*', true],
    ['abort-*', false],
    ['"$1"', true],
    ['$RET', undefined],
  ];
  it.each(PATTERNS)('case "$1" pattern %s → %s', (pattern, value) => {
    const s = commandWords(`case "$1" in\n  ${pattern}) MARK ;;\nesac\n`);
    const v = guardsHold(only(s, 'MARK').guards, freshEnv('postinst'));
    expect(v).toBe(value === undefined ? 'maybe' : value ? 'always' : 'never');
  });

  it('guardsHold: one failing guard is enough for never, an unknown one leaves maybe', () => {
    const s = commandWords('if getent passwd x; then\n  if [ -n "$2" ]; then a; fi\n  b\nfi\n');
    const env = freshEnv('postinst');
    expect(guardsHold(only(s, 'a').guards, env)).toBe('never');
    expect(guardsHold(only(s, 'b').guards, env)).toBe('maybe');
    expect(guardsHold([], env)).toBe('always');
  });
});

describe('knownVariables', () => {
  const base = { args: [...FRESH_INSTALL_ARGS.postinst], variables: { DPKG_ROOT: '' } };
  const known = (text: string): Record<string, string> => knownVariables(text, commandWords(text), base);

  it('keeps single, unguarded, top-level constants and the base variables', () => {
    expect(known('PKG=e2fsprogs\nDOCLNK=/usr/share/doc/$PKG\ntype=$1\nv="${2:-none}"\n')).toEqual({
      DPKG_ROOT: '',
      PKG: 'e2fsprogs',
      DOCLNK: '/usr/share/doc/e2fsprogs',
      type: 'configure',
      v: 'none',
    });
  });

  it('drops what may hold another value where it is read', () => {
    expect(
      known(
        [
          'a=1', 'a=2', // assigned twice
          '[ -n "$2" ] && b=1', // guarded
          'f() { c=1; }', // in a function
          'echo "$d"', 'd=1', // read before
          'for e in 1 2; do :; done', 'e=1', // a loop variable
          'read g', 'g=1',
          'h=$(date)', // unknown value
          'DPKG_ROOT=/x', 'shift', 'i=$1',
        ].join('\n'),
      ),
    ).toEqual({ DPKG_ROOT: '/x' });
  });

  it('a self-default reads the base value', () => {
    expect(known('DPKG_ROOT=${DPKG_ROOT:-}\n')).toEqual({ DPKG_ROOT: '' });
  });
});

describe('real bookworm scripts on a fresh install', () => {
  it('apt.postinst: the _apt user maybe, upgrade and systemd branches never', () => {
    const v = verdicts(fixture('apt.postinst'), scriptEnv(fixture('apt.postinst'), 'postinst'));
    expect(v).toMatchObject({
      '4 getent': 'always',
      '6 adduser': 'maybe', // only if getent finds no _apt
      '10 dpkg': 'never', // [ -n "$2" ] fails first
      '11 rm': 'never',
      '21 [': 'always,never,never,never', // the abort-* tests after a true || never run
      '23 deb-systemd-helper': 'always',
      '29 deb-systemd-helper': 'always', // enable: was-enabled is true on a fresh install
      '33 deb-systemd-helper': 'never', // update-state, its else branch
      '57 systemctl': 'never', // no /run/systemd/system
      '63 deb-systemd-invoke': 'never',
    });
  });

  it('polkitd.postinst: ${DPKG_ROOT-}, [ -d /run/systemd/system ], compare-versions with an empty $2', () => {
    const text = fixture('conditions/polkitd.postinst');
    const v = verdicts(text, scriptEnv(text, 'postinst'));
    expect(v).toMatchObject({
      '33 return': 'never', // [ -n "${DPKG_ROOT-}" ] in stop_polkitd
      '37 deb-systemd-invoke': 'never',
      '42 start-stop-daemon': 'always', // the non-systemd branch of the function
      '59 systemd-sysusers': 'never', // command -v finds no systemd-sysusers in this image
      '61 adduser': 'always',
      '71 stop_polkitd': 'maybe', // "" lt 122-3~ is true, then getent decides
      '82 set_perms': 'always',
      '101 exit': 'never', // *) after configure)
      '110 update-xmlcatalog': 'always',
      '137 systemctl': 'never',
      '139 deb-systemd-invoke': 'never',
      '165 rmdir': 'never', // [ -d "$path" ] for each loop word: neither directory is in this image
      '175 stop_polkitd': 'always',
    });
    const s = commandWords(text);
    const userChanged = s.assignments.filter((a) => a.name === 'user_changed').map((a) => guardsHold(a.guards, freshEnv('postinst')));
    expect(userChanged).toEqual(['maybe', 'maybe', 'maybe']);
  });

  it('procps.postinst: dpkg --compare-versions "" le X is true; abort-upgrade and * items never', () => {
    const text = fixture('conditions/procps.postinst');
    const v = verdicts(text, scriptEnv(text, 'postinst'));
    expect(v).toMatchObject({
      '62 update-rc.d': 'never', // no /etc/rcS.d/S30procps.sh
      '71 mv_conffile': 'always',
      '76 update-alternatives': 'always',
      '81 check_alternatives': 'always',
      '94 exit': 'never',
      '102 dpkg-maintscript-helper': 'always',
      '108 update-rc.d': 'never', // no /etc/init.d/procps
    });
    const withInit = verdicts(text, scriptEnv(text, 'postinst', { '/etc/init.d/procps': 'file' }));
    expect(withInit['108 update-rc.d']).toBe('maybe'); // -x of a file whose mode we do not know
  });

  it('ucf.postinst: ${2+set}, elif chains and the abort-* items', () => {
    const text = fixture('conditions/ucf.postinst');
    const v = verdicts(text, scriptEnv(text, 'postinst'));
    expect(v).toMatchObject({
      '39 print': 'never', // package_name=ucf is a known constant
      '122 touch': 'always',
      '174 :': 'never', // test "${2+set}" != set: $2 is set, if empty
      '176 test': 'always,never', // test -z "$2" || test "$2" = "<unknown>"
      '179 :': 'always',
      '184 :': 'never',
      '195 echo': 'never',
      '207 exit': 'never',
      '217 exit': 'never',
    });
  });

  it('debianutils.postinst: (configure) runs ua, (abort-…) and (triggered) do not', () => {
    const text = fixture('debianutils.postinst');
    expect(verdicts(text, scriptEnv(text, 'postinst'))).toMatchObject({
      '17 cp': 'always,maybe', // cp -pZ, and plain cp if that fails
      '22 update-shells': 'always',
      '23 ua': 'always',
      '26 update-shells': 'never',
      '30 ua': 'never',
      '35 exit': 'never',
    });
    expect(verdicts(text, scriptEnv(text, 'postinst', { '/etc/shells': 'file' }))['17 cp']).toBe('never,never');
  });

  it('dash.postinst: the initial setup runs; update-menus only if command -v finds it', () => {
    const text = fixture('dash.postinst');
    expect(verdicts(text, scriptEnv(text, 'postinst', { '/usr/share/man/man1': 'directory' }))).toMatchObject({
      '116 initial_binsh_setup': 'always',
      '122 claim_binsh': 'always',
      '124 claim_binsh': 'always',
      '130 update-menus': 'never', // no update-menus on PATH
    });
    const withMenus = scriptEnv(text, 'postinst', { '/usr/share/man/man1': 'directory', '/usr/bin/update-menus': 'file' });
    expect(verdicts(text, withMenus)['130 update-menus']).toBe('maybe'); // -x of a file: its mode is not known
  });

  it('libpam0g.postinst: the upgrade branch never runs; a function\'s $2 is its own', () => {
    const text = fixture('libpam0g.postinst');
    expect(verdicts(text, scriptEnv(text, 'postinst'))).toMatchObject({
      '16 shift': 'maybe', // [ "$2" = "in" ] inside element()
      '60 systemctl': 'always', // in a function body: relative to the body
      '127 dpkg': 'never',
      '128 db_version': 'never',
      '227 db_stop': 'never',
    });
  });

  it('base-files.postinst: fresh-install branch, upgrade branch and path tests', () => {
    const text = fixture('base-files.postinst');
    const paths: Record<string, PathType> = { '/etc/dpkg/origins/debian': 'file', '/usr/share/info': 'directory' };
    expect(verdicts(text, scriptEnv(text, 'postinst', paths))).toMatchObject({
      '14 mkdir': 'maybe', // [ ! -d "$DPKG_ROOT$1" ] in install_local_dir
      '57 ln': 'always',
      '62 install_from_default': 'always',
      '90 ln': 'always',
      '98 install_from_default': 'always',
      '99 chmod': 'always',
      '103 update_to_current_default': 'never',
      '106 install_directory': 'never',
    });
    expect(verdicts(text, scriptEnv(text, 'postinst', { ...paths, '/etc/dpkg/origins/default': 'file' }))['57 ln']).toBe('never');
    // -e follows a symlink, whose target we do not resolve.
    expect(verdicts(text, scriptEnv(text, 'postinst', { ...paths, '/etc/dpkg/origins/default': 'symlink' }))['57 ln']).toBe('maybe');
  });

  it('login.postinst: files are created when absent', () => {
    const text = fixture('login.postinst');
    expect(verdicts(text, scriptEnv(text, 'postinst'))).toMatchObject({ '9 touch': 'always', '16 touch': 'always' });
    expect(verdicts(text, scriptEnv(text, 'postinst', { '/etc/subuid': 'file' }))).toMatchObject({ '9 touch': 'always', '16 touch': 'never' });
  });

  it('e2fsprogs.preinst and libc6: constants from assignments decide tests', () => {
    const e2fs = fixture('e2fsprogs.preinst');
    expect(verdicts(e2fs, scriptEnv(e2fs, 'preinst'))['11 rm']).toBe('never');
    // Without the constants, unquoted $DOCLNK may split into any number of words.
    expect(verdicts(e2fs, freshEnv('preinst'))['11 rm']).toBe('maybe');

    const pre = fixture('libc6.preinst');
    expect(verdicts(pre, scriptEnv(pre, 'preinst'))['27 export']).toBe('always'); // [ "$type" != abort-upgrade ]
    const post = fixture('libc6.postinst');
    expect(verdicts(post, scriptEnv(post, 'postinst'))).toMatchObject({
      '39 rm': 'maybe', // all_upgraded has two values
      '56 dpkg': 'never', // [ -n "$preversion" ] fails first
    });
  });
});

describe('every fixture', () => {
  const ENVS: [string, (text: string) => ScriptEnv][] = [
    ['fresh install', (text) => scriptEnv(text, 'postinst')],
    ['upgrade', (text) => ({ ...scriptEnv(text, 'postinst'), args: ['configure', '1.0-1'] })],
    ['unknown paths', (text) => ({ ...scriptEnv(text, 'postinst'), pathType: () => undefined })],
    ['preinst install', (text) => scriptEnv(text, 'preinst')],
  ];

  it('evaluates every guard of every command, assignment and redirection', () => {
    for (const f of FIXTURES) {
      const text = fixture(f);
      const s = commandWords(text);
      for (const [, env] of ENVS) {
        const e = env(text);
        for (const x of [...s.commands, ...s.assignments, ...s.writes]) expect(['always', 'never', 'maybe']).toContain(guardsHold(x.guards, e));
      }
    }
  });

  /** Guarded by a top-level case on $1 whose item names only abort-* actions. */
  const inAbortItem = (c: ShellCommand): boolean =>
    c.guards.some((g) => g.kind === 'case' && g.function === undefined && /^"?\$\{?1\}?"?$/.test(g.subject) && g.patterns.every((p) => /^abort-/.test(p)));
  /** `if [ "$1" = "abort-…" ]` and nothing else. */
  const inAbortIf = (c: ShellCommand): boolean =>
    c.guards.some((g) => g.kind === 'if' && g.expect && g.condition.kind === 'command' && /^\[ \$1 = abort-/.test(show(g.condition)));

  it('never runs a command of an abort-* branch on a fresh install', () => {
    let seen = 0;
    for (const f of FIXTURES.filter((n) => n.endsWith('.postinst'))) {
      const text = fixture(f);
      const env = scriptEnv(text, 'postinst');
      for (const c of commandWords(text).commands) {
        if (!inAbortItem(c) && !inAbortIf(c)) continue;
        seen++;
        expect(`${f}:${c.line} ${c.command} ${guardsHold(c.guards, env)}`).toBe(`${f}:${c.line} ${c.command} never`);
      }
    }
    expect(seen).toBeGreaterThanOrEqual(10); // debianutils' ua, ucf's abort-remove/abort-deconfigure items
  });
});
