import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OWNER } from '../cas/tempOwner.js';
import { FINAL_FORMAT_VERSION, LAYER_FORMAT_VERSION } from '../formatVersions.js';
import type { BuildResult } from './buildImage.js';

/**
 * The no-op rebuild, as make or bazel do it: a build's inputs (image.toml and lock bytes, the
 * output it was asked for, SOURCE_DATE_EPOCH, layerpkg's formats) are hashed and the result is
 * recorded; when the same inputs come again and the output layout on disk is exactly what that
 * build wrote (index.json byte for byte, the same blob set), there is nothing to do. This module
 * loads nothing heavy on purpose: it runs before the builder is imported.
 */
export interface BuildRequest {
  imageFile: string;
  lockPath: string;
  /** As the user gave it; undefined means the default out/<name>, resolved from cwd. */
  output: string | undefined;
  cacheDir: string;
  toolVersion: string;
}

interface BuildRecord {
  result: BuildResult;
  indexJson: string;
  blobs: string[];
}

const RECORD_VERSION = 1;

export async function recordKey(req: BuildRequest): Promise<string | undefined> {
  const [image, lock] = await Promise.all([readFile(req.imageFile).catch(() => undefined), readFile(req.lockPath).catch(() => undefined)]);
  if (!image || !lock) return undefined; // the builder reports what is missing
  const inputs = {
    v: [RECORD_VERSION, req.toolVersion, LAYER_FORMAT_VERSION, FINAL_FORMAT_VERSION, process.versions.zlib],
    image: sha256(image),
    imageFile: path.resolve(req.imageFile),
    lock: sha256(lock),
    output: req.output === undefined ? `default in ${process.cwd()}` : path.resolve(req.output),
    sde: process.env.SOURCE_DATE_EPOCH ?? '',
  };
  return sha256(JSON.stringify(inputs));
}

/** The recorded result when the output still is exactly what the recorded build wrote. */
export async function upToDate(cacheDir: string, key: string): Promise<BuildResult | undefined> {
  let record: BuildRecord;
  try {
    record = JSON.parse(await readFile(recordPath(cacheDir, key), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
  const out = record.result.output;
  try {
    const [indexJson, blobs] = await Promise.all([readFile(path.join(out, 'index.json'), 'utf8'), readdir(path.join(out, 'blobs', 'sha256'))]);
    await readFile(path.join(out, 'oci-layout'));
    if (indexJson !== record.indexJson || !sameSet(blobs, record.blobs)) return undefined;
  } catch {
    return undefined;
  }
  return {
    ...record.result,
    layers: record.result.layers.map((l) => ({ ...l, cached: true })),
    downloaded: { packages: 0, bytes: 0 },
    upToDate: true,
  };
}

/** Record a finished build; a failure to record only costs the next no-op its shortcut. */
export async function recordBuild(cacheDir: string, key: string, result: BuildResult): Promise<void> {
  const file = recordPath(cacheDir, key);
  // In the cache's tmp/ (same filesystem, so the rename is atomic), where a killed run's file is swept.
  const tmp = path.join(cacheDir, 'tmp', `${OWNER}-${key}.json`);
  try {
    const [indexJson, blobs] = await Promise.all([
      readFile(path.join(result.output, 'index.json'), 'utf8'),
      readdir(path.join(result.output, 'blobs', 'sha256')),
    ]);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify({ result, indexJson, blobs } satisfies BuildRecord));
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

function recordPath(cacheDir: string, key: string): string {
  return path.join(cacheDir, 'builds', `${key}.json`);
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}
