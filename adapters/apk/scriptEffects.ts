import type { Effect } from '../../src/translate/effects.js';
import type { PackageMetadata, ScriptEffects } from '../types.js';
import { asApk } from './apkMetadata.js';

/** The scripts apk runs on a fresh install, in order; upgrade and removal scripts never run here. */
const INSTALL_SCRIPTS = ['.pre-install', '.post-install', '.trigger'];

/** `busybox --install -s`, however the path to busybox is spelled. */
const BUSYBOX_INSTALL = /^(exec\s+)?(\/bin\/)?busybox\s+--install\s+-s\s*$/;

/**
 * What a package's install scripts would do. Recognized so far: busybox's `--install -s` (in its
 * .post-install and .trigger), whose links come from the applet table unpack read out of the
 * binary. Every other line that does something is reported as untranslated, by script.
 */
export function apkScriptEffects(pkg: PackageMetadata): ScriptEffects {
  const meta = asApk(pkg);
  const effects: Effect[] = [];
  const untranslated: string[] = [];
  let linked = false;
  for (const script of INSTALL_SCRIPTS) {
    const body = meta.scripts[script];
    if (body === undefined) continue;
    for (const raw of Buffer.from(body, 'base64').toString('utf8').split('\n')) {
      const line = raw.trim();
      if (isInert(line)) continue;
      if (BUSYBOX_INSTALL.test(line) && meta.busyboxApplets) {
        if (!linked) effects.push(...appletLinks(meta.busyboxApplets));
        linked = true;
        continue;
      }
      untranslated.push(`${script}: ${line}`);
    }
  }
  return { effects, untranslated };
}

/** As `busybox --install -s` makes them: absolute links to /bin/busybox, never over a file. */
function appletLinks(applets: string[]): Effect[] {
  return applets.map((rel) => ({ kind: 'symlink', path: `/${rel}`, target: '/bin/busybox', ifMissing: true }));
}

/** Lines that change nothing by themselves: blank, comments, `exit 0` and bare shell keywords. */
function isInert(line: string): boolean {
  return line === '' || line.startsWith('#') || /^exit( 0)?$/.test(line) || /^(fi|done|esac|;;|else|then|do|\{|\}|\))$/.test(line);
}
