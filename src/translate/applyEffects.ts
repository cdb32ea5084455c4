import path from 'node:path';
import type { Adapter, AppliedState, FinalEntry, InstalledDirectory, PackageMetadata, ScriptContext } from '../../adapters/types.js';
import { accountEntries, applyAccounts, parseAccounts } from './accounts.js';
import { applyAlternatives } from './alternatives.js';
import { applyTmpfiles } from './applyTmpfiles.js';
import { buildCaCertificates } from './caCertificates.js';
import { declarationFile } from './declarationFile.js';
import { describeEffect } from './describeEffect.js';
import { EffectView } from './effectView.js';
import { globParts, globPaths } from './globNames.js';
import {
  changedMode,
  isAccountEffect,
  isFilesystemEffect,
  type AccountEffect,
  type AlternativeEffect,
  type AttributesEffect,
  type CaBundleEffect,
  type DisableServiceEffect,
  type DiversionEffect,
  type Effect,
  type EnableInitScriptEffect,
  type EnableUnitEffect,
  type FilesystemEffect,
  type LdCacheEffect,
  type LeftOutEffect,
  type LoginShellEffect,
  type SysusersEffect,
  type TmpfilesEffect,
} from './effects.js';
import { enableInitScripts } from './enableInitScripts.js';
import { enableUnits, runtimeDirectories } from './enableUnits.js';
import { applyFilesystem, type CopyUp, type Tagged } from './filesystem.js';
import { applyLdCache } from './applyLdCache.js';
import { renderSysusers } from './sysusersConf.js';
import { parseTmpfiles, parseTmpfilesLine } from './tmpfilesConf.js';
import { usableLines } from './usableLines.js';

/** What one package's scripts (or image.toml) amount to, for `layerpkg scripts` and build --json. */
export interface ScriptReport {
  package: string;
  /** The scripts it has that run on install. */
  scripts: string[];
  /** One line per recognized effect. */
  effects: string[];
  untranslated: string[];
}

export interface Translation {
  entries: FinalEntry[];
  /** Packaged files the final layer must carry a copy of, with a new owner or mode (read from their layers by the builder). */
  copyUps: CopyUp[];
  applied: AppliedState;
  /** Per package, what its scripts would have done that layerpkg did not reproduce. */
  untranslated: { package: string; items: string[] }[];
  report: ScriptReport[];
}

/** The source name of effects image.toml asks for. */
export const IMAGE_SOURCE = 'image.toml';

/**
 * Ask the adapter what each package's scripts would have done, then apply all effects together:
 * accounts, alternatives and the CA bundle depend on the whole package set, not on one package.
 * `extra` are the effects image.toml declares; they apply last.
 */
export function translateEffects(adapter: Adapter, packages: PackageMetadata[], sourceDateEpoch: number, extra: Effect[] = []): Translation {
  const canonical = (p: string) => adapter.canonicalPath(p);
  const installed = new Set(packages.flatMap((p) => adapter.installedPaths(p)));
  const directories = new Map<string, InstalledDirectory>();
  for (const p of packages) for (const d of adapter.installedDirectories(p)) directories.set(d.path, d);
  const view = pathView(adapter, packages);
  // Diversions the scripts make, in install order: a later script's dpkg-divert queries see them.
  const diversions = new Map<string, { divertTo: string; package: string }>();
  // Likewise stat overrides: `dpkg-statoverride --list PATH` answers from those made so far.
  const overridden = new Set<string>();
  // And alternatives: `update-alternatives --remove-all NAME` of one nobody installed does
  // nothing, and `--query NAME` lists the choices installed so far.
  const alternativeChoices = new Map<string, AlternativeEffect[]>();
  // What the scripts of packages configured earlier made, changed or removed.
  const made = new EffectView(canonical);
  const contextOf = (pkg: PackageMetadata): ScriptContext => ({
    pathType: (abs) => made.type(abs) ?? view(canonical(abs)),
    pathTypeBeforeUnpack: (abs) => made.type(abs) ?? view(canonical(abs), pkg),
    packages,
    diversion: (abs) => diversions.get(abs),
    statOverridden: (abs) => overridden.has(abs),
    hasAlternative: (name) => alternativeChoices.has(name),
    alternativeChoices: (name) => alternativeChoices.get(name) ?? [],
    fileText: (abs) => made.text(abs),
    glob: globber(view, made, canonical),
    globBeforeUnpack: globber(view, made, canonical, pkg),
    directory: (abs) => {
      const type = made.type(abs) ?? view(canonical(abs));
      if (type !== 'directory') return undefined;
      const shipped = directories.get(canonical(abs));
      const set = made.attributes(abs);
      const base = set?.mode ?? shipped?.mode;
      const mode = base !== undefined && set?.modeChange ? changedMode(base, set.modeChange) : base;
      const user = set?.user ?? (shipped ? String(shipped.uid) : undefined);
      const group = set?.group ?? (shipped ? String(shipped.gid) : undefined);
      return mode === undefined || user === undefined || group === undefined ? undefined : { mode, user, group };
    },
  });

  const tagged: Tagged<Effect>[] = [];
  const report: ScriptReport[] = [];
  for (const pkg of adapter.configureOrder?.(packages) ?? packages) {
    const found = adapter.scriptEffects(pkg, contextOf(pkg));
    tagged.push(...found.effects.map((effect) => ({ source: pkg.name, effect })));
    made.apply(found.effects);
    for (const e of found.effects) {
      if (e.kind === 'diversion') diversions.set(e.path, { divertTo: e.divertTo, package: e.package });
      if (e.kind === 'attributes' && e.override) overridden.add(e.path);
      if (e.kind === 'alternative') alternativeChoices.set(e.name, [...(alternativeChoices.get(e.name) ?? []), e]);
    }
    if (found.scripts?.length || found.effects.length || found.untranslated.length) {
      // A helper called once per key (ssh-keygen per host-key type) shows its effect once, and a
      // file written again and again (locales' locale.gen, line by line) its last text only.
      const lastWrite = new Map(found.effects.flatMap((e, i) => (e.kind === 'file' ? [[e.path, i] as const] : [])));
      const shown = found.effects.filter((e, i) => e.kind !== 'file' || lastWrite.get(e.path) === i);
      report.push({ package: pkg.name, scripts: found.scripts ?? [], effects: [...new Set(shown.map(describeEffect))], untranslated: [...found.untranslated] });
    }
  }
  if (extra.length) {
    tagged.push(...extra.map((effect) => ({ source: IMAGE_SOURCE, effect })));
    report.push({ package: IMAGE_SOURCE, scripts: [], effects: extra.map(describeEffect), untranslated: [] });
  }
  const reportOf = (source: string): ScriptReport => {
    let r = report.find((x) => x.package === source);
    if (!r) report.push((r = { package: source, scripts: [], effects: [], untranslated: [] }));
    return r;
  };
  const problem = (t: Tagged<string>) => reportOf(t.source).untranslated.push(t.effect);
  /** Handled on purpose without a change to the image, for the report's effects. */
  const note = (source: string, text: string) => reportOf(source).effects.push(text);
  const ofKind = <E extends Effect>(test: (e: Effect) => e is E): Tagged<E>[] => tagged.filter((t): t is Tagged<E> => test(t.effect));
  const entries: FinalEntry[] = [];

  // Accounts first: owners of paths resolve against them.
  const accounts = applyAccounts(
    ofKind((e): e is AccountEffect | SysusersEffect => isAccountEffect(e) || e.kind === 'sysusers'),
    sourceDateEpoch,
  );
  accounts.problems.forEach(problem);
  if (accounts.changed) entries.push(...accountEntries(accounts.files, accounts.shipped));
  // Declarations go where the image already follows the convention (a package ships the
  // directory: systemd, passwd…); an image without it (Alpine's) gets the applied result only.
  const declare = (file: string, what: string, source: string, lines: string[]) => {
    if (directories.has(path.posix.dirname(file).replace(/^\/+/, ''))) entries.push(declaration(file, what, source, lines));
  };
  for (const [source, items] of accounts.sysusers) declare(declarationFile('sysusers', source), 'sysusers', source, renderSysusers(items).trimEnd().split('\n'));
  const index = parseAccounts(accounts.files);
  const uidOf = (name: string) => (/^\d+$/.test(name) ? Number(name) : name === 'root' ? 0 : index.users.get(name)?.uid);
  const gidOf = (name: string) => (/^\d+$/.test(name) ? Number(name) : name === 'root' ? 0 : index.groups.get(name)?.gid);

  // Paths scripts make, then the tmpfiles.d files they apply, over them.
  // Enabled services' runtime directories join the paths (unless a package ships them), under
  // the package that enabled the service.
  const runtimeDirs: Tagged<FilesystemEffect>[] = ofKind((e): e is EnableUnitEffect => e.kind === 'enable-unit')
    .flatMap((t) => runtimeDirectories([t.effect], (user) => String(index.users.get(user)?.gid ?? 0)).map((effect) => ({ source: t.source, effect })))
    .filter((t) => !directories.has(canonical(t.effect.path)));
  const pathEffects = [...(ofKind(isFilesystemEffect) as Tagged<FilesystemEffect>[]), ...runtimeDirs];
  const leftOut = new Map(ofKind((e): e is LeftOutEffect => e.kind === 'left-out').flatMap((t) => (t.effect.paths ?? []).map((p) => [canonical(p), t.effect.tool] as const)));
  const loginGroupOf = (user: string) => {
    const gid = index.users.get(user)?.gid;
    return gid === undefined ? undefined : ([...index.groups].find(([, g]) => g.gid === gid)?.[0] ?? String(gid));
  };
  const filesystem = applyFilesystem(pathEffects, { uidOf, gidOf, installed, directories, canonical, leftOut, loginGroupOf });
  entries.push(...filesystem.entries);
  filesystem.unresolved.forEach(problem);
  filesystem.notes.forEach((t) => note(t.source, t.effect));
  for (const [source, lines] of filesystem.tmpfiles) declare(declarationFile('tmpfiles', source), 'tmpfiles', source, lines);
  const tmpfiles = ofKind((e): e is TmpfilesEffect => e.kind === 'tmpfiles');
  if (tmpfiles.length) {
    const made = new Map(filesystem.entries.map((e) => [e.path, e]));
    const applied = applyTmpfiles(
      tmpfiles.flatMap((t) => {
        const usable = usableLines(t.effect.text, t.effect.file, parseTmpfilesLine);
        usable.skipped.forEach((p) => problem({ source: t.source, effect: p }));
        usable.atBoot.forEach((p) => note(t.source, `left to systemd-tmpfiles at boot: ${p}`));
        return parseTmpfiles(usable.text, t.effect.file);
      }),
      {
        existing: (rel) => existingAt(rel, made, installed, directories),
        uidOf,
        gidOf,
      },
    );
    entries.push(...applied.entries);
    // Lines the real tool would fail on (applied.failed) change nothing there either.
    for (const n of applied.notApplied) problem({ source: '(tmpfiles.d)', effect: n });
  }

  const alternatives = applyAlternatives(
    ofKind((e): e is AlternativeEffect => e.kind === 'alternative').map((t) => t.effect),
    (p) => installed.has(canonical(p)),
    canonical,
  );
  entries.push(...alternatives.entries);

  const bundles = ofKind((e): e is CaBundleEffect => e.kind === 'ca-bundle').map((t) => t.effect);
  if (bundles.length) {
    const certs = bundles.flatMap((b) => b.certificates).map((c) => ({ relPath: c.relPath, content: Buffer.from(c.base64, 'base64') }));
    const ca = buildCaCertificates(certs);
    entries.push({ path: 'etc/ca-certificates.conf', type: 'file', mode: 0o644, content: ca.confFile });
    // Like the real script, no bundle at all when no certificate was added.
    if (ca.bundle.length) entries.push({ path: 'etc/ssl/certs/ca-certificates.crt', type: 'file', mode: 0o644, content: ca.bundle });
    for (const l of ca.links) entries.push({ path: l.path, type: 'symlink', linkname: l.target });
  }

  const shells = ofKind((e): e is LoginShellEffect => e.kind === 'login-shell').map((t) => t.effect.path);
  if (shells.length) {
    const unique = [...new Set(shells)];
    entries.push({ path: 'etc/shells', type: 'file', mode: 0o644, content: Buffer.from(`# /etc/shells: valid login shells\n${unique.map((s) => `${s}\n`).join('')}`) });
  }

  // update-rc.d NAME disable undoes the enabling that came before it.
  const disabledAt = new Map(tagged.flatMap((t, i) => (t.effect.kind === 'disable-service' ? [[t.effect.name, i] as const] : [])));
  const disabled = (name: string, at: number) => (disabledAt.get(name) ?? -1) > at;
  const unitEffects = tagged.flatMap((t, i) => (t.effect.kind === 'enable-unit' && !disabled(path.posix.basename(t.effect.path).replace(/\.service$/, ''), i) ? [t as Tagged<EnableUnitEffect>] : []));
  const units = enableUnits(
    unitEffects.map((t) => t.effect),
    new Map(unitEffects.map((t) => [path.posix.basename(t.effect.path), t.effect])),
  );
  entries.push(...units.entries);
  units.problems.forEach((p) => problem({ source: '(systemd units)', effect: p }));
  const initEffects = ofKind((e): e is EnableInitScriptEffect => e.kind === 'enable-initscript').map((t) => t.effect);
  for (const t of ofKind((e): e is DisableServiceEffect => e.kind === 'disable-service')) {
    // Without links to toggle, update-rc.d fails ("no runlevel symlinks to modify").
    if (!initEffects.some((e) => e.name === t.effect.name)) problem({ source: t.source, effect: `update-rc.d ${t.effect.name} disable: the init script was not enabled before, so update-rc.d fails` });
  }
  const initScripts = enableInitScripts(initEffects, new Set(disabledAt.keys()));
  entries.push(...initScripts.entries);
  initScripts.problems.forEach((p) => problem({ source: '(init scripts)', effect: p }));

  // ldconfig reads the whole image: once, whoever ran it.
  const [ldCache] = ofKind((e): e is LdCacheEffect => e.kind === 'ld-cache');
  if (ldCache) {
    const inputs = adapter.ldconfigInputs ? packages.flatMap((p) => adapter.ldconfigInputs!(p)) : [];
    entries.push(applyLdCache(ldCache.effect, inputs, [...directories.keys()]));
  }

  const statOverrides = ofKind((e): e is AttributesEffect => e.kind === 'attributes' && e.override === true).map(({ effect: e }) => ({
    path: e.path,
    user: e.user ?? 'root',
    group: e.group ?? 'root',
    mode: e.mode ?? 0o644,
  }));

  const diverted = ofKind((e): e is DiversionEffect => e.kind === 'diversion').map(({ effect: { path, divertTo, package: by } }) => ({ path, divertTo, package: by }));

  const untranslated = report.filter((r) => r.untranslated.length).map((r) => ({ package: r.package, items: r.untranslated }));
  return { entries: withParents(entries, installed, directories), copyUps: filesystem.copyUps, applied: { alternatives: alternatives.selected, statOverrides, diversions: diverted }, untranslated, report };
}

/**
 * What is at a path, by how many packages ship it (as a file, or as a directory or a directory's
 * ancestor), so that a preinst's view can leave its own package out.
 */
interface PathView {
  (rel: string, without?: PackageMetadata): 'file' | 'directory' | 'absent';
  /** The names in a directory, as the packages (but `without`) ship them. */
  children(dirRel: string, without?: PackageMetadata): string[];
}

/** Built on the first question only: an image whose packages have no scripts never asks (and a package of 200,000 files would make it large). */
function pathView(adapter: Adapter, packages: PackageMetadata[]): PathView {
  let built: PathView | undefined;
  const get = () => (built ??= buildPathView(adapter, packages));
  const view = (rel: string, without?: PackageMetadata) => get()(rel, without);
  return Object.assign(view, { children: (dirRel: string, without?: PackageMetadata) => get().children(dirRel, without) });
}

function buildPathView(adapter: Adapter, packages: PackageMetadata[]): PathView {
  const files = new Map<string, PackageMetadata[]>();
  const dirs = new Map<string, PackageMetadata[]>();
  const inDir = new Map<string, Set<string>>();
  const add = (m: Map<string, PackageMetadata[]>, k: string, p: PackageMetadata) => {
    const list = m.get(k);
    if (!list) {
      m.set(k, [p]);
      const parent = path.posix.dirname(k) === '.' ? '' : path.posix.dirname(k);
      let names = inDir.get(parent);
      if (!names) inDir.set(parent, (names = new Set()));
      names.add(k);
    } else if (list[list.length - 1] !== p) list.push(p);
  };
  for (const p of packages) {
    for (const f of adapter.installedPaths(p)) {
      add(files, f, p);
      for (let d = path.posix.dirname(f); d !== '.'; d = path.posix.dirname(d)) add(dirs, d, p);
    }
    for (const d of adapter.installedDirectories(p)) add(dirs, d.path, p);
  }
  const has = (list: PackageMetadata[] | undefined, without?: PackageMetadata) => list !== undefined && list.some((p) => p !== without);
  const view = (rel: string, without?: PackageMetadata) => {
    if (rel === '' || has(dirs.get(rel), without)) return 'directory' as const;
    return has(files.get(rel), without) ? ('file' as const) : ('absent' as const);
  };
  const children = (dirRel: string, without?: PackageMetadata) =>
    [...(inDir.get(dirRel) ?? [])].filter((k) => has(files.get(k), without) || has(dirs.get(k), without)).map((k) => path.posix.basename(k));
  return Object.assign(view, { children });
}

/** What a glob in a script's word names: packaged paths and what earlier scripts made, minus what they removed. */
function globber(view: PathView, made: EffectView, canonical: (abs: string) => string, without?: PackageMetadata): (pattern: string) => string[] | undefined {
  return (pattern) => {
    const parts = globParts(pattern);
    if (parts === undefined) return undefined;
    const dirRel = canonical(parts.dir);
    return globPaths(parts, pattern, made.names(dirRel, view.children(dirRel, without)));
  };
}

/** A file layerpkg writes to declare what it applied (sysusers.d, tmpfiles.d). */
function declaration(absPath: string, what: string, source: string, lines: string[]): FinalEntry {
  const header = `# Written by layerpkg: the ${what} effects of ${source === IMAGE_SOURCE ? 'image.toml' : `${source}'s maintainer scripts`}, as applied to this image.\n`;
  return { path: absPath.replace(/^\/+/, ''), type: 'file', mode: 0o644, content: Buffer.from(header + lines.map((l) => `${l}\n`).join('')) };
}

function existingAt(rel: string, made: Map<string, FinalEntry>, installed: ReadonlySet<string>, directories: ReadonlyMap<string, InstalledDirectory>) {
  const m = made.get(rel);
  if (m) return m.type === 'symlink' ? { type: 'symlink' as const, mode: 0o777, uid: 0, gid: 0 } : { type: m.type, mode: m.mode, uid: m.uid ?? 0, gid: m.gid ?? 0 };
  const d = directories.get(rel);
  if (d) return { type: 'directory' as const, mode: d.mode, uid: d.uid, gid: d.gid };
  // Packaged non-directories: the type is all that is known here (links and files look alike).
  return installed.has(rel) ? { type: 'other' as const, mode: 0o644, uid: 0, gid: 0 } : undefined;
}

/**
 * Parents of new paths that no package ships (/etc/systemd/system/multi-user.target.wants in an
 * image without systemd): made explicitly, 0755 root, so every runtime sees the same tree.
 */
function withParents(entries: FinalEntry[], installed: ReadonlySet<string>, directories: ReadonlyMap<string, InstalledDirectory>): FinalEntry[] {
  const have = new Set(entries.map((e) => e.path));
  const parents: FinalEntry[] = [];
  for (const e of entries) {
    for (let dir = path.posix.dirname(e.path); dir !== '.' && dir !== ''; dir = path.posix.dirname(dir)) {
      if (have.has(dir) || directories.has(dir) || installed.has(dir)) break;
      have.add(dir);
      parents.push({ path: dir, type: 'directory', mode: 0o755 });
    }
  }
  return [...parents, ...entries];
}
