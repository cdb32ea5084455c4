import { MachineSpecifierError, splitLines, stripWhitespace, type ConfSource } from './sysusersConf.js';

/**
 * A packaged sysusers.d or tmpfiles.d file without the lines layerpkg cannot apply: a line the
 * tool itself would reject is reported (`skipped`), and the rest of the file still applies, as
 * systemd logs and skips a bad line. A line naming the running machine (%m, %b…) is left to the
 * tool at boot (`atBoot`): the file stays in the image, so systemd-tmpfiles applies it there.
 */
export function usableLines(text: string, file: string, parseLine: (line: string, source: ConfSource) => unknown): { text: string; skipped: string[]; atBoot: string[] } {
  const kept: string[] = [];
  const skipped: string[] = [];
  const atBoot: string[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = stripWhitespace(raw);
    if (line === '' || line.startsWith('#')) return;
    try {
      parseLine(line, { file, line: i + 1 });
      kept.push(raw);
    } catch (e) {
      if (e instanceof MachineSpecifierError) atBoot.push(e.message);
      else skipped.push(`${e instanceof Error ? e.message : String(e)}; line not applied`);
      // Keep the numbering of later lines in messages: a blank line in its place.
      kept.push('');
    }
  });
  return { text: kept.map((l) => `${l}\n`).join(''), skipped, atBoot };
}
