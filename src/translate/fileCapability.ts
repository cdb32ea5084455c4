/**
 * File capabilities as `setcap` sets them: the text form (capabilities(7), cap_from_text(3))
 * turned into the `security.capability` extended attribute the kernel reads at exec. A layer
 * carries it as a PAX `SCHILY.xattr.security.capability` record, so ping keeps cap_net_raw in
 * the image the way it has it on an installed system.
 */

/** Capability numbers of linux/capability.h, by the names cap_from_text accepts. */
const CAPABILITIES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

/** vfs_cap_data revision 2 (the one setcap writes outside a user namespace), and its effective flag. */
const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

export interface FileCapabilities {
  permitted: bigint;
  inheritable: bigint;
  effective: boolean;
}

/**
 * Parse a capability text such as `cap_net_raw+ep` or `cap_net_bind_service,cap_setuid=eip`:
 * whitespace-separated clauses, each a comma list of names followed by one or more
 * operator-and-flags parts. A string says what is not understood.
 */
export function parseCapabilities(text: string): FileCapabilities | string {
  let permitted = 0n;
  let inheritable = 0n;
  let effective = 0n;
  const clauses = text.trim().split(/\s+/).filter(Boolean);
  if (!clauses.length) return 'no capabilities given';
  for (const clause of clauses) {
    const m = /^([a-z_0-9,]+)((?:[-+=][eip]*)+)$/i.exec(clause);
    if (!m) return `"${clause}" is not a capability clause (NAME[,NAME…]+eip)`;
    let set = 0n;
    for (const name of m[1]!.toLowerCase().split(',')) {
      const bit = CAPABILITIES.indexOf(name.replace(/^cap_/, ''));
      if (!name.startsWith('cap_') || bit < 0) return `"${name}" is not a capability name`;
      set |= 1n << BigInt(bit);
    }
    for (const [, op, flags] of m[2]!.matchAll(/([-+=])([eip]*)/gi)) {
      const f = flags!.toLowerCase();
      const change = (current: bigint, flag: string): bigint => {
        if (op === '=') current &= ~set;
        if (!f.includes(flag)) return current;
        return op === '-' ? current & ~set : current | set;
      };
      permitted = change(permitted, 'p');
      inheritable = change(inheritable, 'i');
      effective = change(effective, 'e');
    }
  }
  // A file has one effective bit: on, exec raises every permitted and inheritable capability.
  if (effective !== 0n && effective !== (permitted | inheritable)) return `"${text}": a file's effective set is all of its permitted and inheritable ones, or none`;
  return { permitted, inheritable, effective: effective !== 0n };
}

/** The bytes of `security.capability` (struct vfs_cap_data, little-endian, 20 bytes). */
export function encodeCapabilities(c: FileCapabilities): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(VFS_CAP_REVISION_2 | (c.effective ? VFS_CAP_FLAGS_EFFECTIVE : 0), 0);
  const low = (v: bigint) => Number(v & 0xffffffffn);
  const high = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  b.writeUInt32LE(low(c.permitted), 4);
  b.writeUInt32LE(low(c.inheritable), 8);
  b.writeUInt32LE(high(c.permitted), 12);
  b.writeUInt32LE(high(c.inheritable), 16);
  return b;
}

/** The extended attribute the kernel reads file capabilities from. */
export const CAPABILITY_XATTR = 'security.capability';

/** setcap's text, already checked by the recognizer, as the attribute's bytes. */
export function capabilityBytes(text: string): Buffer {
  const parsed = parseCapabilities(text);
  if (typeof parsed === 'string') throw new Error(`capabilities "${text}": ${parsed}`);
  return encodeCapabilities(parsed);
}

/**
 * A file's extended attributes after a change: setcap sets its capabilities, and a chown clears
 * them, as Linux does even for root.
 */
export function xattrsAfter(xattrs: Record<string, Buffer> | undefined, change: { chown: boolean; capability?: string }): Record<string, Buffer> | undefined {
  if (change.capability !== undefined) return { ...xattrs, [CAPABILITY_XATTR]: capabilityBytes(change.capability) };
  if (!change.chown || !xattrs?.[CAPABILITY_XATTR]) return xattrs;
  const { [CAPABILITY_XATTR]: _cleared, ...rest } = xattrs;
  return Object.keys(rest).length ? rest : undefined;
}
