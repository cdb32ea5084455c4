/** Linux's bound on symlinks followed while resolving one path (ELOOP past it). */
const MAX_HOPS = 40;

/**
 * Where a path lands in the image once the symlinks on its way are followed, as the kernel does
 * in a chroot: an absolute target starts again at the image root, ".." stops there, so nothing
 * lands outside the root. Only the directories are followed (the last component is the entry
 * itself). `linkAt` gives the target of a symlink at a relative path. Undefined for a loop.
 */
export function landingPath(path: string, linkAt: (rel: string) => string | undefined): string | undefined {
  const pending = path.split('/');
  const last = pending.pop() ?? '';
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    done.push(part);
    const target = linkAt(done.join('/'));
    if (target === undefined) continue;
    if (++hops > MAX_HOPS) return undefined;
    done.pop();
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/'));
  }
  return [...done, last].join('/');
}
