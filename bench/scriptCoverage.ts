/**
 * Script-translation coverage, measured on real data:
 *
 *   npm run build && npm run script-coverage [-- --image bench/script-coverage/image.toml]
 *
 * Runs `layerpkg scripts --json` on a locked image (default: bookworm's standard system plus
 * popular server packages, lock committed beside it; the packages download into the normal
 * cache on the first run) and prints the share of packages with install scripts whose every
 * effect is translated, and the untranslated lines most packages share. It measures and
 * reports; the goal is printed, never enforced. The last line is one JSON object.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const GOAL = 0.95;

interface PackageReport {
  package: string;
  scripts: string[];
  effects: string[];
  untranslated: string[];
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function runScripts(image: string): Promise<Record<string, PackageReport[]>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'scripts', image, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`layerpkg scripts exited with ${code}`));
      else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, PackageReport[]>);
    });
  });
}

/**
 * "postinst: rm -f /a" and "preinst: rm /b" count as one kind of line, `rm`: an untranslated
 * command is grouped by its name; a recognizer's message ("chmod: mode … is not octal") stays whole.
 */
function kindOf(item: string): string {
  const line = item.replace(/^(preinst|postinst|\.[a-z-]+|\.INSTALL [a-z_]+): /, '');
  const command = /^([^\s:]+) /.exec(line);
  return command && !line.startsWith('. ') ? command[1]! : line;
}

async function main(): Promise<void> {
  const image = option('--image', 'bench/script-coverage/image.toml');
  const started = performance.now();
  const report = await runScripts(image);
  const seconds = (performance.now() - started) / 1000;
  const out: Record<string, unknown> = { image, seconds: Number(seconds.toFixed(1)) };
  for (const [arch, packages] of Object.entries(report)) {
    const withScripts = packages.filter((p) => p.scripts.length > 0);
    const complete = withScripts.filter((p) => p.untranslated.length === 0);
    const share = withScripts.length ? complete.length / withScripts.length : 1;
    const byKind = new Map<string, Set<string>>();
    for (const p of packages) for (const u of p.untranslated) byKind.set(kindOf(u), (byKind.get(kindOf(u)) ?? new Set()).add(p.package));
    const common = [...byKind].map(([line, pkgs]) => ({ line, packages: pkgs.size, examples: [...pkgs].slice(0, 4) })).sort((a, b) => b.packages - a.packages || (a.line < b.line ? -1 : 1));
    console.log(`${arch}: ${packages.length} reports, ${withScripts.length} packages with install scripts, ${complete.length} fully translated: ${(share * 100).toFixed(1)} % (goal ${GOAL * 100} %${share >= GOAL ? ', met' : ', NOT met'})`);
    console.log('  most common untranslated lines (packages):');
    for (const c of common.slice(0, 25)) console.log(`    ${String(c.packages).padStart(3)}  ${c.line}   [${c.examples.join(', ')}]`);
    const effects = packages.reduce((n, p) => n + p.effects.length, 0);
    out[arch] = { packagesWithScripts: withScripts.length, fullyTranslated: complete.length, share: Number(share.toFixed(4)), effects, common: common.slice(0, 25) };
  }
  console.log(`  ${seconds.toFixed(1)} s`);
  console.log(JSON.stringify(out));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
