import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import { hashFile, listBlobs, type BlobFile } from './blobFiles.js';
import { hexOf } from './cas.js';
import { CacheIndex } from './cacheIndex.js';
import { existingCache } from './existingCache.js';

/** One thing wrong in the cache, as `cache verify` reports it (one line each). */
export interface CacheProblem {
  kind: 'blob' | 'stray' | 'layer-row' | 'pinned-row' | 'build-record' | 'index';
  /** The blob digest, row key, pin or file at fault. */
  what: string;
  problem: string;
}

export interface VerifyReport {
  cacheDir: string;
  checked: { blobs: number; layerRows: number; pinnedRows: number; buildRecords: number };
  problems: CacheProblem[];
  /** What --repair dropped, one line each; empty without --repair. */
  repaired: string[];
}

type BlobState = { ok: true; size: number } | { ok: false; why: string };

/**
 * Check the whole cache: every blob rehashed against its name, every index row pointing at a
 * present blob whose hash matches (and, for layers, whose size is the one recorded), every build
 * record readable. With `repair`, drop what is wrong — rows first, so no row ever names a blob
 * that is gone; a dropped row or blob is only a cache miss for the next build.
 */
export async function verifyCache(cacheDir: string, opts: { repair: boolean }): Promise<VerifyReport> {
  const cas = await existingCache(cacheDir);
  const problems: CacheProblem[] = [];
  const repaired: string[] = [];

  const blobs = await listBlobs(cas.blobsDir);
  const states = new Map<string, BlobState>();
  const limit = pLimit(4);
  await Promise.all(blobs.map((b) => limit(async () => states.set(b.digest, await checkBlob(b)))));
  for (const b of blobs) {
    const state = states.get(b.digest)!;
    if (!b.blob) problems.push({ kind: 'stray', what: `blobs/sha256/${b.name}`, problem: 'not a blob (its name is not a sha256, or it is not a regular file)' });
    else if (!state.ok) problems.push({ kind: 'blob', what: b.digest, problem: state.why });
  }
  // A row may name a blob a concurrent build wrote after the listing: check it on demand.
  const stateOf = async (digest: string): Promise<BlobState> => {
    const known = states.get(digest);
    if (known) return known;
    const st = await lstat(cas.blobPath(digest)).catch(() => undefined);
    const fresh = st && { name: hexOf(digest), digest, file: cas.blobPath(digest), size: st.size, mtimeMs: st.mtimeMs, blob: st.isFile() };
    const state: BlobState = fresh ? await checkBlob(fresh) : { ok: false, why: 'missing' };
    states.set(digest, state);
    return state;
  };

  let index: CacheIndex | undefined;
  const checked = { blobs: blobs.length, layerRows: 0, pinnedRows: 0, buildRecords: 0 };
  const badLayers: string[] = [];
  const badPins: string[] = [];
  try {
    index = new CacheIndex(cacheDir);
    for (const message of index.integrityProblems()) problems.push({ kind: 'index', what: 'index.db', problem: message });
  } catch (e) {
    index?.close();
    index = undefined;
    problems.push({ kind: 'index', what: 'index.db', problem: `cannot be read (${errorMessage(e)})` });
  }
  try {
    if (index) {
      const layers = index.layerRows();
      checked.layerRows = layers.length;
      for (const row of layers) {
        const found: string[] = [];
        const blob = await stateOf(row.digest);
        if (!blob.ok) found.push(`its blob ${row.digest} is ${blob.why === 'missing' ? 'missing' : 'damaged'}`);
        else if (blob.size !== row.size) found.push(`it records size ${row.size}, its blob ${row.digest} has ${blob.size} bytes`);
        const meta = await stateOf(row.metadataDigest);
        if (!meta.ok) found.push(`its metadata blob ${row.metadataDigest} is ${meta.why === 'missing' ? 'missing' : 'damaged'}`);
        if (found.length) {
          badLayers.push(row.key);
          problems.push({ kind: 'layer-row', what: row.key, problem: found.join('; ') });
        }
      }
      const pins = index.pinnedRows();
      checked.pinnedRows = pins.length;
      for (const row of pins) {
        const blob = await stateOf(row.digest);
        if (blob.ok) continue;
        badPins.push(row.pin);
        problems.push({ kind: 'pinned-row', what: row.pin, problem: `its blob ${row.digest} is ${blob.why === 'missing' ? 'missing' : 'damaged'}` });
      }
    }

    const records = await checkBuildRecords(path.join(cacheDir, 'builds'));
    checked.buildRecords = records.checked;
    problems.push(...records.problems);

    if (opts.repair && problems.length) {
      if (problems.some((p) => p.kind === 'index')) {
        // A damaged index is dropped whole: every layer becomes a miss and is made again.
        index?.close();
        index = undefined;
        for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) await rm(path.join(cacheDir, f), { force: true });
      } else if (index) {
        const db = index;
        db.exclusive(() => {
          db.dropLayers(badLayers);
          db.dropPinned(badPins);
        });
      }
      for (const p of problems) {
        if (p.kind === 'blob') await rm(cas.blobPath(p.what), { force: true });
        if (p.kind === 'stray' || p.kind === 'build-record') await rm(path.join(cacheDir, p.what), { recursive: true, force: true });
        repaired.push(`dropped ${describe(p)}`);
      }
    }
  } finally {
    index?.close();
  }
  return { cacheDir, checked, problems, repaired };
}

/** One line per problem, as the CLI prints it. */
export function describe(p: CacheProblem): string {
  const what = { blob: 'blob', stray: 'stray file', 'layer-row': 'layer row', 'pinned-row': 'pinned file row', 'build-record': 'build record', index: '' }[p.kind];
  return `${what ? `${what} ` : ''}${p.what}: ${p.problem}`;
}

async function checkBlob(b: BlobFile): Promise<BlobState> {
  if (!b.blob) return { ok: false, why: 'not a blob' };
  try {
    const actual = await hashFile(b.file);
    return actual === b.digest ? { ok: true, size: b.size } : { ok: false, why: `damaged: its ${b.size} bytes hash to ${actual}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, why: code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? errorMessage(e)})` };
  }
}

/** Build records (the no-op rebuild's memory) must parse and have the fields it reads. */
async function checkBuildRecords(dir: string): Promise<{ checked: number; problems: CacheProblem[] }> {
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  const problems: CacheProblem[] = [];
  for (const name of names) {
    const what = `builds/${name}`;
    if (!/^[0-9a-f]{64}\.json$/.test(name)) {
      problems.push({ kind: 'build-record', what, problem: 'not a build record (its name is not <sha256>.json)' });
      continue;
    }
    try {
      const r = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { result?: { output?: unknown; manifestDigest?: unknown }; indexJson?: unknown; blobs?: unknown };
      const sound =
        typeof r.result?.output === 'string' && typeof r.result.manifestDigest === 'string' && typeof r.indexJson === 'string' && Array.isArray(r.blobs) && r.blobs.every((b) => typeof b === 'string');
      if (!sound) problems.push({ kind: 'build-record', what, problem: 'not readable (fields missing)' });
    } catch (e) {
      problems.push({ kind: 'build-record', what, problem: `not readable (${errorMessage(e)})` });
    }
  }
  return { checked: names.length, problems };
}
