/**
 * Benchmark: layerpkg against mmdebstrap on the bundled Debian bookworm example.
 *
 *   npm run build && npm run bench [-- --runs N]
 *
 * Scenarios, each timed wall-clock from process spawn to exit (what a user waits for):
 *   mmdebstrap  `mmdebstrap --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --include=ca-certificates,curl,python3 bookworm OUT.tar MIRROR`
 *   cold        layerpkg build with an empty cache (downloads every package, builds every layer)
 *   warm        packages already in the cache, no layers (unpack + layer + final + write)
 *   no-op       the warm build again, same cache and output directory (everything cached)
 * Each layerpkg build runs under GNU time for its peak resident memory (goal: ≤ 300 MiB), and so
 * does the build of each single package bench/hostileMemory.ts makes to stress memory (a bomb, a
 * 1.5 GiB file, 200,000 files, a 512 MiB library); `--memory-only` runs just those.
 *
 * It measures and reports; a missed goal is printed, never a failure. Only a scenario that does not
 * run (non-zero exit, unreadable output) fails the bench. The last line printed is one JSON object
 * with every figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { linkOrCopy } from '../src/cas/linkOrCopy.js';
import { readLockfile } from '../src/lock/lockfile.js';
import { memoryCases, writeMemoryRepository } from './hostileMemory.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const IMAGE = 'examples/debian-bookworm/image.toml';
const LOCK = 'lockfiles/debian-bookworm.lock.json';
const MIRROR = 'http://deb.debian.org/debian';
const MMDEBSTRAP = '/usr/bin/mmdebstrap';
// layerpkg always writes a merged-/usr tree (the links debootstrap makes) and so resolves
// `usrmerge | usr-is-merged` to usr-is-merged. mmdebstrap's own merged-usr hook does the same;
// without it apt picks usrmerge (and perl), and the two tools would not install the same set.
const MMDEBSTRAP_ARGS = ['--variant=minbase', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr', '--include=ca-certificates,curl,python3', 'bookworm'];

const GOAL_COLD_RATIO = 0.2;
const GOAL_NOOP_SECONDS = 0.3;

type Scenario = 'mmdebstrap' | 'cold' | 'warm' | 'noop';
const LAYERPKG_SCENARIOS = ['cold', 'warm', 'noop'] as const;
type LayerpkgScenario = (typeof LAYERPKG_SCENARIOS)[number];

/** The part of the CLI's `build --json` output (BuildResult) the bench reads. */
interface BuildSummary {
  manifestDigest: string;
  layers: { cached: boolean; size: number; packages: string[] }[];
  downloaded: { packages: number; bytes: number };
  timings: Record<string, number>;
}

interface LayerpkgRun {
  seconds: number;
  summary: BuildSummary;
  /** Peak resident set size of the build process (GNU time's %M), MiB. */
  peakRssMiB: number;
}

interface Exit {
  seconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdoutPath: string;
  stderrPath: string;
}

class BenchError extends Error {}

// ---------------------------------------------------------------------------------------------
// arguments

function parseArgs(argv: string[]): { runs: number; memoryOnly: boolean } {
  let runs = 1;
  let memoryOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      process.stdout.write('usage: npm run bench [-- --runs N] [--memory-only]   (N runs of each scenario, medians reported; --memory-only: only the peak-memory packages)\n');
      process.exit(0);
    }
    if (arg === '--memory-only') {
      memoryOnly = true;
      continue;
    }
    let value: string | undefined;
    if (arg === '--runs') value = argv[++i];
    else if (arg.startsWith('--runs=')) value = arg.slice('--runs='.length);
    else throw new BenchError(`unknown argument ${arg}; usage: npm run bench [-- --runs N]`);
    if (value === undefined || !/^[1-9]\d*$/.test(value)) throw new BenchError(`--runs needs a positive whole number, got ${value ?? 'nothing'}`);
    runs = Number(value);
  }
  return { runs, memoryOnly };
}

// ---------------------------------------------------------------------------------------------
// processes

/** Spawn with stdout and stderr going to files; seconds from spawn to exit. */
function run(cmd: string, args: string[], logDir: string, name: string): Promise<Exit> {
  const stdoutPath = path.join(logDir, `${name}.stdout`);
  const stderrPath = path.join(logDir, `${name}.stderr`);
  const out = openSync(stdoutPath, 'w');
  const err = openSync(stderrPath, 'w');
  return new Promise<Exit>((resolve, reject) => {
    const start = performance.now();
    let seconds = 0;
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', out, err] });
    const closeLogs = (): void => {
      closeSync(out);
      closeSync(err);
    };
    child.once('error', (e) => {
      closeLogs();
      reject(new BenchError(`cannot run ${cmd}: ${e.message}`));
    });
    child.once('exit', () => {
      seconds = (performance.now() - start) / 1000;
    });
    child.once('close', (code, signal) => {
      closeLogs();
      resolve({ seconds, code, signal, stdoutPath, stderrPath });
    });
  });
}

async function tail(file: string, lines = 25): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const kept = text.trimEnd().split('\n').slice(-lines);
  return kept.length && kept[0] !== '' ? kept.map((l) => `    ${l}`).join('\n') : '    (empty)';
}

async function failure(what: string, exit: Exit): Promise<BenchError> {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
  return new BenchError(`${what} ${how} after ${exit.seconds.toFixed(1)} s\n  stderr (last lines):\n${await tail(exit.stderrPath)}\n  stdout (last lines):\n${await tail(exit.stdoutPath, 5)}`);
}

// ---------------------------------------------------------------------------------------------
// scenarios

async function runMmdebstrap(work: string, name: string): Promise<{ seconds: number; tarBytes: number; packages: string[] }> {
  const tar = path.join(work, `${name}.tar`);
  const exit = await run(MMDEBSTRAP, [...MMDEBSTRAP_ARGS, tar, MIRROR], work, name);
  if (exit.code !== 0) throw await failure(`mmdebstrap (${MMDEBSTRAP} ${[...MMDEBSTRAP_ARGS, tar, MIRROR].join(' ')})`, exit);
  const tarBytes = (await stat(tar)).size;
  const status = spawnSync('tar', ['-xOf', tar, './var/lib/dpkg/status'], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
  const packages = [...status.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]!).sort();
  await rm(tar, { force: true });
  return { seconds: exit.seconds, tarBytes, packages };
}

/** GNU time (Debian's `time` package), for the peak RSS of each build. */
const GNU_TIME = '/usr/bin/time';
const GOAL_PEAK_RSS_MIB = 300;

async function runLayerpkg(work: string, name: string, cacheDir: string, outDir: string): Promise<LayerpkgRun> {
  const args = [CLI, 'build', IMAGE, '--lockfile', LOCK, '--cache-dir', cacheDir, '-o', outDir, '--json'];
  const rssFile = path.join(work, `${name}.rss`);
  const exit = await run(GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...args], work, name);
  if (exit.code !== 0) throw await failure(`layerpkg ${name} (node ${args.join(' ')})`, exit);
  const peakRssMiB = Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop()) / 1024;
  const stdout = await readFile(exit.stdoutPath, 'utf8');
  const last = stdout.trimEnd().split('\n').pop() ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new BenchError(`layerpkg ${name}: the last line of its output is not JSON:\n${await tail(exit.stdoutPath, 5)}`);
  }
  return { seconds: exit.seconds, summary: buildSummary(parsed, name), peakRssMiB: round(peakRssMiB, 1) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function buildSummary(v: unknown, name: string): BuildSummary {
  const bad = (what: string): never => {
    throw new BenchError(`layerpkg ${name}: its --json output has no valid ${what}`);
  };
  if (!isRecord(v)) return bad('object');
  const { manifestDigest, layers, downloaded, timings } = v;
  if (typeof manifestDigest !== 'string') return bad('manifestDigest');
  if (!Array.isArray(layers)) return bad('layers');
  const layerList = layers.map((l: unknown) => {
    if (!isRecord(l) || typeof l.cached !== 'boolean' || typeof l.size !== 'number' || !Array.isArray(l.packages)) return bad('layers');
    return { cached: l.cached, size: l.size, packages: l.packages.map(String) };
  });
  if (!isRecord(downloaded) || typeof downloaded.packages !== 'number' || typeof downloaded.bytes !== 'number') return bad('downloaded');
  if (!isRecord(timings)) return bad('timings');
  const t: Record<string, number> = {};
  for (const [k, ms] of Object.entries(timings)) {
    if (typeof ms !== 'number') return bad(`timings.${k}`);
    t[k] = ms;
  }
  return { manifestDigest, layers: layerList, downloaded: { packages: downloaded.packages, bytes: downloaded.bytes }, timings: t };
}

/** What the lock pins, read once with the CLI's own validating reader: names and sha256s. */
async function lockedPackages(): Promise<{ names: string[]; hashes: string[] }> {
  const lock = await readLockfile(path.join(ROOT, LOCK));
  const packages = Object.values(lock.architectures).flatMap((a) => a.packages);
  if (packages.length === 0) throw new BenchError(`${LOCK} pins no packages`);
  // The Debian lock pins every package by sha256 (the warm scenario copies those blobs).
  const hashes = packages.map((p) => p.sha256);
  if (hashes.some((h) => h === undefined)) throw new BenchError(`${LOCK} has packages without a sha256`);
  return { names: [...new Set(packages.map((p) => p.name))].sort(), hashes: [...new Set(hashes as string[])] };
}

/** A new cache holding only the package blobs of `from`: no layer index, no layer blobs. */
async function packagesOnlyCache(from: string, to: string, hashes: string[]): Promise<void> {
  const src = path.join(from, 'blobs', 'sha256');
  const dst = path.join(to, 'blobs', 'sha256');
  await mkdir(dst, { recursive: true });
  for (const hex of hashes) {
    const a = path.join(src, hex);
    const b = path.join(dst, hex);
    if (!existsSync(a)) throw new BenchError(`the cold build's cache has no blob for package sha256 ${hex}`);
    await linkOrCopy(a, b);
  }
}

// ---------------------------------------------------------------------------------------------
// figures

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianTimings(runs: LayerpkgRun[]): Record<string, number> {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.summary.timings)))];
  return Object.fromEntries(stages.map((s) => [s, Math.round(median(runs.map((r) => r.summary.timings[s] ?? 0)))]));
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------

/** Peak RSS of building each memory case (bench/hostileMemory.ts) with an empty cache. */
async function runMemoryCases(work: string, log: (msg: string) => void): Promise<MemoryFigure[]> {
  const dir = path.join(work, 'memory');
  await mkdir(dir, { recursive: true });
  const cases = memoryCases((await readFile(ELF_HEAD_SOURCE)).subarray(0, 4 * 1024 * 1024));
  log(`making ${cases.length} packages for the peak-memory cases …`);
  const images = await writeMemoryRepository(dir, cases);
  const figures: MemoryFigure[] = [];
  for (const c of cases) {
    const image = images.get(c.name)!;
    const cache = path.join(dir, `cache-${c.name}`);
    const lock = await run(process.execPath, [CLI, 'lock', image, '--cache-dir', cache, '-q'], dir, `memory-lock-${c.name}`);
    if (lock.code !== 0) throw await failure(`layerpkg lock of the ${c.name} case`, lock);
    const rssFile = path.join(dir, `${c.name}.rss`);
    const exit = await run(GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, CLI, 'build', image, '--cache-dir', cache, '-o', path.join(dir, `out-${c.name}`), '-q'], dir, `memory-${c.name}`);
    const peakRssMiB = round(Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop()) / 1024, 1);
    const outcome = exit.code === 0 ? 'built' : ((await readFile(exit.stderrPath, 'utf8')).trim().split('\n')[0] ?? `exit ${exit.code}`);
    if ((exit.code === 0) !== c.builds) throw await failure(`layerpkg build of the ${c.name} case (${c.builds ? 'meant to build' : 'meant to be refused'})`, exit);
    log(`  ${c.name}: ${peakRssMiB} MiB peak, ${exit.seconds.toFixed(1)} s, ${exit.code === 0 ? 'built' : 'refused'}`);
    figures.push({ name: c.name, what: c.what, peakRssMiB, seconds: round(exit.seconds), outcome });
    await rm(cache, { recursive: true, force: true });
    await rm(path.join(dir, `out-${c.name}`), { recursive: true, force: true });
  }
  return figures;
}

interface MemoryFigure {
  name: string;
  what: string;
  peakRssMiB: number;
  seconds: number;
  outcome: string;
}

/** A real shared object whose ELF headers head the large-library case. */
const ELF_HEAD_SOURCE = '/usr/lib/x86_64-linux-gnu/libc.so.6';

function memoryReport(figures: MemoryFigure[]): string[] {
  const out = ['', `peak memory of single packages (GNU time %M; goal ≤ ${GOAL_PEAK_RSS_MIB} MiB):`];
  for (const f of figures) out.push(`  ${pad(f.name, 14)}${lpad(`${f.peakRssMiB} MiB`, 11)}${lpad(`${f.seconds.toFixed(1)} s`, 9)}   ${f.what}: ${f.outcome}`);
  const met = figures.every((f) => f.peakRssMiB <= GOAL_PEAK_RSS_MIB);
  out.push(`  → ${met ? 'MET' : 'NOT MET'}`);
  return out;
}

async function main(): Promise<void> {
  const { runs, memoryOnly } = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) throw new BenchError(`${path.relative(ROOT, CLI)} is missing; run \`npm run build\` first`);
  if (memoryOnly) {
    const work = await mkdtemp(path.join(os.tmpdir(), 'layerpkg-bench-'));
    try {
      const figures = await runMemoryCases(work, (msg) => void process.stderr.write(`bench: ${msg}\n`));
      process.stdout.write(`${[...memoryReport(figures), '', JSON.stringify({ bench: 'layerpkg-peak-memory', date: new Date().toISOString(), node: process.version, memory: figures })].join('\n')}\n`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return;
  }
  if (!existsSync(MMDEBSTRAP)) throw new BenchError(`${MMDEBSTRAP} is missing; install mmdebstrap (apt-get install mmdebstrap)`);
  if (!existsSync(GNU_TIME)) throw new BenchError(`${GNU_TIME} is missing; install GNU time (apt-get install time)`);
  const { names, hashes } = await lockedPackages();

  const work = await mkdtemp(path.join(os.tmpdir(), 'layerpkg-bench-'));
  const cleanup = (): void => rmSync(work, { recursive: true, force: true });
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.stderr.write(`bench: interrupted by ${sig}; removed ${work}\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
  const mm: { seconds: number; tarBytes: number }[] = [];
  const setProblems: string[] = [];
  const lp: Record<LayerpkgScenario, LayerpkgRun[]> = { cold: [], warm: [], noop: [] };
  let mmVersion = 'unknown';
  let memory: MemoryFigure[] = [];

  try {
    mmVersion = await mmdebstrapVersion(work);
    log(`${hashes.length} locked packages; ${runs} run(s) of each scenario; scratch in ${work}`);
    for (let i = 1; i <= runs; i++) {
      const tag = runs > 1 ? ` [run ${i}/${runs}]` : '';
      log(`mmdebstrap${tag} … (slow: downloads, unpacks and configures every package)`);
      const m = await runMmdebstrap(work, `mmdebstrap-${i}`);
      mm.push(m);
      const onlyMm = m.packages.filter((p) => !names.includes(p));
      const onlyLp = names.filter((p) => !m.packages.includes(p));
      if (onlyMm.length || onlyLp.length) setProblems.push(`package sets differ: only mmdebstrap has [${onlyMm.join(', ')}], only the lock has [${onlyLp.join(', ')}]`);
      log(`  mmdebstrap ${m.seconds.toFixed(2)} s`);

      const coldCache = path.join(work, `cold-cache-${i}`);
      const coldOut = path.join(work, `cold-out-${i}`);
      log(`layerpkg cold${tag} …`);
      const cold = await runLayerpkg(work, `cold-${i}`, coldCache, coldOut);
      lp.cold.push(cold);
      log(`  cold ${cold.seconds.toFixed(2)} s`);

      const warmCache = path.join(work, `warm-cache-${i}`);
      const warmOut = path.join(work, `warm-out-${i}`);
      await packagesOnlyCache(coldCache, warmCache, hashes);
      await rm(coldCache, { recursive: true, force: true });
      await rm(coldOut, { recursive: true, force: true });
      log(`layerpkg warm${tag} …`);
      const warm = await runLayerpkg(work, `warm-${i}`, warmCache, warmOut);
      lp.warm.push(warm);
      log(`  warm ${warm.seconds.toFixed(2)} s`);

      log(`layerpkg no-op${tag} …`);
      const noop = await runLayerpkg(work, `noop-${i}`, warmCache, warmOut);
      lp.noop.push(noop);
      log(`  no-op ${noop.seconds.toFixed(2)} s`);
      await rm(warmCache, { recursive: true, force: true });
      await rm(warmOut, { recursive: true, force: true });
    }
    memory = await runMemoryCases(work, log);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(work, { recursive: true, force: true });
  }

  report(runs, hashes.length, mmVersion, mm, lp, setProblems, memory);
}

async function mmdebstrapVersion(work: string): Promise<string> {
  const exit = await run(MMDEBSTRAP, ['--version'], work, 'mmdebstrap-version');
  const text = await readFile(exit.stdoutPath, 'utf8').catch(() => '');
  return text.trim().split('\n')[0] ?? 'unknown';
}

function report(
  runs: number,
  packageCount: number,
  mmVersion: string,
  mm: { seconds: number; tarBytes: number }[],
  lp: Record<LayerpkgScenario, LayerpkgRun[]>,
  setProblems: string[],
  memory: MemoryFigure[],
): void {
  const mmSeconds = median(mm.map((m) => m.seconds));
  const seconds: Record<Scenario, number> = {
    mmdebstrap: mmSeconds,
    cold: median(lp.cold.map((r) => r.seconds)),
    warm: median(lp.warm.map((r) => r.seconds)),
    noop: median(lp.noop.map((r) => r.seconds)),
  };
  const timings = Object.fromEntries(LAYERPKG_SCENARIOS.map((s) => [s, medianTimings(lp[s])])) as Record<LayerpkgScenario, Record<string, number>>;
  const label: Record<Scenario, string> = { mmdebstrap: 'mmdebstrap', cold: 'layerpkg cold', warm: 'layerpkg warm', noop: 'layerpkg no-op' };
  const note: Record<Scenario, string> = {
    mmdebstrap: 'downloads + unpacks + runs maintainer scripts',
    cold: 'empty cache: downloads every package',
    warm: 'packages cached, no layers',
    noop: 'everything cached, same output dir',
  };

  const out: string[] = [];
  out.push('');
  out.push(`layerpkg vs mmdebstrap — ${IMAGE} (${packageCount} packages, bookworm amd64, ${MIRROR})`);
  out.push(`${runs === 1 ? '1 run per scenario' : `median of ${runs} runs per scenario`}; wall-clock from spawn to exit; node ${process.version}, ${os.availableParallelism()} CPUs; ${mmVersion}`);
  out.push('');
  const stageNames = [...new Set(LAYERPKG_SCENARIOS.flatMap((s) => Object.keys(timings[s])))];
  const head = `${pad('scenario', 16)}${lpad('seconds', 9)}${lpad('× mmdebstrap', 14)}   ${stageNames.map((s) => lpad(`${s} ms`, 11)).join('')}${lpad('other ms', 10)}   note`;
  out.push(head);
  out.push('-'.repeat(head.length + 20));
  for (const s of ['mmdebstrap', ...LAYERPKG_SCENARIOS] as const) {
    const ratio = seconds[s] / mmSeconds;
    let stages = ' '.repeat(stageNames.length * 11 + 10);
    if (s !== 'mmdebstrap') {
      const t = timings[s];
      const other = Math.round(seconds[s] * 1000 - Object.values(t).reduce((a, b) => a + b, 0));
      stages = `${stageNames.map((n) => lpad(t[n] === undefined ? '-' : String(t[n]), 11)).join('')}${lpad(String(other), 10)}`;
    }
    out.push(`${pad(label[s], 16)}${lpad(seconds[s].toFixed(3), 9)}${lpad(`${ratio.toFixed(3)}×`, 14)}   ${stages}   ${note[s]}`);
  }
  out.push('');
  out.push('"other" = wall-clock minus the stage timings the build reports: node startup, module loading, reading the lock, opening the cache.');
  out.push('Both mmdebstrap and layerpkg cold download the packages from the same mirror, so both include network time (and its variance);');
  out.push('mmdebstrap also fetches the suite\'s Release/Packages indexes, which layerpkg reads at `lock` time, not at `build` time.');

  const coldRatio = seconds.cold / mmSeconds;
  const coldMet = coldRatio <= GOAL_COLD_RATIO;
  const noopMet = seconds.noop <= GOAL_NOOP_SECONDS;
  out.push('');
  out.push('goals:');
  out.push(`  cold ≤ ${GOAL_COLD_RATIO}× mmdebstrap: ${coldRatio.toFixed(3)}× (${seconds.cold.toFixed(2)} s of ${mmSeconds.toFixed(2)} s) → ${coldMet ? 'MET' : 'NOT MET'}`);
  out.push(`  no-op ≤ ${GOAL_NOOP_SECONDS} s:        ${seconds.noop.toFixed(3)} s → ${noopMet ? 'MET' : 'NOT MET'}`);
  const peakRss = Object.fromEntries(LAYERPKG_SCENARIOS.map((s) => [s, Math.max(...lp[s].map((r) => r.peakRssMiB))])) as Record<LayerpkgScenario, number>;
  const rssMet = Object.values(peakRss).every((v) => v <= GOAL_PEAK_RSS_MIB);
  out.push(`  peak RSS ≤ ${GOAL_PEAK_RSS_MIB} MiB:  ${LAYERPKG_SCENARIOS.map((s) => `${s} ${peakRss[s]} MiB`).join(', ')} (GNU time %M) → ${rssMet ? 'MET' : 'NOT MET'}`);

  // Sanity: what each scenario is supposed to have done, and whether every build made the same image.
  const checks: string[] = [...setProblems];
  const packageLayers = (r: LayerpkgRun) => r.summary.layers.filter((l) => l.packages.length > 0);
  for (const r of lp.cold) {
    if (r.summary.downloaded.packages !== packageCount) checks.push(`cold downloaded ${r.summary.downloaded.packages} of ${packageCount} packages`);
    if (packageLayers(r).some((l) => l.cached)) checks.push('cold reported cached layers');
  }
  for (const r of lp.warm) {
    if (r.summary.downloaded.packages !== 0) checks.push(`warm downloaded ${r.summary.downloaded.packages} packages (expected 0)`);
    if (packageLayers(r).some((l) => l.cached)) checks.push('warm reported cached layers (expected none)');
  }
  for (const r of lp.noop) {
    if (r.summary.downloaded.packages !== 0) checks.push(`no-op downloaded ${r.summary.downloaded.packages} packages (expected 0)`);
    const uncached = packageLayers(r).filter((l) => !l.cached).length;
    if (uncached) checks.push(`no-op rebuilt ${uncached} package layers (expected all cached)`);
  }
  const digests = [...new Set(LAYERPKG_SCENARIOS.flatMap((s) => lp[s].map((r) => r.summary.manifestDigest)))];
  if (digests.length > 1) checks.push(`builds produced ${digests.length} different manifests: ${digests.join(', ')}`);
  const cold0 = lp.cold[0]!.summary;
  const layerBytes = cold0.layers.reduce((a, l) => a + l.size, 0);
  const tarBytes = median(mm.map((m) => m.tarBytes));
  out.push('');
  out.push(`image: ${cold0.layers.length} layers, ${mb(layerBytes)} compressed (mmdebstrap tar: ${mb(tarBytes)} uncompressed); cold downloaded ${cold0.downloaded.packages} packages, ${mb(cold0.downloaded.bytes)}`);
  out.push(`manifest: ${digests.join(', ')}${digests.length === 1 ? ` (identical across all ${LAYERPKG_SCENARIOS.length * runs} layerpkg builds)` : ''}`);
  out.push(...memoryReport(memory));
  out.push(checks.length ? `sanity checks FAILED:\n${checks.map((c) => `  - ${c}`).join('\n')}` : 'sanity checks: cold downloaded everything, warm downloaded nothing and built every layer, no-op had every layer cached');
  out.push('');

  const figures = {
    bench: 'layerpkg-vs-mmdebstrap',
    date: new Date().toISOString(),
    image: IMAGE,
    lockfile: LOCK,
    packages: packageCount,
    runs,
    node: process.version,
    cpus: os.availableParallelism(),
    mmdebstrap: { version: mmVersion, seconds: round(mmSeconds), runs: mm.map((m) => round(m.seconds)), tarBytes },
    ...Object.fromEntries(
      LAYERPKG_SCENARIOS.map((s) => [
        s,
        {
          seconds: round(seconds[s]),
          ratio: round(seconds[s] / mmSeconds, 4),
          runs: lp[s].map((r) => round(r.seconds)),
          timingsMs: timings[s],
          downloaded: lp[s][0]!.summary.downloaded,
          cachedLayers: lp[s][0]!.summary.layers.filter((l) => l.cached).length,
          layers: lp[s][0]!.summary.layers.length,
          peakRssMiB: peakRss[s],
        },
      ]),
    ),
    goals: {
      coldRatio: { goal: GOAL_COLD_RATIO, value: round(coldRatio, 4), met: coldMet },
      noopSeconds: { goal: GOAL_NOOP_SECONDS, value: round(seconds.noop), met: noopMet },
      peakRssMiB: { goal: GOAL_PEAK_RSS_MIB, value: Math.max(...Object.values(peakRss)), met: rssMet },
    },
    memory,
    manifestDigests: digests,
    layerBytes,
    sanityProblems: checks,
  };
  out.push(JSON.stringify(figures));
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} catch (e) {
  if (e instanceof BenchError) {
    process.stderr.write(`bench: error: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
