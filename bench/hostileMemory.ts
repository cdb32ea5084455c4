/**
 * Peak memory of building single packages made to stress it: a decompression bomb, one very large
 * file, a great many files, a very large shared library. Each is a real .deb in a signed apt
 * repository on disk (file: URL), locked and built by the CLI under GNU time; the figure is the
 * build's maximum resident set size. What layerpkg promises: it stays bounded (≤ 300 MiB) whatever
 * the package holds, because bodies stream and the bomb is stopped near its declared size.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';

export interface MemoryCase {
  name: string;
  what: string;
  /** Installed-Size the control declares, KiB. */
  installedKiB: number;
  /** The data tar's entries: a name and a body size (the body is zeros after `head`). */
  entries: () => Iterable<{ name: string; size: number; head?: Buffer }>;
  /** Whether the build is meant to succeed (a bomb is meant to be refused). */
  builds: boolean;
}

const MiB = 1024 * 1024;

/** The cases the bench runs; `library` is the head of a real shared object (its ELF headers). */
export function memoryCases(library: Buffer): MemoryCase[] {
  return [
    { name: 'bomb', what: '4 GiB of zeros declared as 4 KiB', installedKiB: 4, builds: false, entries: () => [{ name: './usr/share/bomb', size: 4096 * MiB }] },
    { name: 'large-file', what: 'one 1.5 GiB file', installedKiB: 1536 * 1024, builds: true, entries: () => [{ name: './usr/share/large/blob', size: 1536 * MiB }] },
    {
      name: 'many-files',
      what: '199,000 files of 8 KiB (with their directories, just under the default max_files)',
      installedKiB: 199_000 * 8 + 64,
      builds: true,
      entries: function* () {
        for (let i = 0; i < 199_000; i++) yield { name: `./usr/share/many/${Math.floor(i / 1000)}/f${i}`, size: 8192 };
      },
    },
    {
      name: 'long-names',
      what: '100,000 empty files with 310-byte paths (31 MB of names, near the 32 MiB bound)',
      installedKiB: 100_000 * 4 + 64,
      builds: true,
      entries: function* () {
        for (let i = 0; i < 100_000; i++) yield { name: `./usr/share/names/${Math.floor(i / 1000)}/${String(i).padStart(6, '0')}${'n'.repeat(280)}`, size: 0 };
      },
    },
    {
      name: 'large-library',
      what: 'a 512 MiB shared object (ldconfig reads its ELF facts)',
      installedKiB: 512 * 1024,
      builds: true,
      entries: () => [{ name: './usr/lib/x86_64-linux-gnu/libhuge.so.1', size: 512 * MiB, head: library }],
    },
  ];
}

function tarHeader(name: string, size: number, type: '0' | '5' | 'x'): Buffer {
  const h = Buffer.alloc(512);
  const octal = (value: number, at: number, width: number) => h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'latin1');
  h.write(name, 0, 100, 'utf8');
  octal(type === '5' ? 0o755 : 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(1700000000, 136, 12);
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A PAX extended header carrying a name longer than ustar's 100 bytes. */
function* paxPath(name: string): Generator<Buffer> {
  const record = (n: number) => `${n} path=${name}\n`;
  let length = Buffer.byteLength(record(0));
  while (Buffer.byteLength(record(length)) !== length) length = Buffer.byteLength(record(length));
  const body = Buffer.from(record(length));
  yield tarHeader('PaxHeader', body.length, 'x');
  yield body;
  if (body.length % 512) yield Buffer.alloc(512 - (body.length % 512));
}

/** The data tar, made as it streams: parent directories first, bodies of zeros after their head. */
function* dataTar(c: MemoryCase): Generator<Buffer> {
  const made = new Set<string>();
  const zeros = Buffer.alloc(MiB);
  for (const e of c.entries()) {
    const parts = e.name.split('/');
    for (let i = 2; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!made.has(dir)) {
        made.add(dir);
        yield tarHeader(dir, 0, '5');
      }
    }
    if (Buffer.byteLength(e.name) > 100) yield* paxPath(e.name);
    yield tarHeader(e.name, e.size, '0');
    const head = e.head?.subarray(0, e.size) ?? Buffer.alloc(0);
    yield head;
    for (let left = e.size - head.length; left > 0; left -= zeros.length) yield left >= zeros.length ? zeros : zeros.subarray(0, left);
    if (e.size % 512) yield Buffer.alloc(512 - (e.size % 512));
  }
  yield Buffer.alloc(1024);
}

/** `xz -0` of a generated stream into `file`. */
async function xzInto(source: Iterable<Buffer>, file: string): Promise<void> {
  const xz = spawn('xz', ['-0', '-T2', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => xz.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz exited ${code}`)))));
  await Promise.all([pipeline(Readable.from(source), xz.stdin), pipeline(xz.stdout, createWriteStream(file)), done]);
}

function arMember(name: string, data: Buffer): Buffer {
  const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  return Buffer.concat([Buffer.from(h, 'latin1'), data, data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0)]);
}

function controlTar(control: string): Buffer {
  const body = Buffer.from(control);
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return gzipSync(Buffer.concat([tarHeader('./', 0, '5'), tarHeader('./control', body.length, '0'), padded, Buffer.alloc(1024)]));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A signed apt repository under `dir` with one package per case, and an image.toml per case
 * beside it; returns the image files by case name.
 */
export async function writeMemoryRepository(dir: string, cases: MemoryCase[]): Promise<Map<string, string>> {
  const pool = path.join(dir, 'repo', 'pool');
  const lists = path.join(dir, 'repo', 'dists', 'bench', 'main', 'binary-amd64');
  await mkdir(pool, { recursive: true });
  await mkdir(lists, { recursive: true });
  const paragraphs: string[] = [];
  for (const c of cases) {
    const control = `Package: ${c.name}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: layerpkg bench <bench@layerpkg.invalid>\nInstalled-Size: ${c.installedKiB}\nDescription: ${c.what}\n`;
    const dataFile = path.join(dir, `${c.name}.data.tar.xz`);
    await xzInto(dataTar(c), dataFile);
    const deb = Buffer.concat([Buffer.from('!<arch>\n'), arMember('debian-binary', Buffer.from('2.0\n')), arMember('control.tar.gz', controlTar(control)), arMember('data.tar.xz', await readFile(dataFile))]);
    const rel = `pool/${c.name}_1.0_amd64.deb`;
    await writeFile(path.join(dir, 'repo', rel), deb);
    paragraphs.push(`${control}Filename: ${rel}\nSize: ${deb.length}\nSHA256: ${sha256(deb)}\n`);
  }
  const packages = Buffer.from(paragraphs.join('\n'));
  await writeFile(path.join(lists, 'Packages'), packages);
  const release = ['Origin: layerpkg-bench', 'Suite: bench', 'Codename: bench', 'Date: Sat, 11 Jul 2026 10:16:37 UTC', 'Architectures: amd64', 'Components: main', 'SHA256:', ` ${sha256(packages)} ${String(packages.length).padStart(8)} main/binary-amd64/Packages`, ''].join('\n');
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'layerpkg bench' }], format: 'object' });
  const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: release }), signingKeys: privateKey });
  await writeFile(path.join(dir, 'repo', 'dists', 'bench', 'InRelease'), signed);
  await writeFile(path.join(dir, 'keyring.gpg'), privateKey.toPublic().write());
  const images = new Map<string, string>();
  for (const c of cases) {
    const image = path.join(dir, `${c.name}.toml`);
    await writeFile(
      image,
      `[image]\nname = "${c.name}"\n\n[[repository]]\nname = "bench"\ntype = "deb"\nurl = "repo"\nsuite = "bench"\ncomponents = ["main"]\nkeyring = "keyring.gpg"\n\n[packages]\ninclude = ["${c.name}"]\n`,
    );
    images.set(c.name, image);
  }
  return images;
}
