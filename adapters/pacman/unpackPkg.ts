/**
 * Streaming reader of pacman packages (`.pkg.tar.zst`, `.xz`, `.gz`, plain `.tar`).
 *
 * A package is one tar: the top-level dot-files (.PKGINFO, .BUILDINFO, .MTREE, .INSTALL,
 * .CHANGELOG...) are its metadata, everything else is installed. As in libalpm, any entry whose
 * name starts with "." is never installed (pacman reserves them "for future possibilities");
 * .PKGINFO, .MTREE and .INSTALL are read whole (small, bounded), the others skipped. Data
 * entries are yielded one by one with their bodies streaming through; only the `backup` files
 * of .PKGINFO are hashed (md5, for the local database's %BACKUP%) on the way.
 *
 * Unlike libalpm, a leading "./" is tolerated (makepkg never writes one; pacman would skip such
 * entries as dot-files): names are normalized first, then classified.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';
import { errorMessage, UserError } from '../../src/errors.js';
import { PackageTree } from '../packageTree.js';
import { layerEntryOf, relativeName, tarEntryPath, unpackResult } from '../tarEntries.js';
import type { LayerEntry, PackageMetadata, UnpackedEntry, UnpackLimits, UnpackResult } from '../types.js';
import { boundedDecode } from '../boundedDecode.js';
import { ExpansionBudget } from '../expansionBudget.js';
import { DEFAULT_LIMITS } from '../../src/config/imageConfig.js';
import { packageCompression, type PackageCompression } from './decompress.js';
import type { PacmanFile, PacmanMetadata } from './pacmanMetadata.js';

/** The dot-files kept in the metadata (pacman copies .MTREE and .INSTALL to its local database). */
const CAPTURED = new Set(['.PKGINFO', '.MTREE', '.INSTALL', '.CHANGELOG']);
/** Far above any real one (a huge package's .MTREE is a few MB): a bound on memory, not a format rule. */
const CAPTURE_LIMIT = 64 * 1024 * 1024;

/**
 * .PKGINFO's "key = value" lines, in order, as libalpm's parse_descfile reads them: blank lines
 * and "#" comments are skipped, the key runs to the first space, which must start " = ";
 * other lines are skipped too (libalpm logs them and goes on).
 */
export function parsePkginfo(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const space = line.indexOf(' ');
    if (space <= 0 || !line.startsWith(' = ', space)) continue;
    pairs.push([line.slice(0, space), line.slice(space + 3)]);
  }
  return pairs;
}

/** A tar stream of the package at `file`, decompressed; `corrupt` turns stream errors into the caller's UserError. */
function openTar(
  file: string,
  kind: PackageCompression,
  corrupt: (e: unknown) => UserError,
  budget: ExpansionBudget,
): { extract: tar.Extract; close: () => void; complete: () => Promise<boolean> } {
  const source = createReadStream(file);
  const expansion = budget.meter();
  const extract = tar.extract();
  let done = false;
  // streamx emits "finish" only once _final found no missing bytes (the tar was read to its
  // end), and before "close"; an extract destroyed early closes without it.
  extract.on('finish', () => {
    done = true;
  });
  const closed = new Promise<void>((resolve) => extract.once('close', () => resolve()));
  const decoded = kind === 'none' ? undefined : boundedDecode(source, kind);
  const streams = decoded ? [source, decoded, expansion] : [source, expansion];
  for (const s of streams) s.on('error', (e: Error) => extract.destroy(corrupt(e)));
  (decoded ?? source).pipe(expansion).pipe(extract);
  return {
    extract,
    close: () => {
      for (const s of streams) s.destroy();
    },
    complete: async () => {
      if (!extract.destroyed) await closed;
      return done;
    },
  };
}

async function readWhole(tarEntry: AsyncIterable<Buffer>, rel: string, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of tarEntry) {
    size += chunk.length;
    if (size > CAPTURE_LIMIT) {
      throw new UserError(`${label}: its ${rel} is larger than ${CAPTURE_LIMIT} bytes: this is not a well-formed pacman package`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Stream the pacman package at `file` into layer entries; `metadata` resolves to its
 * PacmanMetadata once the entries are consumed. `label` names the package in every error.
 * Entries are yielded before the end of the archive is known to be sound, so a consumer must
 * discard what it wrote when iteration throws.
 */
export function unpackPacman(file: string, label: string, limits: UnpackLimits = DEFAULT_LIMITS): UnpackResult {
  return unpackResult(async function* entries(): AsyncGenerator<UnpackedEntry, PackageMetadata> {
    const kind = await packageCompression(file, label);
    const corrupt = (e: unknown): UserError =>
      e instanceof UserError ? e : new UserError(`${label} is corrupt or truncated (${errorMessage(e)}): download it again`);

    const captured = new Map<string, Buffer>();
    let backupPaths: Set<string> | undefined;
    const files: PacmanFile[] = [];
    const regularFiles = new Set<string>();
    /** Hardlink path → the regular file it links to. */
    const hardlinks = new Map<string, string>();
    const md5s = new Map<string, string>();
    const tree = new PackageTree(label, limits, 'replace-with-directory');
    const budget = new ExpansionBudget(label, limits);
    const effectFiles: Record<string, string> = {};

    const { extract, close, complete } = openTar(file, kind, corrupt, budget);
    try {
      for await (const tarEntry of extract) {
        budget.entry();
        const h = tarEntry.header;
        const { type, rel } = tarEntryPath(h, label);
        if (rel === '') {
          tarEntry.resume();
          continue;
        }

        if (rel.startsWith('.')) {
          if (!CAPTURED.has(rel)) {
            tarEntry.resume();
            continue;
          }
          if (type !== 'file') {
            throw new UserError(`${label}: its ${rel} is a ${type}, not a file: this is not a well-formed pacman package`);
          }
          if (captured.has(rel)) {
            throw new UserError(`${label}: it holds ${rel} twice: this is not a well-formed pacman package`);
          }
          const content = await readWhole(tarEntry as AsyncIterable<Buffer>, rel, label);
          captured.set(rel, content);
          if (rel === '.PKGINFO') {
            const fields = parsePkginfo(content.toString('utf8'));
            backupPaths = new Set(fields.filter(([k]) => k === 'backup').map(([, v]) => v));
            const declared = fields.find(([k]) => k === 'size')?.[1];
            if (declared !== undefined && /^\d+$/.test(declared)) budget.declare(Number(declared), `.PKGINFO size (${declared} bytes)`);
          }
          continue;
        }

        const entry = layerEntryOf(h, rel, type);
        if (type === 'hardlink') entry.linkname = relativeName(h.linkname ?? '', label);
        // libalpm's libarchive replaces a symlink the package shipped with a directory when a
        // later entry lies beneath it: those directories go into the layer first.
        for (const directory of tree.admit(entry, rel)) yield { entry: directory };
        if (type === 'hardlink') hardlinks.set(rel, entry.linkname!);
        files.push(pacmanFile(entry));
        // A path shipped twice is what its last entry makes it.
        if (type !== 'hardlink') hardlinks.delete(rel);
        if (type !== 'file') {
          regularFiles.delete(rel);
          md5s.delete(rel);
          tarEntry.resume();
          yield { entry };
          continue;
        }
        regularFiles.add(rel);
        const md5 = backupPaths?.has(rel) ? createHash('md5') : undefined;
        const progress: BodyProgress = { ended: false };
        // Files script effects read (account files, sysusers.d, tmpfiles.d, alpm hooks), kept whole.
        const keep = isCapturedForEffects(rel) && entry.size <= EFFECT_FILE_LIMIT ? ([] as Buffer[]) : undefined;
        const body = entryBody(tarEntry as AsyncIterable<Buffer>, md5, progress, corrupt, keep);
        yield { entry, body };
        // The consumer must have read the body; one it left unread is read to its end here,
        // before the hash is taken (one it abandoned, or that failed, yields nothing more).
        for await (const _ of body) void _;
        if (!progress.ended) {
          // A consumer that destroys a body aborts its reading; tar-stream then destroys the
          // whole archive (and would never end the iteration): stop here, loudly.
          const abandoned = progress.error === undefined || (progress.error as { name?: unknown }).name === 'AbortError';
          if (!abandoned) throw corrupt(progress.error);
          throw new UserError(`${label}: the content of ${rel} was abandoned before its end, so the rest of the package cannot be read`);
        }
        if (md5) md5s.set(rel, md5.digest('hex'));
        if (keep) effectFiles[rel] = Buffer.concat(keep).toString('base64');
      }
      if (!(await complete())) throw new UserError(`${label}: reading stopped before the end of its archive (an entry's body was abandoned?)`);
    } catch (e) {
      throw corrupt(e);
    } finally {
      close();
    }

    const pkginfoBytes = captured.get('.PKGINFO');
    if (!pkginfoBytes) {
      throw new UserError(`${label} is not a pacman package: it has no .PKGINFO; download it again, and check the repository URL`);
    }
    const pkginfo = parsePkginfo(pkginfoBytes.toString('utf8'));
    const field = (key: string): string => {
      const value = pkginfo.find(([k]) => k === key)?.[1];
      if (!value) throw new UserError(`${label}: its .PKGINFO has no ${key}: it is not a well-formed pacman package`);
      return value;
    };
    const name = field('pkgname');
    const version = field('pkgver');
    const arch = field('arch');

    // A backup file is hashed as its content: a hard link's is its target's.
    const backupList = pkginfo.filter(([k]) => k === 'backup').map(([, v]) => v);
    const contentPath = (p: string): string | undefined => (regularFiles.has(p) ? p : hardlinks.get(p));
    const missing = new Set<string>();
    for (const p of backupList) {
      const source = contentPath(p);
      if (source !== undefined && !md5s.has(source)) missing.add(source);
    }
    // Only when .PKGINFO came after data, or a backup path is a hard link: read the package again.
    if (missing.size > 0) {
      for (const [p, digest] of await md5sOf(file, kind, missing, label, corrupt, new ExpansionBudget(label, limits))) md5s.set(p, digest);
    }

    const meta: PacmanMetadata = {
      name,
      version,
      arch,
      pkginfo,
      files,
      // libalpm records the hash of a listed path it did not extract as a regular file as NULL;
      // the empty string stands for that here.
      backup: backupList.map((p) => {
        const source = contentPath(p);
        return { path: p, md5: (source !== undefined && md5s.get(source)) || '' };
      }),
    };
    const mtree = captured.get('.MTREE');
    if (mtree) meta.mtree = mtree.toString('base64');
    const install = captured.get('.INSTALL');
    if (install) meta.install = install.toString('base64');
    const changelog = captured.get('.CHANGELOG');
    if (changelog) meta.changelog = changelog.toString('base64');
    if (Object.keys(effectFiles).length) meta.effectFiles = effectFiles;
    return meta;
  });
}

/** The md5 of each regular file of `paths`, from a second read of the package. */
async function md5sOf(
  file: string,
  kind: PackageCompression,
  paths: Set<string>,
  label: string,
  corrupt: (e: unknown) => UserError,
  budget: ExpansionBudget,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { extract, close } = openTar(file, kind, corrupt, budget);
  try {
    for await (const tarEntry of extract) {
      const h = tarEntry.header;
      const rel = relativeName(h.name, label);
      if ((h.type ?? 'file') !== 'file' || !paths.has(rel)) {
        tarEntry.resume();
        continue;
      }
      const md5 = createHash('md5');
      for await (const chunk of tarEntry as AsyncIterable<Buffer>) md5.update(chunk);
      out.set(rel, md5.digest('hex'));
    }
  } catch (e) {
    throw corrupt(e);
  } finally {
    close();
  }
  return out;
}

interface BodyProgress {
  /** The whole content went by. */
  ended: boolean;
  /** Why reading the content failed. */
  error?: unknown;
}

/**
 * A regular file's content, hashed into `md5` when given; `progress` tells whether it was read
 * to its end. A read error fails the body with the same UserError as the entries iteration.
 */
const EFFECT_FILE_LIMIT = 1024 * 1024;

/** Files whose content script effects need: account files, sysusers.d/tmpfiles.d files, alpm hooks. */
export function isCapturedForEffects(rel: string): boolean {
  return (
    ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'].includes(rel) ||
    (/^usr\/lib\/(sysusers|tmpfiles)\.d\/[^/]+\.conf$/.test(rel)) ||
    /^usr\/share\/libalpm\/hooks\/[^/]+\.hook$/.test(rel)
  );
}

async function* entryBody(
  tarEntry: AsyncIterable<Buffer>,
  md5: Hash | undefined,
  progress: BodyProgress,
  corrupt: (e: unknown) => UserError,
  keep?: Buffer[],
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of tarEntry) {
      md5?.update(chunk);
      keep?.push(chunk);
      yield chunk;
    }
    progress.ended = true;
  } catch (e) {
    progress.error = e;
    throw corrupt(e);
  }
}

/** The database view of a data entry. */
function pacmanFile(entry: LayerEntry): PacmanFile {
  const f: PacmanFile = { path: entry.path, type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid };
  if (entry.linkname !== undefined) f.linkname = entry.linkname;
  return f;
}
