import { runAsync, type CliResult } from './cli.js';

/**
 * The suite's own podman storage, with the overlay driver: vfs keeps a whole rootfs copy per
 * layer (loading the 98-layer example takes 85 s and 9.4 GB with vfs, 15 s and 0.2 GB with
 * overlay). A root of its own keeps it apart from whatever driver the machine's default store
 * was made with (podman refuses to switch drivers on an existing store).
 */
const ROOT = '/var/lib/containers/layerpkg-tests';
const RUNROOT = '/run/containers/layerpkg-tests';
export const PODMAN = ['--root', ROOT, '--runroot', RUNROOT, '--storage-driver', 'overlay', '--runtime', 'runc'];

/** A containers-storage reference skopeo copies into, in the suite's store. */
export function storageRef(tag: string): string {
  return `containers-storage:[overlay@${ROOT}+${RUNROOT}]${tag}`;
}

/** `podman run --rm` in the suite's store, bounded as this machine needs, with no network. */
export function podmanRun(tag: string, command: string[], opts: { allowFail?: boolean } = {}): Promise<CliResult> {
  return runAsync('podman', [...PODMAN, 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', tag, ...command], opts);
}

/** Remove an image a test loaded (and any container left of it); called from afterAll, so also after a failure. */
export async function removeImage(tag: string): Promise<void> {
  await runAsync('podman', [...PODMAN, 'rm', '-af'], { allowFail: true });
  await runAsync('podman', [...PODMAN, 'rmi', '-f', tag], { allowFail: true });
}
