/**
 * Files the Linux kernel provides under /proc on every machine a maintainer script runs on;
 * scripts test for them before reading them (varnish's random uuid for its secret). Anything
 * else under /proc or /sys is the build machine's state, not known here.
 */
const KERNEL_FILES = new Set(['/proc/sys/kernel/random/uuid', '/proc/sys/kernel/random/boot_id']);

export function kernelFileType(absPath: string): 'file' | undefined {
  return KERNEL_FILES.has(absPath) ? 'file' : undefined;
}
