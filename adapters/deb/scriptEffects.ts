import type { AlternativeEffect, Effect, GroupEffect, UserEffect } from '../../src/translate/effects.js';
import { parseAdduser, parseAddgroup } from './adduserCommand.js';
import { apacheEnable, isApacheAvailable } from './apacheEnable.js';
import { debCommandStatus, freshCommandOutput, statOverrideListed } from './commandStatus.js';
import { copyPackageFile, ucf, ucfr } from './configFileCommands.js';
import { debconfAnswers } from './debconfDefaults.js';
import { dpkgDivert, dpkgDivertOutput } from './dpkgDivert.js';
import { findMatchesNothing, grepOfFile, md5sumCheck, ownedBy, sedEdits, sedOutput, type KnownText } from './imageQueries.js';
import { PackageScriptView } from './packageScriptView.js';
import { isPythonRuntimeHook, pythonCommand } from './pythonCommands.js';
import { redirectWrite } from '../fileWrites.js';
import { kernelFileType } from '../shell/kernelFiles.js';
import { leftOut, runAsOther } from './leftOutCommands.js';
import { pamAuthUpdate, isPamInput } from './pamAuthUpdate.js';
import { ldconfig } from './ldconfigCommand.js';
import { localeGen, updateLocale } from './localeCommands.js';
import { isMimeInput, updateMime } from './updateMime.js';
import { isSgmlCatalog, updateCatalog } from './updateCatalog.js';
import { recognizeUsrLocal } from './usrLocalSnippet.js';
import { hostNamedWord, MAKES_PATHS, pathsMadeBy, shownPath } from './scriptPathWords.js';
import { ScratchFiles } from './scratchFiles.js';
import { applyUserUpdate, DEBIAN_SHADOW_DEFAULTS, parseGpasswd, parseGroupadd, parseUseradd, parseUsermod } from '../shadowCommands.js';
import { fileCommandEffects, setcapSucceeds } from '../fileCommands.js';
import type { PackageMetadata, ScriptContext, ScriptEffects } from '../types.js';
import { BASE_FILES_DEFAULTS, recognizeBaseFiles } from './baseFiles.js';
import { asDeb, controlFile, type DebMetadata } from './debMetadata.js';
import {
  addShell,
  debSystemdHelper,
  dpkgStatoverride,
  isCapturedForServices,
  pythonBytecode,
  runitHelper,
  systemctl,
  systemdSysusers,
  systemdTmpfiles,
  updateRcD,
  updateShells,
  type CommandResult,
} from './serviceCommands.js';
import { followScript, type CalledCommand } from '../shell/callOrder.js';
import { invocation } from '../shell/invocation.js';
import { FRESH_INSTALL_ARGS, guardsHold, knownVariables, knownWords, variablesAt, type ScriptEnv } from '../shell/scriptConditions.js';
import { commandWords, type Condition, type Guard, type Redirect, type ShellCommand, type ShellScript } from '../shell/shellCommands.js';
import { alternativesQuery, parseAlternativeInstalls } from './updateAlternatives.js';
import { inlinePackagedScripts } from './packagedScripts.js';

const CA_STORE = 'usr/share/ca-certificates/';

/** Files whose content a recognized effect needs; unpack keeps a copy of them in the metadata. */
export function isCapturedForEffects(path: string): boolean {
  return (
    (path.startsWith('usr/share/base-passwd/') && path.endsWith('.master')) ||
    (path.startsWith(CA_STORE) && path.endsWith('.crt')) ||
    // ldconfig's configuration: which directories it scans.
    path === 'etc/ld.so.conf' ||
    path.startsWith('etc/ld.so.conf.d/') ||
    // A handful of small defaults (dotfiles, /etc/profile, motd, info dir).
    path.startsWith(BASE_FILES_DEFAULTS) ||
    isPamInput(path) ||
    isPythonRuntimeHook(path) ||
    isApacheAvailable(path) ||
    isMimeInput(path) ||
    isSgmlCatalog(path) ||
    isCapturedForServices(path)
  );
}

/**
 * Commands that leave nothing in the image on a fresh install. Anything else a maintainer script
 * can run and we do not translate is reported, so a user sees what the image may be missing.
 * Files written through redirections (`echo x > /etc/foo`) are reported separately, which is why
 * cat, echo and friends can be inert here (writes through options such as `sort -o` are not).
 */
const INERT = new Set([
  // Shell builtins and tests: they only steer or inform the script itself.
  '[', '[[', 'test', 'echo', 'printf', 'true', 'false', ':', 'exit', 'return', 'set', 'shift', 'local',
  'export', 'unset', 'readonly', 'break', 'continue', 'trap', 'read', 'wait', 'umask', 'cd', 'pwd', 'type',
  'hash', 'getopts', 'let', 'declare', 'typeset',
  // Read-only queries and text filters.
  'cat', 'grep', 'egrep', 'fgrep', 'awk', 'mawk', 'gawk', 'cut', 'tr', 'head', 'tail', 'sort', 'uniq', 'wc',
  'basename', 'dirname', 'readlink', 'realpath', 'stat', 'ls', 'date', 'uname', 'who', 'id', 'whoami',
  'getent', 'which', 'expr', 'seq', 'cmp', 'diff', 'md5sum', 'sha1sum', 'sha256sum', 'sha512sum', 'sleep',
  'pidof', 'ischroot', 'runlevel', 'mountpoint', 'dpkg-query', 'dpkg-realpath', 'dpkg-architecture', 'env',
  'printenv', 'getcap', 'lsb_release', 'pgrep', 'df', 'ss', 'logger',
  // Creates only a scratch file; what the script later does with it is judged on its own.
  'mktemp',
  // Triggers run the interested packages' own postinst ("triggered"), which is examined like any other.
  'dpkg-trigger',
  // Acts only when upgrading from the versions it names (conffile and directory moves).
  'dpkg-maintscript-helper',
  // Talk to the running system (services, daemons, init, logind): there is none while building.
  // (Enabling, which leaves links, is recognized: see serviceCommands.ts.)
  'invoke-rc.d', 'deb-systemd-invoke', 'nscd', 'telinit', 'busctl',
  // The running kernel's network state (samba's `ip a show`, a check before it starts nmbd).
  'ip',
  // SELinux labels are not carried by image layers.
  'restorecon',
  // AppArmor profiles are loaded into the running kernel (dh_apparmor); the files stay as shipped.
  'apparmor_parser', 'aa-enabled', 'aa-status',
]);

/** Shell libraries that scripts source, with the functions they define: messages only. */
const LIBRARIES = new Map<string, readonly string[]>([
  ['/usr/share/debconf/confmodule', []], // db_* talk to the debconf frontend, see isInert
  ['/usr/share/debconf/confmodule.sh', []],
  ['/usr/share/dpkg/sh/dpkg-error.sh', ['setup_colors', 'debug', 'error', 'warning', 'badusage']],
]);

/** dpkg actions that only read the database or compare versions. */
const DPKG_QUERIES = /^(-s|-l|-L|-S|-p|--status|--list|--listfiles|--search|--print-avail|--compare-versions|--print-architecture|--print-foreign-architectures|--assert-.*|--validate-.*)$/;
const ALTERNATIVES_QUERIES = new Set(['--query', '--display', '--list', '--get-selections']);
const DEVICES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty']);
const OUTPUT = /^\d*(>|>>|>\||&>|&>>)$/;

type AccountFile = 'passwd' | 'group';

/** Files a translation writes from the whole package set: a script's own writes to them are that translation's. */
const WRITTEN_WHOLE = new Set(['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/shells', '/etc/ca-certificates.conf']);

/** Recognize what a .deb's maintainer scripts would do on a fresh install. */
export function debScriptEffects(pkg: PackageMetadata, image: ScriptContext): ScriptEffects {
  const meta = asDeb(pkg);
  const effects: Effect[] = [];
  const untranslated: string[] = [];
  const scripts = (['preinst', 'postinst'] as const).filter((s) => controlFile(meta, s) !== undefined);
  /** Account files already created by an earlier command: later "create if absent" steps do nothing. */
  const accounts = new Set<AccountFile>();
  let caBundle = false;
  const view = new PackageScriptView(image, effects);
  for (const script of ['preinst', 'postinst'] as const) {
    const written = controlFile(meta, script);
    if (written === undefined) continue;
    if (!/^#!\s*\/bin\/(ba|da)?sh/.test(written)) {
      untranslated.push(`${script}: not a shell script (${written.slice(0, 40).split('\n')[0]}); its effects are unknown`);
      continue;
    }
    const text = inlinePackagedScripts(written, image.packages);
    const ctx = view.context(script);
    const globOf = (pattern: string) => view.glob(script, pattern);
    const textOf = (abs: string) => view.text(ctx, abs);
    const parsed = commandWords(text);
    const madeLater = pathsMadeBy(parsed);
    const answers = debconfAnswers(image.packages);
    // A fresh install: `preinst install`, `postinst configure` with no old version, no DPKG_ROOT.
    const args = [...FRESH_INSTALL_ARGS[script]];
    const env: ScriptEnv = {
      args,
      variables: knownVariables(text, parsed, { args, variables: { DPKG_ROOT: '', DPKG_MAINTSCRIPT_PACKAGE: meta.name, DPKG_MAINTSCRIPT_NAME: script, DPKG_MAINTSCRIPT_ARCH: meta.arch, DPKG_ADMINDIR: '/var/lib/dpkg' } }),
      pathType: (p) => kernelFileType(p) ?? ctx.pathType(p),
      // While the script is followed, a path an earlier command of the same body may have made is
      // not known to be absent (tomcat10's `ucf … /etc/tomcat10/$conffile`, then `[ -f
      // /etc/tomcat10/$conffile ]`): such tests are judged again when their command is reached.
      pathTypeAt: (site) => (p) => {
        const t = kernelFileType(p) ?? ctx.pathType(p);
        const made = following && t === 'absent' && madeLater.some((m) => m.function === site.function && m.line < site.line && m.re.test(p));
        return made ? undefined : t;
      },
      commandStatus: (name, words, stdin) =>
        debCommandStatus(name, words) ??
        md5sumCheck(name, words, stdin, ctx, (f) => textOf(shownPath(f))?.text) ??
        statOverrideListed(name, words, ctx) ??
        grepOfFile(name, words, (f) => textOf(shownPath(f))?.text) ??
        ownedBy(name, words, image.packages) ??
        (name === 'setcap' ? setcapSucceeds(words, ctx) : undefined) ??
        // db_get succeeds for a question some package's templates define.
        (name === 'db_get' && words.length === 1 && answers.has(words[0]!) ? true : undefined),
      commandOutput: (words) =>
        dpkgDivertOutput(words, ctx) ??
        freshCommandOutput(words, { ...ctx, packages: image.packages }) ??
        sedOutput(words, (f) => textOf(shownPath(f))?.text) ??
        alternativesQuery(words, (name) => [...(ctx.alternativeChoices?.(name) ?? []), ...effects.filter((e): e is AlternativeEffect => e.kind === 'alternative' && e.name === name)]),
      glob: (pattern) => globOf(pattern),
    };
    // A command sees the script's constants, those its enclosing blocks assigned before it, and
    // debconf's answer (RET) to the last db_get before it.
    // Every debconf command answers in RET (db_fget a flag, db_input whether it asks…); only
    // db_get's answer is known.
    const questions = parsed.commands.filter((q) => q.command.startsWith('db_') && q.command !== 'db_stop');
    const retMemo = new Map<string, Record<string, string>>();
    const retAt = (line: number, fn: string | undefined): Record<string, string> => {
      const key = `${fn ?? ''}\0${line}`;
      const known = retMemo.get(key);
      if (known) return known;
      retMemo.set(key, {}); // a question naming a variable set from RET itself stays unknown
      // `db_get Q && AREA="$RET"`: a question asked earlier on the same line counts too.
      const last = questions.filter((x) => x.function === fn && x.line <= line).at(-1);
      const q = last?.command === 'db_get' ? last : undefined;
      // `db_get "tzdata/Zones/$AREA"`: the question's name as the script has it at that point.
      const asked = q === undefined ? undefined : /[$`]/.test(q.args[0] ?? '') ? knownWords(q, { ...env, variables: variablesAt(text, parsed, env, q, retAt) })?.[1] : q.args[0];
      const answer = asked === undefined ? undefined : answers.get(asked);
      const out: Record<string, string> = answer === undefined ? {} : { RET: answer };
      retMemo.set(key, out);
      return out;
    };
    let following = true;
    const followed = followScript(text, parsed, env, { setAt: retAt });
    following = false;
    const { commands, live, envOf: envAt, holds } = followed;
    const runs = (x: { line: number; function?: string; guards: Guard[] }) => guardsHold(x.guards, envAt(x)) !== 'never';
    const handled = new Set<ShellCommand>();
    // A helper's body recognized as a whole (base-files) marks the commands as written.
    const isHandled = (c: CalledCommand) => handled.has(c) || (c.written !== undefined && handled.has(c.written));
    const coveredWrites = new Set<Redirect>();
    const libraryFunctions = new Set<string>();
    const items: string[] = [];

    const baseFiles = recognizeBaseFiles(meta, parsed, live);
    effects.push(...baseFiles.effects);
    baseFiles.handled.forEach((c) => handled.add(c));
    baseFiles.writes.forEach((w) => coveredWrites.add(w));
    const usrLocal = recognizeUsrLocal(text, parsed, ctx);
    if (usrLocal && runs(usrLocal.first)) effects.push(...usrLocal.effects);
    usrLocal?.handled.forEach((c) => handled.add(c));

    const scratch = scratchVariables(parsed);
    const scratchFiles = new ScratchFiles(scratch, image.packages);
    /** `cat <<EOF > FILE`, `echo … >> FILE`: a file with known text (not one a translation writes whole). */
    const writtenByRedirect = (c: CalledCommand, name: string, args: string[]): CommandResult | undefined => {
      // With every word known, a `$` in them was quoted text (dovecot's 'protocols = $protocols imap').
      const known = knownWords(c, envAt(c));
      const exact = known !== undefined && known.length === args.length + 1 && known.slice(1).every((w, i) => w === args[i]);
      const write = redirectWrite(name, args, c.redirects, (r) => knownWords({ ...c, command: r.target, args: [], raw: [r.target], redirects: [] }, envAt(c))?.[0], effects, ctx, exact);
      if (write === undefined || WRITTEN_WHOLE.has(shownPath(write.redirect.target))) return undefined;
      coveredWrites.add(write.redirect);
      return 'effects' in write ? { effects: write.effects } : { unrecognized: write.unrecognized };
    };
    // Pass 1: recognized effects, and the libraries the script relies on.
    /** How many effects had been made when each command ran (by the command as written). */
    const ranAt = new Map<ShellCommand, number>();
    const atStart = effects.length;
    const stillRuns = (c: { line: number; function?: string; guards: Guard[] }): boolean =>
      c.guards.every((g) => {
        const test = g.kind === 'if' || g.kind === 'and-or' ? firstCommand(g.condition) : undefined;
        const at = test === undefined ? undefined : ranAt.get(test);
        // Nothing made before the test ran: the first judgement (before any effect) stands.
        if (at === undefined || at === atStart) return true;
        return view.asBefore(at, () => guardsHold([g], envAt(c)) !== 'never');
      });
    for (const c of commands) {
      ranAt.set(c.written ?? c, effects.length);
      if (isHandled(c)) continue;
      // Judged again now that earlier commands' effects are known (dash's cp after its rm).
      if (!stillRuns(c)) {
        handled.add(c);
        continue;
      }
      const inv = invocation(c, envAt(c));
      if (inv === undefined) continue;
      const { name } = inv;
      // `rm -f PATTERN` that matches nothing removes nothing: sh passed the pattern as written.
      const args = name === 'rm' && inv.args.some((a) => /^-[a-zA-Z]*f/.test(a)) ? inv.args.filter((a) => !(/[*?[]/.test(a) && globOf(a)?.length === 0)) : inv.args;
      if (args.length && args.every((a) => a.startsWith('-')) && inv.args.length > args.length) {
        handled.add(c);
        continue;
      }
      for (const r of c.redirects) if (OUTPUT.test(r.op)) scratchFiles.written(r.target);
      const followed = scratchFiles.follow(name, args.map(shownPath), holds(c) === 'always');
      if (followed !== undefined) {
        handled.add(c);
        if ('effects' in followed) effects.push(...followed.effects);
        else items.push(followed.unrecognized);
        continue;
      }
      if (name === '.' || name === 'source') {
        const lib = LIBRARIES.get(args[0] ?? '');
        if (lib) {
          lib.forEach((f) => libraryFunctions.add(f));
          handled.add(c);
        }
      } else if (name === 'update-alternatives' && args.includes('--install')) {
        const installs = parseAlternativeInstalls(['update-alternatives', ...args].join(' '));
        for (const install of installs) effects.push({ kind: 'alternative', ...install });
        // Only when every argument was understood (no $(…) slaves, no unknown options after them).
        const [one] = installs;
        if (installs.length === 1 && one && args.length === args.indexOf('--install') + 5 + 4 * one.slaves.length) handled.add(c);
      } else if (name === 'cp' && isShellsTemplateCopy(args)) {
        // debianutils seeds /etc/shells from its template; update-shells' translation writes it whole.
        handled.add(c);
      } else if (name === 'cp' || name === 'cat') {
        const seeded = seedAccounts(meta, c, name, args, accounts);
        const copied = seeded ? undefined : name === 'cp' ? copyPackageFile(args.map(shownPath), ctx) : undefined;
        if (seeded) {
          effects.push(...seeded);
          handled.add(c);
          c.redirects.forEach((r) => coveredWrites.add(r));
        } else if (copied && 'effects' in copied) {
          effects.push(...copied.effects);
          handled.add(c);
        } else {
          const written = writtenByRedirect(c, name, args);
          if (written && 'effects' in written) effects.push(...written.effects);
          else if (written && 'unrecognized' in written) items.push(written.unrecognized);
          if (written) handled.add(c);
        }
      } else if (name === 'find' && args.includes('-delete') && findMatchesNothing(args, globOf, ctx.pathType)) {
        // redis-server's cleanup of empty `redis-server.*.d` directories an older version left.
        handled.add(c);
      } else if (name === 'sed' && args.some((a) => /^-[a-zA-Z]*i|^--in-place/.test(a))) {
        handled.add(c);
        const edited = sedEdits(args.map(shownPath), textOf);
        if ('effects' in edited) effects.push(...edited.effects);
        else if ('unrecognized' in edited) items.push(edited.unrecognized);
      } else if (name === 'update-passwd' && accounts.size > 0) {
        // It reconciles existing accounts with the masters we seeded from; nothing to do when fresh.
        handled.add(c);
      } else if (name === 'update-ca-certificates') {
        if (!caBundle) effects.push({ kind: 'ca-bundle', certificates: capturedCertificates(meta) });
        caBundle = true;
        handled.add(c);
      } else if (name === 'shadowconfig' && args[0] === 'on') {
        // pwconv/grpconv: the translation always writes shadow and gshadow beside passwd and group.
        handled.add(c);
      } else if (name === 'usermod') {
        handled.add(c);
        const result = parseUsermod(args);
        if ('unrecognized' in result) items.push(result.unrecognized);
        else {
          effects.push(...result.effects);
          if (result.update && !applyUserUpdate(effects, result.update)) items.push(`usermod of ${result.update.user}, an account this script did not create`);
          if (result.note) items.push(result.note);
        }
      } else if (name === 'runit-helper') {
        handled.add(c);
        // NAME=… ENABLE=… in front of the command are its environment, on the same line.
        const prefix = Object.fromEntries(parsed.assignments.filter((a) => a.line === c.line && a.function === c.function).map((a) => [a.name, a.value]));
        const result = runitHelper(args, prefix, ctx);
        if ('effects' in result) effects.push(...result.effects);
        else if ('unrecognized' in result) items.push(result.unrecognized);
      } else if (MAKES_PATHS.has(name) && hostNamedWord(args, parsed) !== undefined) {
        // varnish's `install -d /var/lib/varnish/$(uname -n)`: the build machine's name means nothing in an image.
        handled.add(c);
        effects.push({ kind: 'left-out', tool: name, reason: `${hostNamedWord(args, parsed)!} is named after the machine's host name, which only the running machine has: not made in the image (varnishd, for one, makes its working directory at start)` });
      } else {
        const result = recognizeCommand(name, args, ctx, effects, textOf) ?? writtenByRedirect(c, name, args);
        if (result === undefined) continue;
        handled.add(c);
        if ('effects' in result) {
          effects.push(...result.effects);
          if (result.note) items.push(result.note);
        } else if ('unrecognized' in result) items.push(result.unrecognized);
      }
    }
    // The CA translation writes /etc/ca-certificates.conf as the fresh-install branch does.
    if (caBundle) for (const w of parsed.writes) if (shownPath(w.target) === '/etc/ca-certificates.conf') coveredWrites.add(w);

    // Pass 2: report what is left.
    const defined = new Set(parsed.functions);
    const installed = ctx.hasAlternative && ((n: string) => ctx.hasAlternative!(n) || effects.some((e) => e.kind === 'alternative' && e.name === n));
    for (const c of commands) {
      if (isHandled(c) || defined.has(c.command) || libraryFunctions.has(c.command)) continue;
      const inv = invocation(c, envAt(c));
      if (inv === undefined || isInert(inv.name, inv.args, scratch, ctx.pathType, installed) || isInertVariable(inv.name, parsed)) continue;
      // The command with its words as far as they are known, so the report says what is left.
      items.push(inv.name === '.' || inv.name === 'source' ? `. ${inv.args[0] ?? ''}` : [inv.name, ...inv.args].map((w) => (w === '' ? "''" : w)).join(' '));
    }
    for (const w of parsed.writes) {
      // Its guards as they stood when their tests ran (samba-common's `[ -e "$CONFIG" ]` before its ucf).
      if (!live(w.function) || !runs(w) || !stillRuns(w) || coveredWrites.has(w) || DEVICES.has(w.target) || isScratch(w.target, scratch)) continue;
      items.push(`>${shownPath(w.target)}`);
    }
    for (const item of [...new Set(items)].sort()) untranslated.push(`${script}: ${item}`);
  }
  return { effects, untranslated, scripts };
}

/** The commands of every format's and Debian's own helpers that serviceCommands and fileCommands know. */
function recognizeCommand(name: string, args: string[], ctx: ScriptContext, earlier: readonly Effect[], textOf: (abs: string) => KnownText | undefined): CommandResult | undefined {
  const accounts = { homeExists: (p: string) => ctx.pathType(p) === 'directory' };
  switch (name) {
    case 'adduser':
      return parseAdduser(args, 'adduser', accounts);
    case 'addgroup':
      return parseAddgroup(args, accounts);
    case 'useradd':
      return parseUseradd(args, DEBIAN_SHADOW_DEFAULTS, accounts);
    case 'groupadd':
      return parseGroupadd(args, DEBIAN_SHADOW_DEFAULTS);
    case 'gpasswd':
      return parseGpasswd(args);
    case 'deb-systemd-helper':
      return debSystemdHelper(args, ctx);
    case 'systemctl':
      return systemctl(args, ctx);
    case 'update-rc.d':
      return updateRcD(args, ctx);
    case 'systemd-sysusers':
      return systemdSysusers(args, ctx);
    case 'systemd-tmpfiles':
      return systemdTmpfiles(args, ctx);
    case 'add-shell':
      return addShell(args);
    case 'ucf':
      return ucf(args.map(shownPath), ctx, textOf);
    case 'ucfr':
      return ucfr();
    case 'py3compile':
    case 'pypy3compile':
      return pythonBytecode(name);
    case 'update-shells':
      return updateShells(ctx);
    case 'ldconfig':
      return ldconfig(args, ctx);
    case 'systemd-machine-id-setup':
      return machineIdSetup(args);
    case 'pam-auth-update':
      return pamAuthUpdate(args, ctx.packages);
    case 'update-catalog':
      return updateCatalog(args, ctx, ctx.packages);
    case 'update-mime':
      return updateMime(args, ctx.packages);
    case 'locale-gen':
      return localeGen(args, (f) => textOf(f)?.text);
    case 'update-locale':
      return updateLocale(args, (f) => textOf(f)?.text, (f) => {
        const t = ctx.pathType(f);
        return t === undefined ? undefined : t !== 'absent';
      });
    case 'a2enmod':
    case 'a2enconf':
    case 'a2ensite':
      return apacheEnable(name, args, ctx, ctx.packages);
    case 'dpkg-divert':
      return dpkgDivert(args.map(shownPath), ctx, new Set(earlier.flatMap((e) => (e.kind === 'diversion' ? [e.path] : []))));
    case 'dpkg-statoverride':
      return args.includes('--add') ? dpkgStatoverride(args) : undefined;
    default: {
      // A command run as another user (man-db's `setpriv … -- mandb`) is judged as itself.
      const inner = runAsOther(name, args);
      if (inner) return leftOut(inner.name, inner.args, ctx.packages) ?? pythonCommand(inner.name, inner.args, ctx.packages);
      return pythonCommand(name, args, ctx.packages) ?? leftOut(name, args, ctx.packages) ?? fileCommandEffects(name, args.map(shownPath), ctx, earlier);
    }
  }
}

/**
 * systemd's postinst creates /etc/machine-id. An image carries it empty, as machine-id(5) asks
 * and mmdebstrap leaves it: systemd writes the machine's own ID there at first boot (and a
 * container engine can bind-mount one over it).
 */
function machineIdSetup(args: string[]): CommandResult {
  if (args.length) return { unrecognized: `systemd-machine-id-setup ${args.join(' ')}` };
  return { effects: [{ kind: 'file', path: '/etc/machine-id', mode: 0o444, user: 'root', group: 'root', content: '', ifMissing: false }] };
}

/** The simple command a condition runs first, whose time its tests belong to. */
function firstCommand(c: Condition): ShellCommand | undefined {
  switch (c.kind) {
    case 'command':
      return c.command;
    case 'not':
      return firstCommand(c.operand);
    case 'and':
    case 'or':
      return firstCommand(c.left);
    default:
      return undefined;
  }
}

function isShellsTemplateCopy(args: string[]): boolean {
  const files = args.filter((a) => !a.startsWith('-')).map(shownPath);
  return files.length === 2 && files[0] === '/usr/share/debianutils/shells' && files[1] === '/etc/shells';
}

/**
 * `--remove NAME PATH` of a choice whose file is not there, and `--auto NAME` (every alternative
 * layerpkg sets up is in auto mode): cleanups of older versions that change nothing when fresh.
 */
function isFreshAlternativesNoop(args: string[], pathType: ScriptContext['pathType'], hasAlternative?: ScriptContext['hasAlternative']): boolean {
  const words = args.filter((a) => a !== '--quiet' && a !== '--force');
  if (words[0] === '--auto' && words.length === 2) return true;
  // `--remove-all NAME` of an alternative no script in the image installed (libnewt's old palette).
  if (words[0] === '--remove-all' && words.length === 2 && hasAlternative !== undefined && !hasAlternative(words[1]!)) return true;
  return words[0] === '--remove' && words.length === 3 && words[2]!.startsWith('/') && pathType(words[2]!) === 'absent';
}

function isInert(name: string, args: string[], scratch: Set<string>, pathType: ScriptContext['pathType'], hasAlternative?: ScriptContext['hasAlternative']): boolean {
  if (INERT.has(name) || name.startsWith('db_')) return true;
  // `foo --help` / `foo --version`: probing whether a program works.
  if (args.length === 1 && (args[0] === '--help' || args[0] === '--version')) return true;
  switch (name) {
    case 'dpkg':
      return DPKG_QUERIES.test(args[0] ?? '');
    case 'dpkg-divert':
      return args.some((a) => a === '--list' || a === '--listpackage' || a === '--truename');
    case 'dpkg-statoverride':
      return args.includes('--list');
    case 'update-alternatives':
      return args.some((a) => ALTERNATIVES_QUERIES.has(a)) || isFreshAlternativesNoop(args, pathType, hasAlternative);
    case 'sed':
      return !args.some((a) => /^-[a-zA-Z]*i|^--in-place/.test(a));
    case 'find':
      return !args.some((a) => /^-(delete|exec|execdir|ok|okdir|fprint0?|fprintf|fls)$/.test(a));
    case 'perl':
      // `perl -e ""`: checking that perl runs (debconf's frontend needs it).
      return args.length === 2 && args[0] === '-e' && args[1] === '';
    case 'rm': {
      const files = args.filter((a) => !a.startsWith('-'));
      return files.length > 0 && files.every((f) => isScratch(f, scratch));
    }
    default:
      return false;
  }
}

/** `$filt` as a command where every value the script gives filt is a filter (`cat`, `fgrep -v x`). */
function isInertVariable(word: string, s: ShellScript): boolean {
  const name = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(word)?.[1];
  const values = name === undefined ? [] : s.assignments.filter((a) => a.name === name).map((a) => a.value.trim().split(/\s+/)[0] ?? '');
  return values.length > 0 && values.every((v) => INERT.has(v));
}

/** Variables only ever assigned `$(mktemp …)` (or emptied): files under /tmp that the script owns. */
function scratchVariables(s: ShellScript): Set<string> {
  const values = new Map<string, string[]>();
  for (const a of s.assignments) values.set(a.name, [...(values.get(a.name) ?? []), a.value]);
  const out = new Set<string>();
  // `new_config=` first, `new_config="$(mktemp)"` later (openssh-server) is still scratch.
  for (const [name, vs] of values) {
    if (vs.some((v) => v !== '') && vs.every((v) => v === '' || /^(\$\(mktemp\b[^)]*\)|`mktemp\b[^`]*`)$/.test(v))) out.add(name);
  }
  return out;
}

function isScratch(word: string, scratch: Set<string>): boolean {
  const m = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(word);
  return m !== null && scratch.has(m[1]!);
}


/**
 * base-passwd creates /etc/passwd and /etc/group when absent: the preinst writes them from
 * heredocs (`cat > "$DPKG_ROOT/etc/passwd" <<'EOF'`), the postinst copies the .master files.
 * The first writer wins; later steps find the file and do nothing.
 */
function seedAccounts(meta: DebMetadata, c: ShellCommand, name: string, args: string[], done: Set<AccountFile>): (UserEffect | GroupEffect)[] | undefined {
  let file: AccountFile | undefined;
  let content: string | undefined;
  if (name === 'cp') {
    const files = args.filter((a) => !a.startsWith('-'));
    const src = /^\/(usr\/share\/\S+\.master)$/.exec(shownPath(files[0] ?? ''))?.[1];
    file = accountFile(files[1]);
    if (files.length !== 2 || src === undefined || file === undefined) return undefined;
    const captured = meta.captured[src];
    if (captured !== undefined) content = Buffer.from(captured, 'base64').toString('utf8');
  } else {
    const out = c.redirects.filter((r) => r.op === '>' || r.op === '>|');
    const doc = c.redirects.find((r) => r.heredoc)?.heredoc;
    file = out.length === 1 ? accountFile(out[0]!.target) : undefined;
    if (args.length || file === undefined || doc === undefined || (doc.expands && /[$`\\]/.test(doc.body))) return undefined;
    content = doc.body;
  }
  if (done.has(file)) return [];
  if (content === undefined) return undefined;
  done.add(file);
  return accountsFrom(file, content);
}

function accountFile(target: string | undefined): AccountFile | undefined {
  const m = /^\/etc\/(passwd|group)$/.exec(shownPath(target ?? ''));
  return m ? (m[1] as AccountFile) : undefined;
}

function accountsFrom(file: AccountFile, content: string): (UserEffect | GroupEffect)[] {
  const out: (UserEffect | GroupEffect)[] = [];
  for (const line of content.split('\n').filter((l) => l && !l.startsWith('#'))) {
    const f = line.split(':');
    if (file === 'passwd' && f.length >= 7) {
      out.push({ kind: 'user', name: f[0]!, password: f[1]!, uid: Number(f[2]), group: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]!, origin: 'base' });
    } else if (file === 'group' && f.length >= 4) {
      out.push({ kind: 'group', name: f[0]!, password: f[1]!, gid: Number(f[2]), members: f[3] ? f[3].split(',') : [], origin: 'base' });
    }
  }
  return out;
}

function capturedCertificates(meta: DebMetadata): { relPath: string; base64: string }[] {
  return Object.keys(meta.captured)
    .filter((p) => p.startsWith(CA_STORE))
    .sort()
    .map((p) => ({ relPath: p.slice(CA_STORE.length), base64: meta.captured[p]! }));
}
