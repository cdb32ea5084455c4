import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ElfInfo } from '../../src/elf/elfInfo.js';
import { errorMessage, UserError } from '../../src/errors.js';
import { isDsoName } from '../../src/translate/ldsoCache.js';
import { PackageTree } from '../packageTree.js';
import { layerEntryOf, relativeName, tarEntryPath, unpackResult } from '../tarEntries.js';
import type { InstalledDirectory, PackageMetadata, ScratchPath, UnpackedEntry, UnpackLimits, UnpackResult } from '../types.js';
import { ExpansionBudget } from '../expansionBudget.js';
import { DEFAULT_LIMITS } from '../../src/config/imageConfig.js';
import { LibraryCapture } from './libraryCapture.js';
import { listArMembers, readArMember, type ArMember } from './arReader.js';
import { isShellLibraryName } from './packagedScripts.js';
import type { DebMetadata } from './debMetadata.js';
import { decompressStream } from './decompress.js';
import { parseDeb822 } from './deb822.js';
import { canonicalPath } from './mergedUsr.js';
import { isCapturedForEffects } from './scriptEffects.js';

/**
 * Stream a .deb: the small control.tar is read whole (its fields and scripts go to the DB), then
 * data.tar is decompressed and yielded entry by entry with paths made canonical for merged-/usr.
 */
export function unpackDeb(file: string, label = file, limits: UnpackLimits = DEFAULT_LIMITS, scratch?: ScratchPath): UnpackResult {
  return unpackResult(async function* entries(): AsyncGenerator<UnpackedEntry, PackageMetadata> {
    const members = await listArMembers(file, label);
    const control = members.find((m) => m.name.startsWith('control.tar'));
    const data = members.find((m) => m.name.startsWith('data.tar'));
    const formatMember = members[0];
    if (formatMember?.name !== 'debian-binary' || !control || !data) {
      throw new UserError(`${label}: not a Debian binary package (members: ${members.map((m) => m.name).join(', ')})`);
    }
    await checkFormatVersion(file, formatMember, label);
    const controlFiles = await readControlTar(readArMember(file, control), control.name, label);
    const controlText = controlFiles.get('control');
    if (!controlText) throw new UserError(`${label}: control.tar has no control file`);
    const paragraph = parseDeb822(controlText.toString('utf8'), `${label}: control`)[0];
    if (!paragraph) throw new UserError(`${label}: empty control file`);
    const conffilePaths = parseConffiles(controlFiles.get('conffiles'));
    const conffileMd5 = new Map<string, string>();
    const files: string[] = ['/.'];
    const paths: string[] = [];
    const directories: InstalledDirectory[] = [];
    const captured: Record<string, string> = {};
    const capturedModes: Record<string, number> = {};
    const libraries: Record<string, ElfInfo> = {};
    const libraryLinks: Record<string, string> = {};
    const symlinks: Record<string, string> = {};
    // Package files the scripts name (ucf and cp sources under /usr/share): kept for their effects.
    const referenced = referencedPaths([controlFiles.get('preinst'), controlFiles.get('postinst')]);
    const tree = new PackageTree(label, limits, 'refuse');
    const budget = new ExpansionBudget(label, limits);
    const installedSize = paragraph.get('Installed-Size');
    if (installedSize !== undefined && /^\d+$/.test(installedSize.trim())) {
      budget.declare(Number(installedSize.trim()) * 1024, `Installed-Size (${installedSize.trim()} KiB)`);
    }

    const extract = tar.extract();
    const source = decompressStream(readArMember(file, data), data.name, label, budget.meter());
    source.on('error', (e) => extract.destroy(e));
    source.pipe(extract);
    const corrupt = corruptMember(label, data.name);
    try {
      for await (const tarEntry of extract) {
        budget.entry();
        const h = tarEntry.header;
        const { type, rel } = tarEntryPath(h, label);
        if (rel === '') {
          tarEntry.resume();
          continue;
        }
        files.push(`/${rel}`);
        const entry = layerEntryOf(h, canonicalPath(rel), type);
        if (type === 'hardlink') entry.linkname = canonicalPath(relativeName(h.linkname ?? '', label));
        tree.admit(entry, rel);
        const path = entry.path;
        if (type !== 'directory') paths.push(path);
        else directories.push({ path, mode: entry.mode, uid: entry.uid, gid: entry.gid });
        if (type !== 'file') {
          if (type === 'symlink') symlinks[path] = h.linkname ?? '';
          if (type === 'symlink' && isDsoName(posix.basename(path))) libraryLinks[path] = h.linkname ?? '';
          tarEntry.resume();
          yield { entry };
          continue;
        }
        const isConffile = conffilePaths.has(`/${rel}`);
        const capture = (isCapturedForEffects(path) || referenced.has(`/${path}`)) && entry.size <= REFERENCED_LIMIT;
        // ldconfig reads a shared object's ELF headers: they are taken as the bytes go by.
        const library = isDsoName(posix.basename(path));
        // A small executable under /usr/share may be a helper that other packages' scripts run
        // (mysql-common's configure-symlinks): kept when it turns out to be a shell script.
        const helper = !capture && isHelperCandidate(path, entry.mode, entry.size);
        if (!isConffile && !capture && !library && !helper) {
          yield { entry, body: guarded(tarEntry as AsyncIterable<Buffer>, corrupt) };
          continue;
        }
        const md5 = createHash('md5');
        const chunks: Buffer[] = [];
        const elfCapture = library ? LibraryCapture.start(entry.size, scratch) : undefined;
        yield {
          entry,
          body: (async function* observe() {
            let complete = false;
            try {
              for await (const chunk of guarded(tarEntry as AsyncIterable<Buffer>, corrupt)) {
                md5.update(chunk);
                if (capture || helper) chunks.push(chunk);
                await elfCapture?.add(chunk);
                yield chunk;
              }
              complete = true;
            } finally {
              if (!complete) await elfCapture?.dispose();
            }
          })(),
        };
        if (isConffile) conffileMd5.set(`/${rel}`, md5.digest('hex'));
        const bytes = capture || helper ? Buffer.concat(chunks) : undefined;
        if (capture || (helper && isShellScript(bytes!, path))) {
          captured[path] = bytes!.toString('base64');
          capturedModes[path] = entry.mode;
        }
        const elf = await elfCapture?.finish();
        if (elf) libraries[path] = elf;
      }
    } catch (e) {
      throw corrupt(e);
    }

    const control822 = paragraph.fields;
    const get = (n: string) => paragraph.get(n) ?? '';
    const meta: DebMetadata = {
      name: get('Package'),
      version: get('Version'),
      arch: get('Architecture'),
      control: control822,
      controlFiles: Object.fromEntries(
        [...controlFiles].filter(([name]) => name !== 'control').map(([name, buf]) => [name, buf.toString('base64')]),
      ),
      conffiles: [...conffilePaths.values()].map((c) => ({
        path: c.path,
        // A conffile listed but not shipped is recorded "newconffile", as dpkg does for a fresh install.
        md5: conffileMd5.get(c.path) ?? 'newconffile',
        obsolete: false,
      })),
      files,
      paths,
      directories,
      captured,
      capturedModes,
      libraries,
      libraryLinks,
      symlinks,
    };
    return meta;
  });
}


/** dpkg-deb reads format 2.x only (the "2.0" every .deb since 1995 has; a later 2.x stays compatible). */
async function checkFormatVersion(file: string, member: ArMember, label: string): Promise<void> {
  if (member.size > 64) throw new UserError(`${label}: its debian-binary member is ${member.size} bytes, not a format version: this is not a Debian binary package dpkg reads`);
  const chunks: Buffer[] = [];
  for await (const chunk of readArMember(file, member)) chunks.push(chunk as Buffer);
  const version = Buffer.concat(chunks).toString('latin1');
  if (!/^2\.\d+\n/.test(version)) {
    throw new UserError(`${label}: its debian-binary says format ${JSON.stringify(version.trimEnd())}; dpkg reads only format 2.x packages`);
  }
}

function parseConffiles(buf: Buffer | undefined): Map<string, { path: string }> {
  const out = new Map<string, { path: string }>();
  if (!buf) return out;
  for (const line of buf.toString('utf8').split('\n')) {
    // dpkg ≥ 1.20 allows flags after the path ("remove-on-upgrade"); the path never has spaces.
    const path = line.trim().split(/\s+/)[0];
    if (path) out.set(path, { path });
  }
  return out;
}

/** Helper scripts are small; a bigger executable is not read for its first line. */
const HELPER_LIMIT = 32 * 1024;

/** An executable, or a library named as shell libraries are (postgresql-common's maintscripts-functions, *.sh), that other packages' scripts source. */
function isHelperCandidate(path: string, mode: number, size: number): boolean {
  if (!path.startsWith('usr/share/') || path.startsWith('usr/share/doc/') || size > HELPER_LIMIT) return false;
  return (mode & 0o111) !== 0 || isShellLibraryName(path);
}

function isShellScript(bytes: Buffer, path: string): boolean {
  return /^#!\s*\/(usr\/)?bin\/(ba|da)?sh\b/.test(bytes.subarray(0, 32).toString('latin1')) || (isShellLibraryName(path) && !bytes.includes(0));
}

/** Far above a config template's size: a bound on memory, not a rule. */
const REFERENCED_LIMIT = 256 * 1024;

/**
 * The /usr/share/… files a package's scripts name, for `referenced` capture: literal paths, and
 * the directories of paths a script builds from a variable (`/usr/share/dovecot/$conffile` in a
 * loop over conffiles), whose files are all kept.
 */
function referencedPaths(scripts: (Buffer | undefined)[]): { has(path: string): boolean } {
  const files = new Set<string>();
  const dirs: string[] = [];
  for (const s of scripts) {
    const text = s?.toString('utf8') ?? '';
    for (const m of text.matchAll(/(?<=[\s"'=]|\$DPKG_ROOT|\$\{DPKG_ROOT\})\/usr\/share\/[A-Za-z0-9._+\/-]+(?=[\s"';|&)]|$)/gm)) files.add(m[0]);
    for (const m of text.matchAll(/(?<=[\s"'=]|\$DPKG_ROOT|\$\{DPKG_ROOT\})(\/usr\/share\/[A-Za-z0-9._+-]+\/(?:[A-Za-z0-9._+-]+\/)*)"?\$/gm)) dirs.push(m[1]!);
  }
  return { has: (path) => files.has(path) || dirs.some((d) => path.startsWith(d)) };
}

/** control.tar holds a few small files (md5sums is the largest: ~100 bytes per packaged file). */
const CONTROL_LIMITS: UnpackLimits = { maxUnpackedBytes: 64 * 1024 * 1024, maxEntries: 10_000 };

async function readControlTar(stream: Readable, memberName: string, label: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const source = decompressStream(stream, memberName, label, new ExpansionBudget(`${label}: ${memberName}`, CONTROL_LIMITS).meter());
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      // Only a regular file has a body to read: tar-stream never ends a directory's "body" when
      // its header claims a size, so others are skipped, not read.
      if (entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
    }
  } catch (e) {
    throw corruptMember(label, memberName)(e);
  }
  return files;
}

/** A tar reader's failure inside a member as the user's error (a UserError passes as it is). */
function corruptMember(label: string, memberName: string): (e: unknown) => UserError {
  return (e) =>
    e instanceof UserError
      ? e
      : new UserError(`${label}: its ${memberName} is not a readable tar archive (${errorMessage(e)}): the package is malformed or damaged`);
}

/** A body's chunks, its failure turned into the user's error. */
async function* guarded(body: AsyncIterable<Buffer>, corrupt: (e: unknown) => UserError): AsyncGenerator<Buffer> {
  try {
    yield* body;
  } catch (e) {
    throw corrupt(e);
  }
}
