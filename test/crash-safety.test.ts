import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyCache } from '../src/cas/verifyCache.js';
import { layerpkg, ROOT } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * Crash safety (issue 15, must-show 5): SIGKILL the real CLI at seeded random points of `lock`
 * and of each build stage (fetch, unpack, final, write — told apart by the stage lines
 * LAYERPKG_PROGRESS=1 prints), then check that `cache verify` finds nothing wrong, that what the
 * killed run left is swept, that the output directory is absent or complete (index.json present
 * means every blob it leads to is there and sound), and that the next run gives the same lock
 * bytes and the same manifest digest as an uninterrupted one. LAYERPKG_CRASH_SEED replays a run;
 * LAYERPKG_CRASH_KILLS sets the kills per phase (20).
 */
const SEED = Number(process.env.LAYERPKG_CRASH_SEED ?? 15);
const PER_PHASE = Number(process.env.LAYERPKG_CRASH_KILLS ?? 20);
const CLI = path.join(ROOT, 'dist/src/cli.js');
const PHASES = ['lock', 'fetch', 'unpack', 'final', 'write'] as const;
type Phase = (typeof PHASES)[number];

let repo: TestRepo;
let image: string;
let refLock: Buffer;
let refDigest: string;
let oldOutput: string;
const stageMs: Record<Phase, number> = { lock: 0, fetch: 0, unpack: 0, final: 0, write: 0 };

beforeAll(async () => {
  repo = await createTestRepo();
  image = repo.writeImage(['alt-a', 'overlap-a'], { file: 'crash.toml' });
  const cache = path.join(repo.work, 'ref-cache');
  const started = performance.now();
  expect((await layerpkg(['lock', image, '--cache-dir', cache, '-q'])).status).toBe(0);
  stageMs.lock = performance.now() - started;
  refLock = readFileSync(lockOf(image));
  const built = JSON.parse((await layerpkg(['build', image, '--cache-dir', cache, '-o', path.join(repo.work, 'ref-out'), '--json'])).stdout) as {
    manifestDigest: string;
    timings: Record<string, number>;
  };
  refDigest = built.manifestDigest;
  for (const p of ['fetch', 'unpack', 'final', 'write'] as const) stageMs[p] = built.timings[p]!;
  // Another image's complete layout, put where half the trials write: the kill may then land
  // while the old layout is being swapped for the new one.
  const other = repo.writeImage(['alt-b'], { file: 'other.toml' });
  oldOutput = path.join(repo.work, 'other-out');
  expect((await layerpkg(['lock', other, '--cache-dir', cache, '-q'])).status).toBe(0);
  expect((await layerpkg(['build', other, '--cache-dir', cache, '-o', oldOutput, '-q'])).status).toBe(0);
});
afterAll(async () => {
  await repo?.close();
});

it(`survives SIGKILL at ${PER_PHASE} random points of each of lock, fetch, unpack, final and write (seed ${SEED})`, async () => {
  const random = mulberry32(SEED);
  const kills: Record<Phase, number> = { lock: 0, fetch: 0, unpack: 0, final: 0, write: 0 };
  const outputs = { absent: 0, partial: 0, old: 0, new: 0 }; // what a kill in write left where the output goes
  const started = performance.now();
  let trials = 0;
  for (const target of PHASES) {
    for (let attempt = 0; kills[target] < PER_PHASE && attempt < 4 * PER_PHASE; attempt++) {
      const dir = path.join(repo.work, `trial-${++trials}`);
      const t = { dir, cache: path.join(dir, 'cache'), out: path.join(dir, 'out'), lockfile: path.join(dir, 'image.lock.json') };
      mkdirSync(dir);
      if (target !== 'lock') cpSync(lockOf(image), t.lockfile);
      if (random() < 0.5) cpSync(oldOutput, t.out, { recursive: true });
      const landed = await runAndKill(target, t, random);
      if (landed) {
        kills[landed]++;
        if (landed === 'write') outputs[outputState(t.out)]++;
        await checkAfterKill(t, `trial ${trials} (seed ${SEED}), killed in ${landed}`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`crash safety: seed ${SEED}, ${trials} runs, kills per phase ${JSON.stringify(kills)}, output after a kill in write ${JSON.stringify(outputs)}, ${seconds} s`);
  for (const p of PHASES) expect(kills[p], `kills in ${p}`).toBeGreaterThanOrEqual(PER_PHASE);
});

/**
 * Start the command and SIGKILL it a random time into `target` (lock: from the start, over its
 * measured length; a build stage: from its stage line, over that stage's measured length).
 * Returns the stage the kill landed in, or undefined when the run ended first.
 */
function runAndKill(target: Phase, t: { cache: string; out: string; lockfile: string }, random: () => number): Promise<Phase | undefined> {
  const args =
    target === 'lock'
      ? ['lock', image, '--lockfile', t.lockfile, '--cache-dir', t.cache]
      : ['build', image, '--lockfile', t.lockfile, '--cache-dir', t.cache, '-o', t.out];
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LAYERPKG_PROGRESS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stage: Phase | undefined = target === 'lock' ? 'lock' : undefined;
  let killedIn: Phase | undefined;
  const killLater = () => {
    const window = Math.max(3, stageMs[target] * 1.2);
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && stage) {
        killedIn = stage;
        child.kill('SIGKILL');
      }
    }, random() * window);
  };
  if (target === 'lock') killLater();
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    for (const m of text.matchAll(/^\[(fetch|unpack|final|write)\]/gm)) {
      stage = m[1] as Phase;
      if (stage === target) killLater();
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve(signal === 'SIGKILL' ? killedIn : undefined));
  });
}

async function checkAfterKill(t: { cache: string; out: string; lockfile: string }, label: string): Promise<void> {
  if (existsSync(t.out)) expectCompleteLayout(t.out, label);
  if (existsSync(t.lockfile)) expect(readFileSync(t.lockfile).equals(refLock), `${label}: a lockfile, but not the whole one`).toBe(true);
  if (existsSync(t.cache)) {
    const report = await verifyCache(t.cache, { repair: false });
    expect(report.problems, `${label}: cache verify`).toEqual([]);
    expect(readdirSync(path.join(t.cache, 'tmp')), `${label}: the killed run's temp files`).toEqual([]);
  }
  if (!existsSync(t.lockfile) || !readFileSync(t.lockfile).equals(refLock)) {
    const relock = await layerpkg(['lock', image, '--lockfile', t.lockfile, '--cache-dir', t.cache, '-q']);
    expect(relock.stderr, label).toBe('');
    expect(readFileSync(t.lockfile).equals(refLock), `${label}: the next lock`).toBe(true);
  }
  const next = await layerpkg(['build', image, '--lockfile', t.lockfile, '--cache-dir', t.cache, '-o', t.out, '--json']);
  expect(next.stderr, label).toBe('');
  expect((JSON.parse(next.stdout) as { manifestDigest: string }).manifestDigest, `${label}: the next build`).toBe(refDigest);
  expectCompleteLayout(t.out, label);
  const dir = path.dirname(t.out);
  expect(readdirSync(dir).filter((f) => /\.(tmp|old)-/.test(f)), `${label}: leftovers beside the output or lock`).toEqual([]);
  expect(readdirSync(path.join(t.cache, 'tmp')), `${label}: temp files after the next build`).toEqual([]);
}

function outputState(out: string): 'absent' | 'partial' | 'old' | 'new' {
  if (!existsSync(out)) return 'absent';
  if (!existsSync(path.join(out, 'index.json'))) return 'partial'; // checkAfterKill fails on it
  const index = readFileSync(path.join(out, 'index.json'), 'utf8');
  return index.includes(refDigest) ? 'new' : 'old';
}

/** index.json present means complete: every blob it leads to is there and hashes to its name. */
function expectCompleteLayout(out: string, label: string): void {
  expect(existsSync(path.join(out, 'index.json')), `${label}: ${out} exists without index.json`).toBe(true);
  expect(existsSync(path.join(out, 'oci-layout')), `${label}: no oci-layout`).toBe(true);
  const blob = (digest: string) => {
    const file = path.join(out, 'blobs/sha256', digest.slice(7));
    expect(existsSync(file), `${label}: ${digest} missing from the layout`).toBe(true);
    const bytes = readFileSync(file);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, `${label}: ${digest} damaged`).toBe(digest);
    return bytes;
  };
  const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  for (const m of index.manifests) {
    const manifest = JSON.parse(blob(m.digest).toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    blob(manifest.config.digest);
    for (const l of manifest.layers) blob(l.digest);
  }
}

function lockOf(imageFile: string): string {
  return imageFile.replace(/\.toml$/, '.lock.json');
}

/** A small seeded generator, so a failing run can be replayed with LAYERPKG_CRASH_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
