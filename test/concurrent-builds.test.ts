import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeLeftovers } from '../src/cas/removeLeftovers.js';
import { OWN_NAMESPACE } from '../src/cas/tempOwner.js';
import { ROOT, type CliResult } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * Concurrency (issue 15, must-show 6): builds of different images and a `lock`, started at the
 * same moment as separate processes on one --cache-dir, all succeed and give what the same
 * commands give one after another on a fresh cache. The images share the packages the seed pulls
 * in (base-tool, libfoo, mta-impl), so on a cold cache the processes race to download the same
 * files into the CAS, write the same layer blobs and index rows and sweep the same tmp/; each also
 * has packages of its own. Process start-up jitters by hundreds of milliseconds, so on the cold
 * runs the repository holds back every .deb until each build has asked for the shared base-tool:
 * then all downloads are released at once and the race is certain, not left to timing.
 * Afterwards `cache verify` finds nothing wrong and tmp/ is empty.
 * LAYERPKG_CONCURRENT_ROUNDS repeats the cold four-way run (1) for a longer hunt.
 */
const ROUNDS = Number(process.env.LAYERPKG_CONCURRENT_ROUNDS ?? 1);
const IMAGES: Record<string, string[]> = {
  a: ['alt-a'],
  b: ['unused', 'alt-b'],
  c: ['overlap-a', 'clash-b'],
  d: ['overlap-b', 'clash-a', 'alt-a'],
};
/** The image the concurrent `lock` resolves (into a lockfile of its own each time). */
const LOCKED = ['unused', 'overlap-a', 'alt-a'];

/** Each command is killed past this bound: a deadlock fails the test instead of stalling the suite. */
const COMMAND_MS = 30_000;

/** The real CLI, as `helpers/cli.ts` runs it, but SIGKILLed after COMMAND_MS. */
function layerpkg(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), ...args], { cwd: ROOT, timeout: COMMAND_MS, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, stdout, stderr: signal ? `${stderr}killed by ${signal} after ${COMMAND_MS} ms` : stderr }));
  });
}

let repo: TestRepo;
let gate: Gate;
const images: Record<string, string> = {};
let lockImage: string;
/** The serial run's results: manifest digest and output blob names per image, the lock's bytes. */
const serial: Record<string, { digest: string; indexJson: string; blobs: string[] }> = {};
let serialLock: Buffer;
let n = 0;

/** Bounds on the tests themselves, far above what they take (about 2 to 6 s a run). */
const SETUP_MS = 120_000;
const RUN_MS = 60_000;

beforeAll(async () => {
  repo = await createTestRepo();
  gate = await gatedRepository(path.join(repo.work, 'repo'));
  const url = gate.url;
  for (const [name, include] of Object.entries(IMAGES)) images[name] = repo.writeImage(include, { file: `${name}.toml`, url });
  lockImage = repo.writeImage(LOCKED, { file: 'locked.toml', url });
  // The reference: lock, then build each image, one command at a time on a fresh cache.
  const cache = path.join(repo.work, 'serial-cache');
  for (const image of Object.values(images)) expect((await layerpkg(['lock', image, '--cache-dir', cache, '-q'])).status).toBe(0);
  const lockFile = path.join(repo.work, 'serial.lock.json');
  expect((await layerpkg(['lock', lockImage, '--lockfile', lockFile, '--cache-dir', cache, '-q'])).status).toBe(0);
  serialLock = readFileSync(lockFile);
  for (const [name, image] of Object.entries(images)) {
    const out = path.join(repo.work, `serial-${name}`);
    const r = await layerpkg(['build', image, '--cache-dir', cache, '-o', out, '--json']);
    expect(r.stderr).toBe('');
    serial[name] = { digest: (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest, ...layout(out) };
  }
  // Different images, different manifests; shared packages, so shared layers.
  expect(new Set(Object.values(serial).map((s) => s.digest)).size).toBe(Object.keys(IMAGES).length);
}, SETUP_MS);
afterAll(async () => {
  await gate?.close();
  await repo?.close();
});

interface Gate {
  url: string;
  /** Hold .deb answers until `builds` requests for base-tool's came (or `ms` passed); says which. */
  arm(builds: number, ms?: number): Promise<'all-asked' | 'timeout'>;
  close(): Promise<void>;
}

/** The test repository's files served as they are, with a gate on the packages for the cold runs. */
async function gatedRepository(dir: string): Promise<Gate> {
  let armed: { want: number; asked: number; held: (() => void)[]; open: (why: 'all-asked' | 'timeout') => void } | undefined;
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const answer = () => {
      try {
        const body = readFileSync(path.join(dir, path.normalize(urlPath)));
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    };
    if (!armed || !urlPath.endsWith('.deb')) return answer();
    armed.held.push(answer);
    if (path.basename(urlPath).startsWith('base-tool_') && ++armed.asked >= armed.want) armed.open('all-asked');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arm: (want, ms = 20_000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => open('timeout'), ms).unref();
        const open = (why: 'all-asked' | 'timeout') => {
          clearTimeout(timer);
          const held = armed!.held;
          armed = undefined;
          for (const answer of held) answer();
          resolve(why);
        };
        armed = { want, asked: 0, held: [], open };
      }),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // a request still held (a failed test) must not keep it open
      }),
  };
}

function layout(out: string): { indexJson: string; blobs: string[] } {
  return { indexJson: readFileSync(path.join(out, 'index.json'), 'utf8'), blobs: readdirSync(path.join(out, 'blobs/sha256')).sort() };
}

/**
 * Start `build` of each named image and one `lock`, all on `cache`, at the same moment (every
 * process is spawned before any is awaited), and check each against the serial run.
 */
async function together(cache: string, names: string[], warm = false): Promise<void> {
  const run = ++n;
  const out = (name: string) => path.join(repo.work, `run${run}-${name}`);
  const lockFile = path.join(repo.work, `run${run}.lock.json`);
  const started = performance.now();
  const gated = warm ? undefined : gate.arm(names.length);
  const running = Promise.all([
    layerpkg(['lock', lockImage, '--lockfile', lockFile, '--cache-dir', cache, '-q']),
    ...names.map((name) => layerpkg(['build', images[name]!, '--cache-dir', cache, '-o', out(name), '--json'])),
  ]);
  const swept = sweepUntil(cache, running);
  const [locked, ...builds] = await running;
  const ms = performance.now() - started;
  const sweeps = await swept;
  expectOk(locked, 'lock');
  builds.forEach((r, i) => expectOk(r, `build ${names[i]}`));
  // What another process starting meanwhile may remove: only what the test planted for a dead process.
  expect(sweeps.removed.filter((name) => !name.endsWith(DEAD_SUFFIX))).toEqual([]);
  // Every build was in its download of the shared package when the packages were let through.
  if (gated) expect(await gated).toBe('all-asked');
  expect(readFileSync(lockFile).equals(serialLock)).toBe(true);
  names.forEach((name, i) => {
    const result = JSON.parse(builds[i]!.stdout) as BuildJson;
    expect(result.upToDate).toBeUndefined();
    expect(result.manifestDigest, `build ${name}`).toBe(serial[name]!.digest);
    if (warm) expect({ downloaded: result.downloaded.packages, made: result.layers.filter((l) => !l.cached).length }).toEqual({ downloaded: 0, made: 0 });
    else expect(result.downloaded.packages).toBeGreaterThan(0); // base-tool at least: no build found it in the cache
    expect(layout(out(name))).toEqual({ indexJson: serial[name]!.indexJson, blobs: serial[name]!.blobs });
  });
  const verified = await layerpkg(['cache', 'verify', '--cache-dir', cache]);
  expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  // How often the same layer was made by more than one process (the race on putLayer), for the log.
  const made = builds.flatMap((r) => (JSON.parse(r.stdout) as BuildJson).layers.filter((l) => !l.cached).map((l) => l.digest));
  const twice = made.length - new Set(made).size;
  console.log(
    `${names.length} builds + lock together${warm ? ' (warm)' : ''}: ${Math.round(ms)} ms; ${made.length} layers made, ${twice} of them again by another process; ` +
      `${sweeps.count} sweeps of tmp/ meanwhile, ${sweeps.seen} live temp files seen and spared`,
  );
}

const DEAD_SUFFIX = '-fedcba9876543210.stage';

/**
 * Sweep the cache's tmp/ as a command starting now would (another pid), every few milliseconds
 * while `running` runs: the commands' own sweeps happen at their start, before most of their
 * temp files exist; these meet the downloads, staging files and layer writes under way.
 */
async function sweepUntil(cache: string, running: Promise<unknown>): Promise<{ count: number; seen: number; removed: string[] }> {
  let done = false;
  const stop = () => (done = true);
  running.then(stop, stop);
  const tmp = path.join(cache, 'tmp');
  const removed: string[] = [];
  const seen = new Set<string>();
  let count = 0;
  while (!done) {
    await new Promise((r) => setTimeout(r, 5));
    if (!existsSync(tmp)) continue;
    for (const name of readdirSync(tmp)) seen.add(name);
    removed.push(...(await removeLeftovers(tmp)));
    count++;
  }
  return { count, seen: [...seen].filter((name) => !removed.includes(name)).length, removed };
}

interface BuildJson {
  manifestDigest: string;
  upToDate?: boolean;
  downloaded: { packages: number };
  layers: { digest: string; cached: boolean }[];
}

function expectOk(r: CliResult, what: string): void {
  expect({ what, status: r.status, stderr: r.stderr }).toEqual({ what, status: 0, stderr: '' });
}

const tmpOf = (cache: string) => readdirSync(path.join(cache, 'tmp'));

describe('concurrent builds and a lock on one cache', () => {
  it('two builds and a lock on a cold cache', async () => {
    const cache = path.join(repo.work, 'cold-2');
    await together(cache, ['a', 'b']);
    expect(tmpOf(cache)).toEqual([]);
  }, RUN_MS);

  it("four builds and a lock on a cold cache; each start's tmp/ sweep spares a live process's file", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const cache = path.join(repo.work, `cold-4-${round}`);
      mkdirSync(path.join(cache, 'tmp'), { recursive: true });
      // A file of a process that still runs (not a layerpkg: nothing else removes it) and one of a
      // process that is gone: every start sweeps tmp/ while the others write into it.
      const sleeper: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
      const live = `${sleeper.pid}-${OWN_NAMESPACE}-0123456789abcdef.stage`;
      const dead = `${deadPid}-${OWN_NAMESPACE}${DEAD_SUFFIX}`;
      writeFileSync(path.join(cache, 'tmp', live), 'live');
      writeFileSync(path.join(cache, 'tmp', dead), 'dead');
      try {
        await together(cache, ['a', 'b', 'c', 'd']);
        expect(tmpOf(cache)).toEqual([live]);
      } finally {
        sleeper.kill();
      }
      rmSync(path.join(cache, 'tmp', live));
      expect(tmpOf(cache)).toEqual([]);
    }
  }, RUN_MS * ROUNDS);

  it('four builds and a lock on the warm cache', async () => {
    const cache = path.join(repo.work, 'cold-4-0');
    expect(existsSync(path.join(cache, 'index.db'))).toBe(true);
    await together(cache, ['a', 'b', 'c', 'd'], true);
    expect(tmpOf(cache)).toEqual([]);
  }, RUN_MS);
});
