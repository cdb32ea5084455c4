/** Where layerpkg declares what a source (a package, or image.toml) made: its own sysusers.d or tmpfiles.d file. */
export function declarationFile(kind: 'sysusers' | 'tmpfiles', source: string): string {
  return `/usr/lib/${kind}.d/layerpkg-${source.replace(/[^A-Za-z0-9.+_-]/g, '_')}.conf`;
}
