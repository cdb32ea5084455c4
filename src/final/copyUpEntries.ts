/**
 * Packaged files whose owner or mode maintainer scripts change (openssh-client's setgid
 * ssh-agent, cron's crontab statoverride) are copied from their package's layer into the final
 * layer with the change applied: a layer cannot change a lower layer's file in place. Files a
 * script copies elsewhere (apache2's index.html) are read from their layer the same way.
 */
import type { Adapter, FinalEntry, PackageMetadata } from '../../adapters/types.js';
import type { Cas } from '../cas/cas.js';
import { changedMode } from '../translate/effects.js';
import { xattrsAfter } from '../translate/fileCapability.js';
import type { CopyUp } from '../translate/filesystem.js';
import { readLayerFiles, type LayerFile } from './readLayerFiles.js';

export interface CopiedUp {
  entries: FinalEntry[];
  /** What could not be copied, by package: the report's untranslated lines. */
  problems: { source: string; effect: string }[];
}

/**
 * `final` are the final layer's other entries: a file already there (an account file the
 * translation rewrote) takes the change itself, since it is what the image shows.
 */
export async function copyUpEntries(
  cas: Cas,
  adapter: Adapter,
  layers: { digest: string; metadata: PackageMetadata[] }[],
  copyUps: CopyUp[],
  final: readonly FinalEntry[],
): Promise<CopiedUp> {
  const entries: FinalEntry[] = [];
  const problems: CopiedUp['problems'] = [];
  const inFinal = new Map(final.map((e) => [e.path, e]));
  // The layer that installs a path last is the one the image shows.
  const sourceOf = (c: CopyUp) => c.from ?? c.path;
  const wanted = new Set(copyUps.map(sourceOf));
  const shownBy = new Map<string, string>();
  for (const l of layers) for (const m of l.metadata) for (const p of adapter.installedPaths(m)) if (wanted.has(p)) shownBy.set(p, l.digest);
  const byLayer = new Map<string, CopyUp[]>();
  for (const c of copyUps) {
    const there = c.from === undefined ? inFinal.get(c.path) : undefined;
    if (there?.type === 'file') {
      entries.push({ ...there, ...applyChanges({ mode: there.mode, uid: there.uid ?? 0, gid: there.gid ?? 0, xattrs: there.xattrs }, c.changes) });
      continue;
    }
    const digest = shownBy.get(sourceOf(c));
    if (digest === undefined) problems.push({ source: c.source, effect: c.from === undefined ? `/${c.path}: no package layer holds it; owner and mode not applied` : `/${c.from}: no package layer holds it; not copied to /${c.path}` });
    else byLayer.set(digest, [...(byLayer.get(digest) ?? []), c]);
  }
  for (const [digest, inLayer] of byLayer) {
    const files = await readLayerFiles(cas, digest, new Set(inLayer.map(sourceOf)));
    for (const c of inLayer) {
      const f = files.get(sourceOf(c));
      if (f?.content === undefined) {
        const what = f?.type === 'symlink' ? 'a packaged symlink (the change would go to its target)' : 'not a regular file in its layer';
        problems.push({ source: c.source, effect: c.from === undefined ? `/${c.path}: ${what}; owner and mode not applied` : `/${c.from}: ${what}; not copied to /${c.path}` });
        continue;
      }
      const { mode, uid, gid, xattrs } = applyChanges(f, c.changes);
      entries.push({ path: c.path, type: 'file', mode, uid, gid, content: f.content, mtime: f.mtime, ...(xattrs ? { xattrs } : {}) });
    }
  }
  return { entries, problems };
}

/**
 * chown, chmod and setcap in order. Changing the owner or group of a regular file clears its
 * set-user-ID bit, its set-group-ID bit when it is group-executable, and its file capabilities,
 * as Linux does even for root.
 */
export function applyChanges(
  f: Pick<LayerFile, 'mode' | 'uid' | 'gid'> & { xattrs?: Record<string, Buffer> },
  changes: CopyUp['changes'],
): { mode: number; uid: number; gid: number; xattrs?: Record<string, Buffer> } {
  let { mode, uid, gid } = f;
  let xattrs = f.xattrs;
  for (const c of changes) {
    if (c.uid !== undefined || c.gid !== undefined) {
      uid = c.uid ?? uid;
      gid = c.gid ?? gid;
      mode &= ~(0o4000 | (mode & 0o010 ? 0o2000 : 0));
    }
    if (c.mode !== undefined) mode = c.mode;
    if (c.modeChange) mode = changedMode(mode, c.modeChange);
    xattrs = xattrsAfter(xattrs, { chown: c.uid !== undefined || c.gid !== undefined, capability: c.capability });
  }
  return { mode, uid, gid, ...(xattrs ? { xattrs } : {}) };
}
