import { describe, expect, it } from 'vitest';
import { followScript } from '../adapters/shell/callOrder.js';
import { knownWords, type ScriptEnv } from '../adapters/shell/scriptConditions.js';
import { commandWords } from '../adapters/shell/shellCommands.js';

/** The commands a script runs, each with its expanded words, as a fresh `postinst configure` would. */
function run(text: string, present: string[] = []) {
  const base: ScriptEnv = { args: ['configure', ''], variables: {}, pathType: (p) => (present.includes(p) ? 'file' : 'absent') };
  const order = followScript(text, commandWords(text), base);
  // The tests themselves (`[ … ]`) are left out: what matters is what runs under them.
  const commands = order.commands.filter((c) => c.command !== '[');
  return {
    words: commands.map((c) => (knownWords(c, order.envOf(c)) ?? [c.command, ...c.args]).join(' ')),
    holds: commands.map((c) => order.holds(c)),
    live: order.live,
  };
}

describe('callOrder: functions run where they are called, bound to the call', () => {
  it('runs a helper once per call, in call order, with $1… and its locals from that call', () => {
    const r = run('#!/bin/sh\nmk() {\n  dir="$1"\n  mkdir -p "$dir"\n  chmod "$2" "$dir"\n}\nmk /srv/a 0750\nmk /srv/b 0700\n');
    expect(r.words).toEqual(['mkdir -p /srv/a', 'chmod 0750 /srv/a', 'mkdir -p /srv/b', 'chmod 0700 /srv/b']);
  });

  it('binds nested calls through the outer call\'s arguments, and drops calls whose guard fails', () => {
    const r = run('inner() { touch "/x/$1"; }\nouter() {\n  if [ -e "/opt/$1" ]; then inner "$1.on"; else inner "$1.off"; fi\n}\ncase "$1" in configure) outer a; outer b ;; abort-upgrade) outer c ;; esac\n', ['/opt/b']);
    expect(r.words).toEqual(['touch /x/a.off', 'touch /x/b.on']);
    expect(r.holds).toEqual(['always', 'always']);
  });

  it('a call that may not run makes every command in it a maybe; unknown call words leave $1 unknown', () => {
    const r = run('f() { mkdir "$1"; }\nif getent passwd x >/dev/null; then f /a; fi\nf "$(hostname)"\n');
    expect(r.words).toEqual(['getent passwd x', 'mkdir /a', 'hostname', 'mkdir $1']);
    expect(r.holds).toEqual(['always', 'maybe', 'always', 'always']);
  });

  it('a function never called does not run, and is not live', () => {
    const r = run('unused() { rm -rf /; }\ntrue\n');
    expect(r.words).toEqual(['true']);
    expect(r.live('unused')).toBe(false);
    expect(r.live(undefined)).toBe(true);
  });

  it('falls back to reading every body once, with $1 unknown, for recursion, eval or a command named by a variable', () => {
    for (const tail of ['f /a\n', 'eval "$cmd"\n', '$cmd\n']) {
      const r = run(`f() { mkdir "$1"; [ -z "$2" ] || f "$2"; }\ng() { touch /g; }\n${tail}`.replace('f /a\n', 'f /a /b\n'));
      expect(r.words).toContain('mkdir $1');
      // An expansion or eval could call any function: g too.
      expect(r.live('g')).toBe(tail !== 'f /a\n');
    }
  });

  it('unrolls a for loop over known words, the variable bound in each run, nested loops and calls too', () => {
    const r = run('f() { ln -s "$1" "/etc/$2"; }\nfor ext in gz bz2; do\n  rm -f "/usr/share/misc/pci.ids.$ext"\n  for n in 1 2; do f "/x.$ext" "$n.$ext"; done\ndone\n');
    expect(r.words).toEqual([
      'rm -f /usr/share/misc/pci.ids.gz',
      'ln -s /x.gz /etc/1.gz',
      'ln -s /x.gz /etc/2.gz',
      'rm -f /usr/share/misc/pci.ids.bz2',
      'ln -s /x.bz2 /etc/1.bz2',
      'ln -s /x.bz2 /etc/2.bz2',
    ]);
  });

  it('reads a loop once, its variable unknown, over unknown or globbed words or with break; an empty list never runs', () => {
    expect(run('for f in $(ls /etc); do rm "$f"; done\n').words).toEqual(['ls /etc', 'rm $f']);
    expect(run('for f in /etc/*.conf; do rm "$f"; done\n').words).toEqual(['rm $f']);
    expect(run('for f in a b; do rm "/$f"; break; done\n').words).toEqual(['rm /$f', 'break']);
    expect(run('for f in ; do rm "/$f"; done\ntrue\n').words).toEqual(['true']);
  });
});
