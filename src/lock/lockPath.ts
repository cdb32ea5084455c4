/** The lock beside image.toml: `image.toml` → `image.lock.json`. */
export function defaultLockPath(imageFile: string): string {
  return imageFile.replace(/\.toml$/, '') + '.lock.json';
}
