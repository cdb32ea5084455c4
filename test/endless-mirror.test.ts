import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeb, makeKey, writeAptRepo } from './helpers/aptRepo.js';
import { layerpkg, type CliResult } from './helpers/cli.js';

/**
 * A mirror that never stops sending: an index or package is cut off at a bound (twice the pinned size,
 * or a fixed ceiling for what nothing pins), with one clear line, and nothing of it is cached.
 * The server's own sending is bounded too (ENDLESS_CAP), so a broken client cannot run it forever.
 */
const ENDLESS_CAP = 256 * 1024 * 1024;
let work: string;
let url: string;
let server: http.Server;
/** Paths answered with their real bytes and then an endless tail. */
const endless = new Set<string>();
let sent = 0;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-endless-'));
  const key = await makeKey();
  const deb = buildDeb(path.join(work, 'debs'), { name: 'tool', version: '1.0', files: { 'usr/bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } } });
  await writeAptRepo(path.join(work, 'repo'), 'stable', [deb], key);
  writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
  server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    let body: Buffer;
    try {
      body = readFileSync(path.join(work, 'repo', path.normalize(urlPath)));
    } catch {
      res.writeHead(404).end();
      return;
    }
    if (!endless.has(urlPath)) {
      res.writeHead(200, { 'content-length': body.length }).end(body);
      return;
    }
    res.writeHead(200); // chunked, no length: the client cannot know when it ends
    res.write(body);
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    const more = (): void => {
      while (sent < ENDLESS_CAP && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', more);
          return;
        }
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function image(): string {
  const file = path.join(work, `image-${++n}.toml`);
  writeFileSync(file, `[image]\nname = "endless"\n\n[[repository]]\nname = "stable"\ntype = "deb"\nurl = "${url}"\nsuite = "stable"\ncomponents = ["main"]\nkeyring = "keyring.gpg"\n\n[packages]\ninclude = ["tool"]\n`);
  return file;
}

function expectOneLine(r: CliResult, fragment: RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(fragment);
}

async function withEndless<T>(p: string, fn: () => Promise<T>): Promise<T> {
  endless.add(p);
  sent = 0;
  try {
    return await fn();
  } finally {
    endless.delete(p);
  }
}

describe('a mirror that never stops sending', () => {
  it('an endless InRelease: cut off at 64 MiB', async () => {
    const cache = path.join(work, 'cache-inrelease');
    const r = await withEndless('/dists/stable/InRelease', () => layerpkg(['lock', image(), '--cache-dir', cache]));
    expectOneLine(r, /\/dists\/stable\/InRelease sends more than 64 MiB, far more than such a file holds: the mirror is broken or hostile; the download was cut off/);
    expect(sent).toBeLessThan(ENDLESS_CAP);
  });

  it('a Packages.xz longer than InRelease pins: cut off past the pinned size, nothing cached', async () => {
    const cache = path.join(work, 'cache-packages');
    const r = await withEndless('/dists/stable/main/binary-amd64/Packages.xz', () => layerpkg(['lock', image(), '--cache-dir', cache]));
    expectOneLine(r, /Packages\.xz: it sends more than \d+ bytes where its pin gives \d+, so the download was cut off there and nothing was cached/);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
  });

  it('a package longer than the lock pins: cut off past the pinned size, nothing cached', async () => {
    const cache = path.join(work, 'cache-package');
    const file = image();
    expect((await layerpkg(['lock', file, '--cache-dir', cache])).status).toBe(0);
    const blobsBefore = readdirSync(path.join(cache, 'blobs/sha256')).length;
    const r = await withEndless('/pool/main/tool_1.0_amd64.deb', () => layerpkg(['build', file, '--cache-dir', cache, '-o', path.join(work, 'out')]));
    expectOneLine(r, /tool_1\.0_amd64\.deb: it sends more than \d+ bytes where its pin gives \d+, so the download was cut off there and nothing was cached/);
    expect(readdirSync(path.join(cache, 'blobs/sha256')).length).toBe(blobsBefore);
    expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
  });
});
