import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntegrityError, TooLargeError, type Cas, type Digest } from '../cas/cas.js';
import { formatSize } from '../config/parseSize.js';
import { UserError } from '../errors.js';

/** The server answered that the file is gone: callers turn this into "re-lock" advice. */
export class NotFoundError extends Error {
  constructor(readonly url: string, readonly status: number) {
    super(`${url}: HTTP ${status}`);
  }
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250 };

/**
 * GET a URL into the CAS, verifying sha256 (and size) when known. Transient failures (network
 * errors, 5xx, 429, a truncated or corrupted body) are retried with exponential backoff; a 404
 * is final. Nothing unverified is ever renamed into the store.
 */
export function downloadToCas(
  cas: Cas,
  url: string,
  expect?: { sha256?: string; size?: number; maxBytes?: number },
  retry: RetryPolicy = DEFAULT_RETRY,
  verify?: (tmpFile: string) => Promise<void>,
): Promise<{ digest: Digest; size: number }> {
  return withRetries(url, retry, (body) => cas.writeStream(body, expect, verify));
}

/**
 * What an unpinned file (InRelease, APKINDEX.tar.gz, a pacman db, a signature) may weigh: many
 * times the largest real one (Arch's extra.db is ~8 MiB), so only a broken or hostile mirror,
 * one that never stops sending, meets it.
 */
export const UNPINNED_LIMIT = 64 * 1024 * 1024;

/** GET a small file (a signed index) into memory; its signature is checked by the caller. */
export function downloadBytes(url: string, retry: RetryPolicy = DEFAULT_RETRY, maxBytes = UNPINNED_LIMIT): Promise<Buffer> {
  return withRetries(url, retry, async (body) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        body.destroy();
        throw new UserError(`${url} sends more than ${formatSize(maxBytes)}, far more than such a file holds: the mirror is broken or hostile; the download was cut off. Check the repository url`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  });
}

/** `downloadBytes` for a file that may be absent (an optional signature): undefined on a 404. */
export function fetchIfExists(url: string): Promise<Buffer | undefined> {
  return downloadBytes(url).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
}

async function withRetries<T>(url: string, retry: RetryPolicy, consume: (body: Readable) => Promise<T>): Promise<T> {
  if (url.startsWith('file:')) {
    try {
      return await consume(await openLocalFile(url));
    } catch (e) {
      throw e instanceof NotFoundError || e instanceof UserError ? e : describeFailure(url, e, 1);
    }
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    if (attempt > 0) await sleep(retry.baseDelayMs * 2 ** (attempt - 1));
    try {
      const res = await fetch(url, { redirect: 'follow' });
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        throw new NotFoundError(url, res.status);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        lastError = new Error(`HTTP ${res.status} ${res.statusText}`);
        // Other 4xx answers will not change on a retry.
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
        continue;
      }
      return await consume(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
    } catch (e) {
      // A format check that failed on complete bytes (a bad signature) will fail again.
      if (e instanceof NotFoundError || e instanceof UserError) throw e;
      lastError = e;
    }
  }
  throw describeFailure(url, lastError, retry.attempts);
}

/** A repository on the local filesystem (`file:` URL): same checks, no retries to make. */
async function openLocalFile(url: string): Promise<Readable> {
  const file = fileURLToPath(url);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new NotFoundError(url, 404);
  }
  return createReadStream(file);
}

function describeFailure(url: string, e: unknown, attempts: number): UserError {
  if (e instanceof TooLargeError) {
    return new UserError(
      `${url}: ${e.message}, so the download was cut off there and nothing was cached. The mirror may be mid-sync or broken: retry later, or run \`layerpkg lock\` if the lock is out of date`,
    );
  }
  if (e instanceof IntegrityError) {
    return new UserError(
      `${url}: ${e.message}; nothing was cached. The mirror may be mid-sync or the file was replaced: retry later, or run \`layerpkg lock\` if the lock is out of date`,
    );
  }
  // fetch() hides the socket error one level down (e.cause), with a code for system errors.
  const inner = e instanceof Error ? (e.cause as NodeJS.ErrnoException | undefined) : undefined;
  const cause = inner?.code ?? inner?.message ?? (e instanceof Error ? e.message : String(e));
  return new UserError(`cannot download ${url} (${cause}) after ${attempts} attempts: check the repository url and that the mirror is reachable`);
}
