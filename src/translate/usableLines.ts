import { splitLines, stripWhitespace, type ConfSource } from './sysusersConf.js';

/**
 * A packaged sysusers.d or tmpfiles.d file without the lines layerpkg cannot apply (a specifier
 * such as %m whose value only the running machine has, a line the tool itself would reject):
 * those are reported, and the rest of the file still applies, as systemd logs and skips a bad line.
 */
export function usableLines(text: string, file: string, parseLine: (line: string, source: ConfSource) => unknown): { text: string; skipped: string[] } {
  const kept: string[] = [];
  const skipped: string[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = stripWhitespace(raw);
    if (line === '' || line.startsWith('#')) return;
    try {
      parseLine(line, { file, line: i + 1 });
      kept.push(raw);
    } catch (e) {
      skipped.push(`${e instanceof Error ? e.message : String(e)}; line not applied`);
      // Keep the numbering of later lines in messages: a blank line in its place.
      kept.push('');
    }
  });
  return { text: kept.map((l) => `${l}\n`).join(''), skipped };
}
