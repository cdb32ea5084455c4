import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { filterOutput, readBindings } from '../adapters/shell/pipelineOutput.js';
import { commandWords } from '../adapters/shell/shellCommands.js';

/**
 * The text tools a `$(…)` pipeline may use, against the real ones (GNU coreutils, grep, sed) in
 * the C locale: each reads the same input and must print the same bytes.
 */
function real(words: string[], input: string): string {
  const r = spawnSync(words[0]!, words.slice(1), { input, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return r.stdout;
}

const INPUT = 'Debian GNU/Linux\\tbookworm\nroot: Admin@Example.ORG\n\nzz 10\naa 2\naa 2\n';
const C = { LC_ALL: 'C' };

describe('pipeline text tools agree with the real ones', () => {
  const cases: string[][] = [
    ['tr', 'A-Z', 'a-z'],
    ['tr', 'a-z', 'A-Z'],
    ['tr', '\\n', ','],
    ['tr', '-d', '\\n'],
    ['tr', '-cd', '0-9'],
    ['tr', '-dc', 'A-Za-z0-9'],
    ['tr', '[:upper:]', '[:lower:]'],
    ['tr', 'abc', 'x'],
    ['sort'],
    ['sort', '-u'],
    ['grep', '-E', '^[a-z]+ [0-9]+$'],
    ['grep', '-v', 'aa'],
    ['grep', '-q', 'root'],
    ['sed', 's/ *$//'],
    ['sed', '-e', '/^[a-zA-Z]/!d', '-e', 's/ *$//g'],
    ['cat'],
  ];
  it.each(cases)('%s %s %s', (...words) => {
    expect(filterOutput(words, INPUT, C)).toBe(real(words, INPUT));
  });

  it('basename, dirname and echo as coreutils print them', () => {
    for (const words of [['basename', '/usr/share/man/man1/psql.1.gz'], ['basename', '/a/b.conf', '.conf'], ['dirname', '/etc/apparmor.d/disable/x'], ['echo', 'a', 'b'], ['echo', '-n', 'a']]) {
      expect(filterOutput(words, undefined, C)).toBe(real(words, ''));
    }
  });

  it('says nothing where the locale or an option is not modelled', () => {
    expect(filterOutput(['sort'], INPUT, {})).toBeUndefined();
    expect(filterOutput(['sort', '-n'], INPUT, C)).toBeUndefined();
    expect(filterOutput(['tr', '-s', ' '], INPUT, C)).toBeUndefined();
    expect(filterOutput(['echo', '-e', 'a\\tb'], undefined, C)).toBeUndefined();
  });

  it("read splits a line on IFS whitespace, the last variable taking the rest, as sh's read does", () => {
    const [read] = commandWords('read -r locale charset').commands;
    const text = 'en_US.UTF-8 UTF-8\n  de_DE  ISO-8859-1 extra  \nlast-without-newline';
    expect(readBindings(read!, text, undefined)).toEqual([
      { locale: 'en_US.UTF-8', charset: 'UTF-8' },
      { locale: 'de_DE', charset: 'ISO-8859-1 extra' },
    ]);
    const script = 'printf "%s\\n" "en_US.UTF-8 UTF-8" "  de_DE  ISO-8859-1 extra  " | while read -r locale charset; do echo "[$locale][$charset]"; done';
    expect(spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout).toBe('[en_US.UTF-8][UTF-8]\n[de_DE][ISO-8859-1 extra]\n');
  });
});
