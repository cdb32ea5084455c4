import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cas } from '../src/cas/cas.js';
import { UserError } from '../src/errors.js';
import { downloadToCas, NotFoundError } from '../src/fetch/download.js';

/** A loopback server that answers each path from a script of responses, one per request. */
const scripts = new Map<string, (Buffer | number)[]>();
const hits = new Map<string, number>();
let server: http.Server;
let base: string;
let cas: Cas;
const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-download-'));
const fast = { attempts: 4, baseDelayMs: 5 };
const body = Buffer.from('the real package bytes');
const sha256 = createHash('sha256').update(body).digest('hex');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const n = hits.get(req.url!) ?? 0;
    hits.set(req.url!, n + 1);
    const script = scripts.get(req.url!) ?? [];
    const answer = script[Math.min(n, script.length - 1)] ?? 404;
    if (typeof answer === 'number') res.writeHead(answer).end();
    else res.writeHead(200).end(answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cas = new Cas(path.join(work, 'cas'));
  await cas.init();
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

describe('downloadToCas', () => {
  it('retries transient server errors and then stores the verified blob', async () => {
    scripts.set('/flaky', [503, 500, body]);
    const got = await downloadToCas(cas, `${base}/flaky`, { sha256, size: body.length }, fast);
    expect(got.digest).toBe(`sha256:${sha256}`);
    expect(hits.get('/flaky')).toBe(3);
    expect(readFileSync(cas.blobPath(got.digest)).equals(body)).toBe(true);
  });

  it('retries a corrupted transfer, keeping nothing of it', async () => {
    scripts.set('/corrupt-once', [Buffer.from('garbled'), body]);
    await downloadToCas(cas, `${base}/corrupt-once`, { sha256, size: body.length }, fast);
    expect(hits.get('/corrupt-once')).toBe(2);
    expect(readdirSync(cas.tmpDir)).toEqual([]);
  });

  it('gives up after the last attempt with one clear message, caching nothing', async () => {
    const bad = Buffer.from('always wrong');
    scripts.set('/always-bad', [bad]);
    const err = await downloadToCas(cas, `${base}/always-bad`, { sha256, size: body.length }, fast).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/always-bad: sha256 .* does not match the expected .*; nothing was cached/);
    expect(hits.get('/always-bad')).toBe(4);
    expect(readdirSync(cas.blobsDir)).not.toContain(createHash('sha256').update(bad).digest('hex'));
    expect(readdirSync(cas.tmpDir)).toEqual([]);
  });

  it('does not retry a 404: the file is gone, and the caller says to re-lock', async () => {
    scripts.set('/gone', [404]);
    await expect(downloadToCas(cas, `${base}/gone`, { sha256 }, fast)).rejects.toBeInstanceOf(NotFoundError);
    expect(hits.get('/gone')).toBe(1);
  });
});
