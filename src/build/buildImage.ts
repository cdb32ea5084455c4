import os from 'node:os';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Adapter, FinalEntry, RepositoryConfig } from '../../adapters/types.js';
import type { Cas, Digest } from '../cas/cas.js';
import { openCas, repositoryConfigs } from '../cas/openCache.js';
import { CacheIndex } from '../cas/cacheIndex.js';
import type { ImageConfig } from '../config/imageConfig.js';
import { UserError } from '../errors.js';
import { fetchIfExists } from '../fetch/download.js';
import { fetchPackages } from '../fetch/fetchPackages.js';
import { checkPathConflicts } from '../final/checkPathConflicts.js';
import { checkSymlinkCrossings } from '../final/checkSymlinkCrossings.js';
import { finalLayerKey } from '../final/finalLayerKey.js';
import { buildPackageLayers, type BuiltLayer } from '../layer/packageLayers.js';
import { planLayers } from '../layer/planLayers.js';
import type { WrittenLayer } from '../layer/writeLayer.js';
import { imageAdapter } from '../lock/lockImage.js';
import { checkLockMatches, readLockfile, type LockedPackage, type Lockfile } from '../lock/lockfile.js';
import { ociImageConfig } from '../oci/imageConfig.js';
import { MEDIA_TYPES, REF_NAME_ANNOTATION, type Descriptor } from '../oci/mediaTypes.js';
import { writeLayout } from '../oci/writeLayout.js';
import type { Progress } from '../progress.js';
import { translateEffects, type ScriptReport } from '../translate/applyEffects.js';
import { configEffects } from '../translate/configEffects.js';
import { Stopwatch } from './stopwatch.js';

export interface BuildOptions {
  config: ImageConfig;
  lockPath: string;
  outputDir: string;
  cacheDir: string;
  progress: Progress;
  /** Fail, before anything is written, when any script effect is left untranslated. */
  strict?: boolean;
}

export interface LayerReport {
  packages: string[];
  digest: string;
  diffId: string;
  size: number;
  cached: boolean;
}

export interface BuildResult {
  /** The image name from image.toml. */
  name: string;
  output: string;
  tag: string;
  manifestDigest: string;
  /** For a multi-architecture build, the digest of the image index that output's tag names. */
  indexDigest?: string;
  architectures: Record<string, { manifestDigest: string; layers: LayerReport[] }>;
  layers: LayerReport[];
  downloaded: { packages: number; bytes: number };
  untranslated: { package: string; items: string[] }[];
  /** Per package with scripts (and image.toml): the effects found and what was left untranslated. */
  scripts: ScriptReport[];
  /** Optional dependencies the lock records (pacman optdepends); "[installed]" when the image has them. */
  optional: { package: string; items: string[] }[];
  timings: Record<string, number>;
  /** Set when nothing had to be done: same inputs, and the output is what that build wrote. */
  upToDate?: boolean;
}

/** lock → fetch → one layer per package (cached) → final layer → OCI layout. Never resolves. */
export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  const { config, progress } = opts;
  const watch = new Stopwatch();
  const lock = await readLockfile(opts.lockPath);
  checkLockMatches(lock, config, opts.lockPath);
  const adapter = imageAdapter(config);
  for (const arch of config.image.architectures) adapter.platform(arch);
  const cas = await openCas(opts.cacheDir);
  const index = new CacheIndex(opts.cacheDir);
  const sourceDateEpoch = sourceDateEpochOf(lock);
  try {
    const perArch: BuildResult['architectures'] = {};
    const manifests: Descriptor[] = [];
    const blobs: string[] = [];
    let downloaded = { packages: 0, bytes: 0 };
    let untranslated: BuildResult['untranslated'] = [];
    let scripts: ScriptReport[] = [];
    const repositories = repositoryConfigs(config);
    for (const arch of config.image.architectures) {
      const packages = lock.architectures[arch]!.packages;
      const { layers, fetched } = await packageLayersFor({ adapter, cas, index, config, packages, arch, lockPath: opts.lockPath, progress, watch });
      downloaded = { packages: downloaded.packages + fetched.downloaded, bytes: downloaded.bytes + fetched.bytes };

      progress.stage('final', `database, accounts, links (${arch})`);
      const final = await watch.time('final', () =>
        finalLayer({
          cas,
          index,
          adapter,
          arch,
          sourceDateEpoch,
          repositories,
          requested: config.packages.include,
          explicit: packages.filter((p) => p.requiredBy.includes('(requested)')).map((p) => p.name),
          layers,
          config,
        }),
      );
      untranslated = final.report.untranslated;
      scripts = final.report.scripts;
      if (opts.strict && untranslated.length) throw strictFailure(untranslated, config.file);

      const manifest = await writeManifest(cas, adapter, config, arch, layers, final.layer, sourceDateEpoch);
      index.markUsed([manifest.configDigest, manifest.descriptor.digest]); // for `cache gc`'s least-recently-used order
      blobs.push(...layers.map((l) => l.digest), final.layer.digest, manifest.configDigest, manifest.descriptor.digest);
      manifests.push(manifest.descriptor);
      perArch[arch] = { manifestDigest: manifest.descriptor.digest, layers: [...layers.map(layerReport), finalReport(final.layer, final.cached)] };
    }

    progress.stage('write', opts.outputDir);
    const top = await watch.time('write', async () => {
      const ref = { [REF_NAME_ANNOTATION]: config.image.tag };
      if (manifests.length === 1) {
        const { platform: _platform, ...rest } = manifests[0]!;
        const single = { ...rest, annotations: ref };
        await writeLayout(cas, opts.outputDir, blobs, single);
        return single;
      }
      const indexBlob = await cas.writeBuffer(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests })));
      index.markUsed([indexBlob.digest]);
      const desc: Descriptor = { mediaType: MEDIA_TYPES.index, digest: indexBlob.digest, size: indexBlob.size, annotations: ref };
      await writeLayout(cas, opts.outputDir, [...blobs, indexBlob.digest], desc);
      return desc;
    });

    const first = perArch[config.image.architectures[0]!]!;
    return {
      name: config.image.name,
      output: path.resolve(opts.outputDir),
      tag: config.image.tag,
      manifestDigest: first.manifestDigest,
      ...(manifests.length > 1 ? { indexDigest: top.digest } : {}),
      architectures: perArch,
      layers: first.layers,
      downloaded,
      untranslated,
      scripts,
      optional: config.image.architectures
        .flatMap((arch) => lock.architectures[arch]!.packages)
        .filter((p, i, all) => p.optional?.length && all.findIndex((q) => q.name === p.name) === i)
        .map((p) => ({ package: p.name, items: p.optional! })),
      timings: watch.timings,
    };
  } finally {
    index.close();
  }
}

/** The one error --strict gives: every package with something untranslated, and where to look. */
export function strictFailure(untranslated: BuildResult['untranslated'], imageFile: string): UserError {
  const list = untranslated.map((u) => `${u.package} (${u.items.length})`).join(', ');
  const shown = path.relative(process.cwd(), imageFile) || imageFile;
  return new UserError(`--strict: maintainer script effects left untranslated in ${untranslated.length} packages: ${list}; \`layerpkg scripts ${shown}\` lists them`);
}

/** SOURCE_DATE_EPOCH from the environment wins; else the newest index date the lock recorded. */
function sourceDateEpochOf(lock: Lockfile): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env === undefined || env === '') return lock.sourceDateEpoch;
  if (!/^\d+$/.test(env)) throw new UserError(`SOURCE_DATE_EPOCH="${env}" is not a number of seconds; unset it or fix it`);
  return Number(env);
}

/** Fetch one architecture's packages and make (or find) their layers. */
async function packageLayersFor(args: {
  adapter: Adapter;
  cas: Cas;
  index: CacheIndex;
  config: ImageConfig;
  packages: LockedPackage[];
  arch: string;
  lockPath: string;
  progress: Progress;
  watch: Stopwatch;
}): Promise<{ layers: BuiltLayer[]; fetched: Awaited<ReturnType<typeof fetchPackages>> }> {
  const { adapter, cas, index, config, packages, arch, progress, watch } = args;
  progress.stage('fetch', `${packages.length} packages (${arch})`);
  const repositories = repositoryConfigs(config);
  const verifierFor = (pkg: LockedPackage) => {
    const repo = repositories.find((r) => r.name === pkg.repository);
    const verify = adapter.verifyDownload;
    return repo && verify ? (tmp: string) => verify.call(adapter, tmp, pkg, repo, { fetchIfExists }) : undefined;
  };
  // Marked before fetch looks for them, so a concurrent `cache gc` either sees them used or has already removed them.
  index.markUsed(packages.flatMap((p) => (p.sha256 ? [p.sha256] : [])), 'package');
  const fetched = await watch.time('fetch', () => fetchPackages({ cas, index, verifierFor }, packages, 8, args.lockPath));
  const plans = planLayers(packages, config.layering.maxLayers);
  progress.stage('unpack', `${plans.length} package layers (${arch})`);
  const layers = await watch.time('unpack', () =>
    buildPackageLayers(adapter, plans, { cas, index, blobs: fetched.blobs, limits: config.limits, concurrency: unpackConcurrency() }),
  );
  return { layers, fetched };
}

/**
 * Layers made at once: two per core keeps the cores busy while one waits on the disk, but no
 * more than 8, since each holds a decompressor's window and its output (xz: up to 64 MiB at -9e)
 * and the build's memory must not grow with the machine.
 */
function unpackConcurrency(): number {
  return Math.min(8, Math.max(2, os.availableParallelism() * 2));
}

/**
 * What the maintainer scripts of an image's packages would do and how each effect is
 * translated, per architecture: `layerpkg scripts`. Fetches and unpacks as build does (into the
 * same cache) but writes no image.
 */
export async function scriptsReport(opts: Omit<BuildOptions, 'outputDir' | 'strict'>): Promise<Record<string, ScriptReport[]>> {
  const { config, progress } = opts;
  const lock = await readLockfile(opts.lockPath);
  checkLockMatches(lock, config, opts.lockPath);
  const adapter = imageAdapter(config);
  const cas = await openCas(opts.cacheDir);
  const index = new CacheIndex(opts.cacheDir);
  const watch = new Stopwatch();
  try {
    const out: Record<string, ScriptReport[]> = {};
    for (const arch of config.image.architectures) {
      const packages = lock.architectures[arch]!.packages;
      const { layers } = await packageLayersFor({ adapter, cas, index, config, packages, arch, lockPath: opts.lockPath, progress, watch });
      const metadata = (await Promise.all(layers.map((l) => l.metadata()))).flat();
      out[arch] = translateEffects(adapter, metadata, sourceDateEpochOf(lock), configEffects(config)).report;
    }
    return out;
  } finally {
    index.close();
  }
}

/** What the final layer's translation reported, kept in the cache beside it. */
interface FinalReport {
  untranslated: BuildResult['untranslated'];
  scripts: ScriptReport[];
}

/**
 * The final layer, from the cache when the same packages, timestamp, repositories and
 * image.toml accounts and paths made it before — then not even the package metadata is read.
 */
async function finalLayer(args: {
  cas: Cas;
  index: CacheIndex;
  adapter: Adapter;
  arch: string;
  sourceDateEpoch: number;
  repositories: RepositoryConfig[];
  requested: string[];
  explicit: string[];
  layers: BuiltLayer[];
  config: ImageConfig;
}): Promise<{ layer: WrittenLayer; report: FinalReport; cached: boolean }> {
  const { cas, index, adapter, arch, sourceDateEpoch, repositories, requested, explicit, layers, config } = args;
  const declared = configEffects(config);
  const key = finalLayerKey({
    type: adapter.type,
    arch,
    sourceDateEpoch,
    repositories,
    requested,
    explicit,
    declared,
    metadataDigests: layers.map((l) => l.metadataDigest),
  });
  const hit = await index.findLayer(key, cas);
  if (hit) {
    const report = JSON.parse(await readFile(cas.blobPath(hit.metadataDigest), 'utf8')) as FinalReport;
    return { layer: hit, report, cached: true };
  }
  const { writeFinalLayer } = await import('../final/finalLayer.js'); // only on a miss, like the tar writer
  const { copyUpEntries } = await import('../final/copyUpEntries.js');
  const perLayer = await Promise.all(layers.map((l) => l.metadata()));
  const metadata = perLayer.flat();
  checkPathConflicts(adapter, metadata);
  checkSymlinkCrossings(adapter, metadata);
  const t = translateEffects(adapter, metadata, sourceDateEpoch, declared);
  const made: FinalEntry[] = [...adapter.database(metadata, { arch, sourceDateEpoch, repositories, requested, explicit, applied: t.applied }), ...t.entries];
  const copied = await copyUpEntries(cas, adapter, layers.map((l, i) => ({ digest: l.digest, metadata: perLayer[i]! })), t.copyUps, made);
  const entries = [...made, ...copied.entries];
  const packageSymlinks = new Map(metadata.flatMap((m) => adapter.installedSymlinks(m)).map((l) => [l.path, l.target]));
  const layer = await writeFinalLayer(cas, entries, sourceDateEpoch, packageSymlinks);
  const report: FinalReport = withProblems({ untranslated: t.untranslated, scripts: t.report }, copied.problems);
  const reportBlob = await cas.writeBuffer(Buffer.from(JSON.stringify(report)));
  index.putLayer(key, { ...layer, metadataDigest: reportBlob.digest });
  return { layer, report, cached: false };
}

/** Problems found while building the final layer join the packages' untranslated lines. */
function withProblems(report: FinalReport, problems: { source: string; effect: string }[]): FinalReport {
  if (!problems.length) return report;
  const scripts = report.scripts.map((r) => ({ ...r, untranslated: [...r.untranslated, ...problems.filter((p) => p.source === r.package).map((p) => p.effect)] }));
  const untranslated = scripts.filter((r) => r.untranslated.length).map((r) => ({ package: r.package, items: r.untranslated }));
  return { scripts, untranslated };
}

async function writeManifest(
  cas: Cas,
  adapter: Adapter,
  config: ImageConfig,
  arch: string,
  layers: BuiltLayer[],
  final: { diffId: string; digest: string; size: number },
  sourceDateEpoch: number,
): Promise<{ descriptor: Descriptor; configDigest: Digest }> {
  const platform = adapter.platform(arch);
  const imageConfig = ociImageConfig({
    platform,
    runtime: config.config,
    diffIds: [...layers.map((l) => l.diffId), final.diffId],
    history: [
      ...layers.map((l) => ({ created_by: `layerpkg: ${describePackages(l.packages)}`, comment: l.packages.length > 1 ? 'grouped package layer' : 'package layer' })),
      { created_by: 'layerpkg: package database, accounts and links', comment: 'final layer' },
    ],
    created: sourceDateEpoch,
  });
  const configBlob = await cas.writeBuffer(Buffer.from(JSON.stringify(imageConfig)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configBlob.digest, size: configBlob.size },
    layers: [...layers, final].map((l) => ({ mediaType: MEDIA_TYPES.layerGzip, digest: l.digest, size: l.size })),
  };
  const manifestBlob = await cas.writeBuffer(Buffer.from(JSON.stringify(manifest)));
  return {
    descriptor: { mediaType: MEDIA_TYPES.manifest, digest: manifestBlob.digest, size: manifestBlob.size, platform: { ...platform, os: 'linux' } },
    configDigest: configBlob.digest,
  };
}

function describePackages(packages: LockedPackage[]): string {
  return packages.map((p) => `${p.name} ${p.version}`).join(', ');
}

function layerReport(l: BuiltLayer): LayerReport {
  return { packages: l.packages.map((p) => `${p.name}=${p.version}`), digest: l.digest, diffId: l.diffId, size: l.size, cached: l.cached };
}

function finalReport(l: WrittenLayer, cached: boolean): LayerReport {
  return { packages: [], digest: l.digest, diffId: l.diffId, size: l.size, cached };
}
