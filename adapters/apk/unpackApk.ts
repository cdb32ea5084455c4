/**
 * Streaming reader of Alpine apk v2 packages.
 *
 * The small head (signature and control gzip members) is read whole; the data member is then
 * streamed from its byte offset through a SHA-256 meter, gunzip and a tar extractor, entry by
 * entry. The meter's digest is compared with .PKGINFO's `datahash` once the data is consumed:
 * that hash is what ties the data to the signed control stream (verifyApkFile checks the
 * signature beforehand). Entries are yielded before the hash is known, so a consumer must
 * discard what it wrote when iteration throws.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import tar from 'tar-stream';
import { errorMessage, UserError } from '../../src/errors.js';
import { PackageTree } from '../packageTree.js';
import { layerEntryOf, relativeName, tarEntryPath, unpackResult } from '../tarEntries.js';
import type { LayerEntry, PackageMetadata, UnpackedEntry, UnpackLimits, UnpackResult } from '../types.js';
import { boundedDecode } from '../boundedDecode.js';
import { ExpansionBudget } from '../expansionBudget.js';
import { DEFAULT_LIMITS } from '../../src/config/imageConfig.js';
import { controlScripts, pkginfoValue, readApkHead, requiredDatahash, type ApkHead } from './apkHead.js';
import type { ApkFile, ApkMetadata } from './apkMetadata.js';
import { busyboxApplets } from './busyboxApplets.js';


/** One PAX record of an entry (tar-stream keeps them in `header.pax`, typed `unknown`). */
function paxRecord(header: tar.Header, key: string): string | undefined {
  const pax = header.pax;
  if (typeof pax !== 'object' || pax === null) return undefined;
  const value: unknown = (pax as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** abuild-tar's per-file checksum record; apk records it as the file's `Z:` in its database. */
const SHA1_RECORD = 'APK-TOOLS.checksum.SHA1';
const SHA1_HEX = /^[0-9a-f]{40}$/i;
const BUSYBOX = 'bin/busybox';
/** Far above any real busybox: a larger "busybox" is not kept in memory. */
const BUSYBOX_LIMIT = 16 * 1024 * 1024;
/** The account files alpine-baselayout(-data) ships; adduser and addgroup in scripts append to them. */
const ACCOUNT_FILES = new Set(['etc/passwd', 'etc/group', 'etc/shadow']);
const ACCOUNT_FILE_LIMIT = 1024 * 1024;



/**
 * Entries apk-tools 2 never installs: a data-section name starting with "." (where .PKGINFO and
 * scripts would be) and `.keep_*` placeholder files.
 */
function ignoredByApk(rel: string, type: LayerEntry['type']): boolean {
  if (rel.startsWith('.')) return true;
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return type !== 'directory' && base.length > 6 && base.startsWith('.keep_');
}

function requiredField(head: ApkHead, key: string, label: string): string {
  const value = pkginfoValue(head.pkginfo, key);
  if (!value) throw new UserError(`${label}: its .PKGINFO has no ${key}: it is not a well-formed apk package`);
  return value;
}

/**
 * Stream the .apk at `file` into layer entries; `metadata` resolves to its ApkMetadata once the
 * entries are consumed and the data has matched its `datahash`. `label` names the package in
 * every error.
 */
export function unpackApk(file: string, label: string, limits: UnpackLimits = DEFAULT_LIMITS): UnpackResult {
  return unpackResult(async function* entries(): AsyncGenerator<UnpackedEntry, PackageMetadata> {
    const head = await readApkHead(file, label);
    const datahash = requiredDatahash(head, label);
    const name = requiredField(head, 'pkgname', label);
    const version = requiredField(head, 'pkgver', label);
    const arch = requiredField(head, 'arch', label);
    const files: ApkFile[] = [];
    const tree = new PackageTree(label, limits, 'refuse');
    const budget = new ExpansionBudget(label, limits);
    const declared = pkginfoValue(head.pkginfo, 'size');
    if (declared !== undefined && /^\d+$/.test(declared)) budget.declare(Number(declared), `.PKGINFO size (${declared} bytes)`);
    let busybox: Buffer | undefined;
    const accounts: Record<string, string> = {};

    const digest = createHash('sha256');
    let metered = 0;
    const source = createReadStream(file, { start: head.dataOffset });
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        digest.update(chunk);
        metered += chunk.length;
        callback(null, chunk);
      },
    });
    const expansion = budget.meter();
    const extract = tar.extract();
    const corrupt = (e: unknown): UserError =>
      e instanceof UserError ? e : new UserError(`${label} has a corrupt or truncated data stream (${errorMessage(e)}): download it again`);
    const inflated = boundedDecode(source.pipe(meter), 'gzip');
    for (const stream of [source, meter, inflated, expansion]) stream.on('error', (e: Error) => extract.destroy(corrupt(e)));
    inflated.pipe(expansion).pipe(extract);

    try {
      for await (const tarEntry of extract) {
        budget.entry();
        const h = tarEntry.header;
        const { type, rel } = tarEntryPath(h, label);
        if (rel === '' || ignoredByApk(rel, type)) {
          tarEntry.resume();
          continue;
        }
        const entry = layerEntryOf(h, rel, type);
        if (type === 'hardlink') entry.linkname = relativeName(h.linkname ?? '', label);
        tree.admit(entry, rel);
        files.push(apkFile(entry, h, label));

        if (type !== 'file') {
          tarEntry.resume();
          yield { entry };
          continue;
        }
        // bin/busybox is kept whole (up to BUSYBOX_LIMIT) to read its applet tables once it has
        // streamed by; the account files, so scripts' adduser/addgroup extend what is shipped.
        const accountFile = ACCOUNT_FILES.has(rel) && entry.size <= ACCOUNT_FILE_LIMIT;
        const chunks: Buffer[] | undefined = (rel === BUSYBOX && entry.size <= BUSYBOX_LIMIT) || accountFile ? [] : undefined;
        yield { entry, body: entryBody(tarEntry as AsyncIterable<Buffer>, corrupt, chunks) };
        if (chunks && accountFile) accounts[rel] = Buffer.concat(chunks).toString('utf8');
        else if (chunks) busybox = Buffer.concat(chunks);
      }
    } catch (e) {
      throw corrupt(e);
    } finally {
      for (const stream of [source, meter, inflated, expansion]) stream.destroy();
    }

    if (metered !== head.fileSize - head.dataOffset) {
      throw new UserError(`${label}: its data stream was read to byte ${head.dataOffset + metered} of ${head.fileSize} only: the file changed while being read; download it again`);
    }
    const actual = digest.digest('hex');
    if (actual !== datahash) {
      throw new UserError(
        `${label}: the sha256 of its data stream (${actual}) does not match the datahash its signed .PKGINFO pins ` +
          `(${datahash}): the package was modified or corrupted; download it again, and check the mirror`,
      );
    }
    const applets = busybox && busyboxApplets(busybox);
    const meta: ApkMetadata = {
      name,
      version,
      arch,
      checksum: head.checksum,
      fileSize: head.fileSize,
      pkginfo: head.pkginfo,
      scripts: controlScripts(head),
      files,
      ...(applets ? { busyboxApplets: applets } : {}),
      ...(Object.keys(accounts).length ? { accountFiles: accounts } : {}),
    };
    return meta;
  });
}

/**
 * A regular file's content, failing with the same kind of UserError as the entries iteration,
 * and copied into `capture` when given.
 */
async function* entryBody(tarEntry: AsyncIterable<Buffer>, corrupt: (e: unknown) => UserError, capture?: Buffer[]): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of tarEntry) {
      capture?.push(chunk);
      yield chunk;
    }
  } catch (e) {
    throw corrupt(e);
  }
}

/** The database view of an entry, with apk's per-file checksum where the package has one. */
function apkFile(entry: LayerEntry, header: tar.Header, label: string): ApkFile {
  const file: ApkFile = { path: entry.path, type: entry.type, mode: entry.mode, uid: entry.uid, gid: entry.gid };
  if (entry.linkname !== undefined) file.linkname = entry.linkname;
  const sha1 = paxRecord(header, SHA1_RECORD);
  if (sha1 !== undefined && entry.type !== 'directory') {
    if (!SHA1_HEX.test(sha1)) throw new UserError(`${label}: tar entry "${header.name}" has a malformed ${SHA1_RECORD} "${sha1}": the package is corrupt; download it again`);
    file.sha1 = sha1.toLowerCase();
  }
  return file;
}
