/**
 * Commands whose result an image must not carry, or need not: per-machine secrets and identities
 * (made on each machine at first start, as machine-id(5) asks of images and as mmdebstrap's
 * cleanup does), and caches that their reader or a boot-time service builds again. Each is
 * reported as left out on purpose, with who makes the result instead.
 */
import type { LeftOutEffect } from '../../src/translate/effects.js';
import type { PackageMetadata } from '../types.js';
import { asDeb } from './debMetadata.js';

const SCHEMAS = 'usr/share/glib-2.0/schemas/';

type LeftOut = { effects: LeftOutEffect[] } | { unrecognized: string };

/** The command's result as left out on purpose, with why; undefined when it is not one of these. */
export function leftOut(name: string, args: string[], packages: readonly PackageMetadata[]): LeftOut | undefined {
  if (name === 'glib-compile-schemas') {
    const schemas = packages.flatMap((p) => asDeb(p).paths).filter((p) => p.startsWith(SCHEMAS) && p.endsWith('.gschema.xml'));
    if (schemas.length) return { unrecognized: `glib-compile-schemas: ${schemas.length} schema files in the image, and GSettings needs them compiled (not translated)` };
  }
  const secret = kernelRandomCopy(name, args);
  if (secret) return { effects: [secret] };
  const reason = reasonFor(name, args);
  if (reason === undefined) return undefined;
  const paths = MAKES.get(`${name} ${args.join(' ')}`);
  return { effects: [{ kind: 'left-out', tool: name, reason, ...(paths ? { paths } : {}) }] };
}

/**
 * `install [-m MODE] /proc/sys/kernel/random/uuid FILE`: a random secret (varnish's -S file)
 * that must differ on each machine, so it is made there, never baked into an image.
 */
function kernelRandomCopy(name: string, args: string[]): LeftOutEffect | undefined {
  if (name !== 'install') return undefined;
  const operands = args.filter((a, i) => !a.startsWith('-') && !/^-(m|o|g)$/.test(args[i - 1] ?? ''));
  const [source, dest] = operands;
  if (operands.length !== 2 || source !== '/proc/sys/kernel/random/uuid' || !dest?.startsWith('/')) return undefined;
  return { kind: 'left-out', tool: name, reason: `a random per-machine secret: make ${dest} on each machine at first start (\`${['install', ...args].join(' ')}\`)`, paths: [dest] };
}

/** Where a left-out command would have put its result, for the chown and chmod that follow it. */
const MAKES = new Map([['rndc-confgen -a', ['/etc/bind/rndc.key']]]);

function reasonFor(name: string, args: string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  switch (name) {
    case 'ssh-keygen':
      return 'host keys are made on each machine at first start (ssh-keygen -A); an image never carries them';
    case 'dbus-uuidgen':
      return args.length === 1 && args[0] === '--ensure' ? 'the machine ID is made on each machine at first start (by systemd, or dbus-uuidgen --ensure); an image never carries one' : undefined;
    case 'make-ssl-cert':
      return words[0] === 'generate-default-snakeoil' ? 'a key pair belongs to one machine: run `make-ssl-cert generate-default-snakeoil` at first start' : undefined;
    case 'rndc-confgen':
      return args.length === 1 && args[0] === '-a' ? "a per-machine secret: run `rndc-confgen -a` at first start (named works without it; rndc needs it)" : undefined;
    case 'journalctl':
      return args.length === 1 && args[0] === '--update-catalog' ? 'a cache: systemd-journal-catalog-update.service builds it at boot (ConditionNeedsUpdate=/var)' : undefined;
    case 'systemd-hwdb':
      return words[0] === 'update' && args.every((a) => a === 'update' || a === '--usr') ? 'a cache: systemd-hwdb-update.service builds it at boot (ConditionNeedsUpdate=/etc)' : undefined;
    case 'mandb':
      return 'a cache of manual page names: man-db.timer rebuilds it daily, and man works without it';
    case 'gio-querymodules':
      return 'a cache: without giomodule.cache, GIO loads every module in the directory';
    case 'glib-compile-schemas':
      return 'no package in the image ships a GSettings schema: there is nothing to compile';
    default:
      return undefined;
  }
}

/** `setpriv … -- CMD ARGS` and `runuser -u USER -- CMD ARGS`: the command they run as another user. */
export function runAsOther(name: string, args: string[]): { name: string; args: string[] } | undefined {
  if (name !== 'setpriv' && name !== 'runuser') return undefined;
  const dash = args.indexOf('--');
  const inner = dash < 0 ? undefined : args[dash + 1];
  if (inner === undefined) return undefined;
  return { name: inner.slice(inner.lastIndexOf('/') + 1), args: args.slice(dash + 2) };
}
