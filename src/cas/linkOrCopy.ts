import { copyFile, link } from 'node:fs/promises';

/** Hardlink a cached blob (no copy, no extra space); copy only where a link cannot be made. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw e;
    await copyFile(from, to);
  }
}
