import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Who made a temp file, written into its name as `<pid>-<ns>`: `ns` is a short hash of the host
 * name and the pid namespace, because a cache shared by containers or hosts holds files whose pid
 * means nothing here — those must never be judged by our process table.
 */
export const OWN_NAMESPACE = namespaceTag();
export const OWNER = `${process.pid}-${OWN_NAMESPACE}`;

/**
 * A temp file left by another process is removable when its maker is certainly gone: same
 * namespace and the pid no longer runs (ESRCH; EPERM means it runs under another user). A pid can
 * be reused, and another namespace's pids cannot be checked at all, so anything untouched for
 * ABANDONED_MS is removable too: no layerpkg step leaves a temp file unwritten that long.
 */
export const ABANDONED_MS = 24 * 3600_000;

export function ownerGone(owner: { pid: number; ns: string }, mtimeMs: number, now = Date.now()): boolean {
  if (now - mtimeMs > ABANDONED_MS) return true;
  if (owner.ns !== OWN_NAMESPACE || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The owner written at the start of `name` (`<pid>-<ns>...`), if it has one. */
export function ownerOf(name: string): { pid: number; ns: string } | undefined {
  const m = /^(\d+)-([0-9a-f]{8})(?:$|[-.])/.exec(name);
  return m ? { pid: Number(m[1]), ns: m[2]! } : undefined;
}

function namespaceTag(): string {
  let pidNamespace = '';
  try {
    pidNamespace = readlinkSync('/proc/self/ns/pid'); // "pid:[4026531836]" on Linux
  } catch {
    // elsewhere the host name alone tells machines apart
  }
  return createHash('sha256').update(`${os.hostname()}\0${pidNamespace}`).digest('hex').slice(0, 8);
}
