import type { Effect, IdRange } from './effects.js';

/** One line per effect, for the report: what the script would have done, in its own words. */
export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case 'user':
      return `user ${e.name} (${idOf(e.uid, e.range)}, group ${e.group ?? e.name}, home ${e.home}, shell ${e.shell})`;
    case 'group':
      return `group ${e.name} (${idOf(e.gid, e.range)})`;
    case 'account-files':
      return `account files as shipped (${(['passwd', 'group', 'shadow', 'gshadow'] as const).filter((f) => e[f] !== undefined).join(', ')})`;
    case 'member':
      return `member ${e.user} of group ${e.group}`;
    case 'sysusers':
      return `systemd-sysusers ${e.file}`;
    case 'tmpfiles':
      return `systemd-tmpfiles --create ${e.file}`;
    case 'alternative':
      return `alternative ${e.name}: ${e.link} → ${e.path} (priority ${e.priority}${e.slaves.length ? `, ${e.slaves.length} slaves` : ''})`;
    case 'ca-bundle':
      return `CA bundle of ${e.certificates.length} certificates`;
    case 'login-shell':
      return `login shell ${e.path}`;
    case 'enable-unit':
      return `enable systemd unit ${e.path}${e.instance === undefined ? '' : ` as instance ${e.instance}`}`;
    case 'enable-initscript':
      return `enable init script /etc/init.d/${e.name}`;
    case 'left-out':
      return `left out on purpose: ${e.tool} (${e.reason})`;
    case 'directory':
      return `directory ${e.path} ${mode(e.mode)} ${e.user}:${e.group}`;
    case 'symlink':
      return `link ${e.path} → ${e.target}${e.ifMissing ? ' (if absent)' : ''}`;
    case 'file':
      if (e.copyOf) return `file ${e.path}: a copy of ${e.copyOf.path}${e.copyOf.keepMode ? ' (mode kept)' : ''}, read from its package's layer`;
      return `file ${e.path} ${mode(e.mode)} ${e.user}:${e.group}, ${Buffer.from(e.content, 'base64').length} bytes${e.ifMissing ? ' (if absent)' : ''}`;
    case 'diversion':
      return `diversion ${e.path} → ${e.divertTo} (${e.package === ':' ? 'local' : `by ${e.package}`})`;
    case 'ld-cache':
      return `/etc/ld.so.cache from every package's shared objects (${e.generator})`;
    case 'remove':
      return `remove ${e.path}${e.recursive ? ' and what is under it' : ''}, made by an earlier step`;
    case 'disable-service':
      return `disable service ${e.name} (stop links for its init script; ${e.name}.service not enabled)`;
    case 'attributes':
      if (e.capability !== undefined) return `capabilities ${e.path} ${e.capability}`;
      return `${e.override ? 'statoverride' : 'owner/mode'} ${e.path}${e.mode !== undefined ? ` ${mode(e.mode)}` : ''}${e.modeChange ? ` ${e.modeChange.text}` : ''}${e.user !== undefined || e.group !== undefined ? ` ${e.user ?? ''}:${e.group ?? (e.loginGroup ? '(login group)' : '')}` : ''}`;
  }
}

function idOf(id: number | undefined, range: IdRange | undefined): string {
  if (id !== undefined) return `id ${id}`;
  return range ? `id from ${range.order === 'ascending' ? `${range.min} up` : `${range.max} down`}` : 'id allocated';
}

function mode(m: number): string {
  return m.toString(8).padStart(4, '0');
}
