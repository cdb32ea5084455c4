import { describe, expect, it } from 'vitest';
import { debSatisfies } from '../adapters/deb/satisfies.js';

const pkg = (multiArch?: string, arch = 'amd64', version = '3.11.2-1') => ({ name: 'python3', version, arch, multiArch, isProvide: false });

describe('debSatisfies', () => {
  it('meets pkg:any only with a Multi-Arch: allowed package', () => {
    expect(debSatisfies({ name: 'python3', archQualifier: 'any' }, pkg('allowed'), 'amd64')).toBe(true);
    expect(debSatisfies({ name: 'python3', archQualifier: 'any' }, pkg(undefined), 'amd64')).toBe(false);
    expect(debSatisfies({ name: 'python3', archQualifier: 'any' }, pkg('foreign'), 'amd64')).toBe(false);
  });

  it('checks versions against the package, and against a Provides only when it is versioned', () => {
    expect(debSatisfies({ name: 'python3', op: '>=', version: '3.11' }, pkg(), 'amd64')).toBe(true);
    expect(debSatisfies({ name: 'python3', op: '>>', version: '3.11.2-1' }, pkg(), 'amd64')).toBe(false);
    expect(debSatisfies({ name: 'awk', op: '>=', version: '1' }, { name: 'awk', arch: 'amd64', isProvide: true }, 'amd64')).toBe(false);
    expect(debSatisfies({ name: 'awk', op: '>=', version: '1' }, { name: 'awk', version: '1.3', arch: 'amd64', isProvide: true }, 'amd64')).toBe(true);
  });

  it('takes native and arch:all candidates only', () => {
    expect(debSatisfies({ name: 'python3' }, pkg(undefined, 'all'), 'amd64')).toBe(true);
    expect(debSatisfies({ name: 'python3' }, pkg(undefined, 'arm64'), 'amd64')).toBe(false);
    expect(debSatisfies({ name: 'python3', archQualifier: 'i386' }, pkg(), 'amd64')).toBe(false);
  });
});
