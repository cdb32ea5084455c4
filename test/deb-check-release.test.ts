import { describe, expect, it } from 'vitest';
import { checkRelease } from '../adapters/deb/checkRelease.js';
import { parseDeb822 } from '../adapters/deb/deb822.js';
import type { ReleaseFile } from '../adapters/deb/inRelease.js';
import { UserError } from '../src/errors.js';

const release = (text: string): ReleaseFile => ({ fields: parseDeb822(text)[0]!, sha256: [], signer: 'x', signers: ['x'] }) as ReleaseFile;
const url = 'http://mirror.invalid/debian-security/dists/bookworm-security/InRelease';
const now = Date.UTC(2026, 10, 23);

describe('checkRelease', () => {
  it('accepts the suite by name or codename, within Valid-Until', () => {
    const r = release('Suite: oldstable-security\nCodename: bookworm-security\nValid-Until: Sat, 28 Nov 2026 00:53:02 UTC\n');
    expect(() => checkRelease(r, 'bookworm-security', url, now)).not.toThrow();
    expect(() => checkRelease(r, 'oldstable-security', url, now)).not.toThrow();
  });

  it('refuses a file signed for another suite', () => {
    const r = release('Suite: stable\nCodename: trixie\n');
    expect(() => checkRelease(r, 'bookworm', url, now)).toThrow(UserError);
    expect(() => checkRelease(r, 'bookworm', url, now)).toThrow(/signed for "stable" \/ "trixie", not the configured suite "bookworm"/);
  });

  it('refuses an expired file, as apt does', () => {
    const r = release('Suite: oldstable-security\nCodename: bookworm-security\nValid-Until: Sat, 21 Nov 2026 00:53:02 UTC\n');
    expect(() => checkRelease(r, 'bookworm-security', url, now)).toThrow(/expired at Sat, 21 Nov 2026 00:53:02 UTC/);
  });
});
