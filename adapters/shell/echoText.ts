/**
 * What `echo WORDS` prints, where every shell agrees: undefined when the first word is one of
 * echo's options (-n, -e, -E: dash and bash differ) or a word has a backslash (escapes differ).
 */
export function echoText(words: string[]): string | undefined {
  if (/^-[neE]+$/.test(words[0] ?? '') || words.some((w) => w.includes('\\'))) return undefined;
  return `${words.join(' ')}\n`;
}
