/**
 * /lib/apk/db/scripts.tar as apk-tools 2.12 writes it (database.c apk_db_scriptdb_write,
 * io_archive.c apk_tar_write_entry): every installed package's scripts, in installation order.
 */
import type { ApkMetadata } from './apkMetadata.js';

/** apk_script_types: the only scripts apk keeps, in the order it writes them per package. */
export const APK_SCRIPT_ACTIONS = ['pre-install', 'post-install', 'pre-deinstall', 'post-deinstall', 'pre-upgrade', 'post-upgrade', 'trigger'] as const;

const BLOCK = 512;

/** `<name>-<version>.<C: checksum>.<action>`, the name apk looks a script up by. */
export function scriptEntryName(meta: ApkMetadata, action: string): string {
  return `${meta.name}-${meta.version}.${meta.checksum}.${action}`;
}

/** The package's scripts in apk's order; `scripts` keys are control-stream names (".post-install"). */
export function packageScripts(meta: ApkMetadata): { action: string; body: Buffer }[] {
  const byAction = new Map(Object.entries(meta.scripts).map(([name, body]) => [name.replace(/^\./, ''), body]));
  return APK_SCRIPT_ACTIONS.flatMap((action) => {
    const body = byAction.get(action);
    return body === undefined ? [] : [{ action, body: Buffer.from(body, 'base64') }];
  });
}

/** Right-aligned zero-padded octal filling `width` bytes, the last one a NUL when `nul` (put_octal). */
function octal(header: Buffer, offset: number, width: number, value: number, nul: boolean): void {
  const digits = nul ? width - 1 : width;
  header.write(value.toString(8).padStart(digits, '0').slice(-digits) + (nul ? '\0' : ''), offset, 'latin1');
}

/**
 * apk's header: old-GNU magic ("ustar  \0"), uname/gname "root", uid/gid/mode as 7 digits + NUL,
 * size and mtime as 12 digits without NUL, checksum as 6 digits + NUL + space; the name is cut
 * to 99 bytes as strlcpy does (apk would then not find that script again, but that is its file).
 */
function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const nameBytes = Buffer.from(name, 'utf8').subarray(0, 99);
  nameBytes.copy(h, 0);
  octal(h, 100, 8, 0o755, true);
  octal(h, 108, 8, 0, true);
  octal(h, 116, 8, 0, true);
  octal(h, 124, 12, size, false);
  octal(h, 136, 12, mtime, false);
  h.write('0', 156, 'latin1');
  h.write('ustar  \0', 257, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  octal(h, 148, 7, sum, true);
  return h;
}

/** The whole archive, ending with apk's two zero blocks (no padding to a record size). */
export function apkScriptsTar(packages: ApkMetadata[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const meta of packages) {
    for (const { action, body } of packageScripts(meta)) {
      parts.push(header(scriptEntryName(meta, action), body.length, mtime), body);
      const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
