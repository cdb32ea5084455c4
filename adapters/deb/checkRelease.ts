import { UserError } from '../../src/errors.js';
import { parseReleaseDate, type ReleaseFile } from './inRelease.js';

/**
 * What apt checks beyond the signature: the file is for the suite that was asked for (a mirror
 * cannot answer "bookworm" with a signed "trixie"), and it has not expired (a replayed old, validly
 * signed InRelease would otherwise pin packages with known security holes).
 */
export function checkRelease(release: ReleaseFile, suite: string, url: string, now = Date.now()): void {
  const names = [release.fields.get('Suite'), release.fields.get('Codename')].filter((n): n is string => !!n);
  if (names.length && !names.includes(suite)) {
    throw new UserError(`${url} is signed for ${names.map((n) => `"${n}"`).join(' / ')}, not the configured suite "${suite}"; check the repository's \`suite\``);
  }
  const validUntil = release.fields.get('Valid-Until');
  if (validUntil) {
    const until = parseReleaseDate(validUntil);
    if (until === undefined) throw new UserError(`${url}: cannot read its Valid-Until "${validUntil}"`);
    if (until * 1000 < now) {
      throw new UserError(`${url} expired at ${validUntil} (Valid-Until): the mirror serves a stale copy; try again later or use another mirror`);
    }
  }
}
