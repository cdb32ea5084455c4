#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { BuildResult } from './build/buildImage.js';
import { recordBuild, recordKey, upToDate } from './build/upToDate.js';
import { resolveCacheDir } from './cas/cacheDir.js';
import type { ImageConfig } from './config/imageConfig.js';
import { parseSize } from './config/parseSize.js';
import { isUserError, UserError } from './errors.js';
import { defaultLockPath } from './lock/lockPath.js';
// The builder, resolver and their dependencies are imported inside the commands: a no-op
// rebuild answers from the up-to-date check without loading them.

const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json'), 'utf8')) as { version: string };

interface LimitFlags {
  maxUnpackedSize?: string;
  maxFiles?: string;
}

/** --max-unpacked-size and --max-files over image.toml's [limits]. */
function withLimitFlags(config: ImageConfig, flags: LimitFlags): ImageConfig {
  const limits = { ...config.limits };
  if (flags.maxUnpackedSize !== undefined) {
    const bytes = parseSize(flags.maxUnpackedSize);
    if (bytes === undefined) throw new UserError(`--max-unpacked-size "${flags.maxUnpackedSize}" is not a size: write bytes, or a number with K, M, G or T (e.g. 16G)`);
    limits.maxUnpackedBytes = bytes;
  }
  if (flags.maxFiles !== undefined) {
    if (!/^[1-9]\d*$/.test(flags.maxFiles)) throw new UserError(`--max-files "${flags.maxFiles}" is not a positive whole number`);
    limits.maxEntries = Number(flags.maxFiles);
  }
  return { ...config, limits };
}

interface CommonFlags {
  lockfile?: string;
  cacheDir?: string;
  json?: boolean;
  quiet?: boolean;
}

const program = new Command('layerpkg')
  .description('Build reproducible OCI images from distribution packages, one layer per package, without running anything inside the image.')
  .version(pkg.version)
  .exitOverride();

program
  .command('lock')
  .description('resolve image.toml against verified repository indexes and pin every package')
  .argument('<image.toml>')
  .option('--lockfile <path>', 'where to write the lock (default: <image>.lock.json beside image.toml)')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print a JSON summary')
  .option('-q, --quiet', 'print nothing on success')
  .action(async (file: string, flags: CommonFlags) => {
    const { loadImageConfig } = await import('./config/loadImageConfig.js');
    const { lockImage } = await import('./lock/lockImage.js');
    const { writeLockfile } = await import('./lock/lockfile.js');
    const { createProgress } = await import('./progress.js');
    const config = await loadImageConfig(file);
    const lockPath = path.resolve(flags.lockfile ?? defaultLockPath(config.file));
    const progress = createProgress({ quiet: !!flags.quiet, json: !!flags.json });
    const lock = await lockImage(config, resolveCacheDir(flags.cacheDir), progress);
    await writeLockfile(lockPath, lock);
    const counts = Object.fromEntries(Object.entries(lock.architectures).map(([a, v]) => [a, v.packages.length]));
    if (flags.json) process.stdout.write(`${JSON.stringify({ lockfile: lockPath, packages: counts, inputsHash: lock.inputsHash })}\n`);
    else if (!flags.quiet) {
      process.stdout.write(`locked ${Object.entries(counts).map(([a, n]) => `${n} packages for ${a}`).join(', ')} → ${path.relative(process.cwd(), lockPath) || lockPath}\n`);
    }
  });

program
  .command('build')
  .description('build the image from the lock into an OCI image layout')
  .argument('<image.toml>')
  .option('-o, --output <dir>', 'OCI layout directory (default: out/<image name>)')
  .option('--lockfile <path>', 'the lock to build from (default: <image>.lock.json beside image.toml)')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print one JSON object: manifest digest, layers, timings, script effects')
  .option('--strict', 'fail, writing nothing, when a maintainer script effect is left untranslated')
  .option('--max-unpacked-size <size>', 'refuse a package whose payload unpacks to more than this (e.g. 16G; default: [limits] max_unpacked_size)')
  .option('--max-files <n>', 'refuse a package with more entries than this (default: [limits] max_files)')
  .option('-q, --quiet', 'print nothing on success')
  .action(async (file: string, flags: CommonFlags & LimitFlags & { output?: string; strict?: boolean }) => {
    const started = performance.now();
    const cacheDir = resolveCacheDir(flags.cacheDir);
    const lockPath = path.resolve(flags.lockfile ?? defaultLockPath(path.resolve(file)));
    const key = await recordKey({ imageFile: file, lockPath, output: flags.output, cacheDir, toolVersion: pkg.version });
    let result = key ? await upToDate(cacheDir, key) : undefined;
    if (result) {
      result.timings = { check: Math.round(performance.now() - started) };
      if (flags.strict && result.untranslated.length) {
        const { strictFailure } = await import('./build/buildImage.js');
        throw strictFailure(result.untranslated, file);
      }
    } else {
      const { loadImageConfig } = await import('./config/loadImageConfig.js');
      const { buildImage } = await import('./build/buildImage.js');
      const { createProgress } = await import('./progress.js');
      const config = withLimitFlags(await loadImageConfig(file), flags);
      result = await buildImage({
        config,
        lockPath,
        outputDir: flags.output ?? path.join('out', config.image.name),
        cacheDir,
        progress: createProgress({ quiet: !!flags.quiet, json: !!flags.json }),
        strict: !!flags.strict,
      });
      if (key) await recordBuild(cacheDir, key, result);
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (!flags.quiet) process.stdout.write(summary(result));
  });

program
  .command('scripts')
  .description("list, per package, what its maintainer scripts would do: the effects layerpkg translates and the lines it leaves untranslated")
  .argument('<image.toml>')
  .option('--lockfile <path>', 'the lock to read (default: <image>.lock.json beside image.toml)')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print one JSON object: per architecture, per package')
  .option('--strict', 'exit 1 when anything is left untranslated')
  .action(async (file: string, flags: CommonFlags & { strict?: boolean }) => {
    const { loadImageConfig } = await import('./config/loadImageConfig.js');
    const { scriptsReport, strictFailure } = await import('./build/buildImage.js');
    const { createProgress } = await import('./progress.js');
    const config = await loadImageConfig(file);
    const report = await scriptsReport({
      config,
      lockPath: path.resolve(flags.lockfile ?? defaultLockPath(config.file)),
      cacheDir: resolveCacheDir(flags.cacheDir),
      progress: createProgress({ quiet: true, json: !!flags.json }),
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(scriptsSummary(report));
    const untranslated = Object.values(report)
      .flat()
      .filter((r) => r.untranslated.length)
      .map((r) => ({ package: r.package, items: r.untranslated }));
    if (flags.strict && untranslated.length) throw strictFailure(untranslated, file);
  });

const cache = program.command('cache').description('check, size and clean the cache (packages, layers, index)');

cache
  .command('verify')
  .description('rehash every blob and check every index row and build record; exit 1 listing what is wrong')
  .option('--repair', 'drop the damaged blobs, the rows naming them and unreadable build records (they are made again when needed)')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print one JSON object: what was checked, the problems, what was dropped')
  .action(async (flags: { repair?: boolean; cacheDir?: string; json?: boolean }) => {
    const { verifyCache, describe } = await import('./cas/verifyCache.js');
    const { UserError } = await import('./errors.js');
    const report = await verifyCache(resolveCacheDir(flags.cacheDir), { repair: !!flags.repair });
    const { checked, problems, repaired } = report;
    const counts = `${checked.blobs} blobs, ${checked.layerRows} layer rows, ${checked.pinnedRows} pinned file rows, ${checked.buildRecords} build records`;
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write([...(repaired.length ? repaired : problems.map(describe)), ''].join('\n'));
    if (problems.length && !flags.repair) {
      throw new UserError(`${problems.length} problem(s) in the cache ${report.cacheDir} (checked ${counts}); \`layerpkg cache verify --repair\` drops them`);
    }
    if (!flags.json) {
      process.stdout.write(repaired.length ? `dropped ${repaired.length} problem(s) (checked ${counts}); what they held is made again when needed\n` : `cache ok: ${counts}\n`);
    }
  });

cache
  .command('ls')
  .description('show the size of the cache by kind')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print one JSON object: count and bytes per kind, total')
  .action(async (flags: { cacheDir?: string; json?: boolean }) => {
    const { cacheUsage, USAGE_KINDS, USAGE_LABELS } = await import('./cas/cacheUsage.js');
    const { formatSize } = await import('./config/parseSize.js');
    const usage = await cacheUsage(resolveCacheDir(flags.cacheDir));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(usage)}\n`);
      return;
    }
    const lines = USAGE_KINDS.map((k) => `${formatSize(usage.kinds[k].bytes).padStart(10)}  ${String(usage.kinds[k].count).padStart(6)}  ${USAGE_LABELS[k]}`);
    process.stdout.write(`${usage.cacheDir}\n${lines.join('\n')}\n${formatSize(usage.totalBytes).padStart(10)}          total\n`);
  });

cache
  .command('gc')
  .description('remove what no kept lock needs, least recently used first, until the cache fits --max-size')
  .option('--max-size <size>', 'stop removing once the cache is at most this big (e.g. 500M, 2G; powers of 1024)')
  .option('--keep <lockfile...>', 'keep what these locks need to build again without download or unpack')
  .option('--cache-dir <dir>', 'cache directory (default: $LAYERPKG_CACHE_DIR, $XDG_CACHE_HOME/layerpkg, ~/.cache/layerpkg)')
  .option('--json', 'print one JSON object: what was removed, sizes before and after')
  .action(async (flags: { maxSize?: string; keep?: string[]; cacheDir?: string; json?: boolean }) => {
    const { collectGarbage } = await import('./cas/collectGarbage.js');
    const { formatSize, parseSize } = await import('./config/parseSize.js');
    const { UserError } = await import('./errors.js');
    const maxSize = flags.maxSize === undefined ? undefined : parseSize(flags.maxSize);
    if (flags.maxSize !== undefined && maxSize === undefined) {
      throw new UserError(`--max-size "${flags.maxSize}" is not a size: give bytes or a number with K, M, G or T (powers of 1024), e.g. 500M or 2G`);
    }
    const r = await collectGarbage(resolveCacheDir(flags.cacheDir), { maxSize, keep: flags.keep ?? [] });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const k = r.removed.byKind;
    const parts = [`${k.packages.count} package files`, `${k.layers.count} layer blobs`, `${k.metadata.count + k.other.count} other blobs`];
    process.stdout.write(
      `removed ${r.removed.blobs} blobs (${formatSize(r.removed.bytes)}: ${parts.join(', ')}), ${r.removed.layerRows} layer rows, ${r.removed.pinnedRows} pinned file rows; the cache is now ${formatSize(r.afterBytes)} (was ${formatSize(r.beforeBytes)})\n`,
    );
    if (r.maxSize !== undefined && r.afterBytes > r.maxSize) {
      process.stdout.write(
        `still above --max-size ${formatSize(r.maxSize)}: ${formatSize(r.neededBytes)} is needed by the kept locks, ${formatSize(r.recentBytes)} was used within the last hour, the rest is the index, build records and tmp\n`,
      );
    }
  });

function scriptsSummary(report: Record<string, { package: string; scripts: string[]; effects: string[]; untranslated: string[] }[]>): string {
  const lines: string[] = [];
  for (const [arch, packages] of Object.entries(report)) {
    const withScripts = packages.filter((p) => p.scripts.length);
    const complete = withScripts.filter((p) => !p.untranslated.length).length;
    lines.push(`${arch}: ${withScripts.length} packages with scripts, ${complete} fully translated${withScripts.length ? ` (${((100 * complete) / withScripts.length).toFixed(1)} %)` : ''}`);
    for (const p of packages) {
      lines.push(`  ${p.package}${p.scripts.length ? ` (${p.scripts.join(', ')})` : ''}`);
      for (const e of p.effects) lines.push(`    + ${e}`);
      for (const u of p.untranslated) lines.push(`    ! ${u}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function summary(r: BuildResult): string {
  const cached = r.layers.filter((l) => l.cached).length;
  const total = Object.values(r.timings).reduce((a, b) => a + b, 0);
  const lines = [
    `${r.upToDate ? 'up to date' : 'built'} ${r.name}:${r.tag} → ${path.relative(process.cwd(), r.output) || r.output}`,
    `  manifest ${r.manifestDigest}${r.indexDigest ? ` (index ${r.indexDigest})` : ''}`,
    `  ${r.layers.length} layers (${cached} from cache), ${r.downloaded.packages} packages downloaded, ${(total / 1000).toFixed(2)} s`,
  ];
  if (r.untranslated.length) {
    lines.push(`  maintainer scripts not run and not translated (${r.untranslated.length} packages):`);
    for (const u of r.untranslated) lines.push(`    ${u.package}: ${u.items.join('; ')}`);
  }
  if (r.optional?.length) {
    lines.push('  optional dependencies:');
    for (const o of r.optional) lines.push(`    ${o.package}: ${o.items.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (isUserError(e)) {
    process.stderr.write(`layerpkg: error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`layerpkg: internal error: ${e instanceof Error ? (process.env.LAYERPKG_DEBUG ? e.stack : e.message) : String(e)}\n`);
  process.exit(70);
}
