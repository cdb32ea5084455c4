/**
 * Mutation fuzzing of the readers (issue 15, must-show 8): seeded fast-check arbitraries that
 * damage real inputs — generic byte edits and structure-aware ones (tar header fields with a
 * recomputed checksum, ar member sizes, gzip trailers, deb822 / %FIELD% lines) — and a driver
 * that runs a reader on each mutated input and sorts the outcome: success, a UserError with a
 * message (the only acceptable failure), another exception, a hang (per-case timeout), or RSS
 * above the bound.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { UnpackResult } from '../../adapters/types.js';

/** The one seed of every fuzz run: change it to explore, keep it fixed in the suite. */
export const FUZZ_SEED = 0x15_0008;

// ---------------------------------------------------------------------------------------------
// Generic byte mutations

/** A position: mostly near the start (where headers are), otherwise anywhere; reduced mod length. */
const position = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1023 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x3fffffff }) },
);

/** Bytes that make readers take odd paths: NUL, high bit, digits, separators, newline. */
const interestingByte = fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x30, 0x37, 0x39, 0x20, 0x0a, 0x0d, 0x2f, 0x2e, 0x3a, 0x25, 0x1f, 0x8b);

/** Numbers as text, for size/length fields written in decimal or octal. */
export const interestingNumber = fc.constantFrom(
  '0',
  '1',
  '-1',
  '7',
  '511',
  '512',
  '513',
  '77777777777',
  '99999999999',
  '9999999999999999999999',
  '1e9',
  '0x10',
  ' ',
  '',
  'NaN',
  '18446744073709551616',
  '4294967296',
);

export type ByteMutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'duplicate'; from: number; length: number; at: number }
  | { op: 'number'; at: number; text: string };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, value: fc.oneof(interestingByte, fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.array(fc.oneof(interestingByte, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('duplicate' as const), from: position, length: fc.integer({ min: 1, max: 2048 }), at: position }),
  fc.record({ op: fc.constant('number' as const), at: position, text: interestingNumber }),
);

/** One to three byte mutations. */
export const byteMutations = fc.array(byteMutation, { minLength: 1, maxLength: 3 });

function mod(at: number, length: number): number {
  return length === 0 ? 0 : at % length;
}

export function applyByteMutation(input: Buffer, m: ByteMutation): Buffer {
  const b = Buffer.from(input);
  switch (m.op) {
    case 'flip':
      if (b.length) b[mod(m.at, b.length)]! ^= 1 << m.bit;
      return b;
    case 'set':
      if (b.length) b[mod(m.at, b.length)] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, mod(m.at, b.length));
    case 'delete': {
      const at = mod(m.at, b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    }
    case 'insert': {
      const at = mod(m.at, b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    }
    case 'duplicate': {
      const from = mod(m.from, b.length);
      const at = mod(m.at, b.length + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(from, from + m.length), b.subarray(at)]);
    }
    case 'number': {
      const at = mod(m.at, b.length);
      const text = Buffer.from(m.text, 'latin1');
      return Buffer.concat([b.subarray(0, at), text, b.subarray(at + text.length)]);
    }
  }
}

export function applyByteMutations(input: Buffer, ms: readonly ByteMutation[]): Buffer {
  return ms.reduce(applyByteMutation, input);
}

// ---------------------------------------------------------------------------------------------
// Tar: header fields edited with the checksum recomputed, so the edit reaches the reader's logic

const BLOCK = 512;

/** Offsets of the headers of an uncompressed tar (stops at the end-of-archive block or damage). */
export function tarHeaderOffsets(tar: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos + BLOCK <= tar.length) {
    const h = tar.subarray(pos, pos + BLOCK);
    if (h.every((x) => x === 0)) break;
    out.push(pos);
    const sizeText = h.subarray(124, 136).toString('latin1').replace(/[\0 ]+$/, '').trim();
    const size = h[124]! & 0x80 ? 0 : parseInt(sizeText || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) break;
    pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

export function fixTarChecksum(tar: Buffer, at: number): void {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += tar[at + i]!;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

const TAR_FIELDS = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 8],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
type TarField = keyof typeof TAR_FIELDS;

const NAMES = [
  '../../etc/passwd',
  '/etc/shadow',
  '',
  '.',
  './',
  'usr/bin/',
  'a\nb',
  'nul\0inside',
  'x'.repeat(100),
  '\xff\xfe',
  'usr/../../x',
  '.PKGINFO',
  '.SIGN.RSA.x',
  'control',
  'etc/passwd',
  'bin/busybox',
];
const NUMBERS = ['77777777777', '0', '7777777', '99999999', 'zzzz', '-1', '', '\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff', '1000', '17777777777', '1'];
const TYPEFLAGS = ['0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V', 'Z', '\0'];

function tarFieldValue(field: TarField): fc.Arbitrary<string> {
  switch (field) {
    case 'name':
    case 'linkname':
    case 'prefix':
      return fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 40 }));
    case 'typeflag':
      return fc.constantFrom(...TYPEFLAGS);
    case 'magic':
      return fc.constantFrom('ustar\x0000', 'ustar  \0', 'gnu', '', '\xff\xff\xff\xff');
    default:
      return fc.oneof(fc.constantFrom(...NUMBERS), interestingNumber);
  }
}

export type TarMutation =
  | { op: 'field'; header: number; field: TarField; value: string; fixChecksum: boolean }
  | { op: 'sizeDelta'; header: number; delta: number }
  | { op: 'pax'; header: number; records: string[] }
  | { op: 'dropEnd' }
  | { op: 'repeatEntry'; header: number };

export const tarMutation: fc.Arbitrary<TarMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...(Object.keys(TAR_FIELDS) as TarField[])).chain((field) =>
    fc.record({
      op: fc.constant('field' as const),
      header: fc.nat(),
      field: fc.constant(field),
      value: tarFieldValue(field),
      fixChecksum: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  ) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sizeDelta' as const), header: fc.nat(), delta: fc.integer({ min: -1024, max: 1024 }) }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('pax' as const),
    header: fc.nat(),
    records: fc.array(
      fc.constantFrom(
        '30 path=../../../../etc/evil\n',
        '20 size=99999999999\n',
        '12 size=-1\n',
        '11 size=0\n',
        '99 path=x\n',
        'garbage',
        '5 a\n',
        '40 linkpath=/proc/self/root/etc/shadow\n',
        '46 APK-TOOLS.checksum.SHA1=not-a-checksum\n',
        '15 path=a\0b\n',
        '17 mtime=-1e308\n',
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }) },
  { weight: 1, arbitrary: fc.constant({ op: 'dropEnd' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeatEntry' as const), header: fc.nat() }) },
);

function writeField(tar: Buffer, at: number, field: TarField, value: string): void {
  const [offset, length] = TAR_FIELDS[field];
  const bytes = Buffer.from(value, 'latin1').subarray(0, length);
  tar.fill(0, at + offset, at + offset + length);
  bytes.copy(tar, at + offset);
}

function paxHeader(records: string[]): Buffer {
  const body = Buffer.from(records.join(''), 'latin1');
  const header = Buffer.alloc(BLOCK);
  header.write('PaxHeaders/x', 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('x', 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  fixTarChecksum(header, 0);
  const padded = Buffer.alloc(Math.ceil(body.length / BLOCK) * BLOCK);
  body.copy(padded);
  return Buffer.concat([header, padded]);
}

export function applyTarMutation(input: Buffer, m: TarMutation): Buffer {
  const headers = tarHeaderOffsets(input);
  if (m.op === 'dropEnd') return input.subarray(0, headers.length ? headerEnd(input, headers[headers.length - 1]!) : 0);
  if (headers.length === 0) return input;
  const at = headers[m.header % headers.length]!;
  const tar = Buffer.from(input);
  switch (m.op) {
    case 'field':
      writeField(tar, at, m.field, m.value);
      if (m.fixChecksum) fixTarChecksum(tar, at);
      return tar;
    case 'sizeDelta': {
      const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1').replace(/[\0 ]+$/, '').trim() || '0', 8);
      writeField(tar, at, 'size', `${Math.max(0, (size || 0) + m.delta).toString(8).padStart(11, '0')}\0`);
      fixTarChecksum(tar, at);
      return tar;
    }
    case 'pax':
      return Buffer.concat([tar.subarray(0, at), paxHeader(m.records), tar.subarray(at)]);
    case 'repeatEntry': {
      const end = headerEnd(tar, at);
      return Buffer.concat([tar.subarray(0, end), tar.subarray(at, end), tar.subarray(end)]);
    }
  }
}

function headerEnd(tar: Buffer, at: number): number {
  const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1').replace(/[\0 ]+$/, '').trim() || '0', 8) || 0;
  return Math.min(tar.length, at + BLOCK + Math.ceil(size / BLOCK) * BLOCK);
}

/** A tar damaged by one or two tar-aware edits, or by byte edits. */
export const tarMutations = fc.oneof(
  { weight: 3, arbitrary: fc.array(tarMutation, { minLength: 1, maxLength: 2 }).map((ms) => ({ tar: ms })) },
  { weight: 1, arbitrary: byteMutations.map((ms) => ({ bytes: ms })) },
);
export type TarMutations = { tar: TarMutation[] } | { bytes: ByteMutation[] };

export function applyTarMutations(input: Buffer, ms: TarMutations): Buffer {
  return 'tar' in ms ? ms.tar.reduce(applyTarMutation, input) : applyByteMutations(input, ms.bytes);
}

// ---------------------------------------------------------------------------------------------
// gzip: the trailer (CRC-32, ISIZE) and the header flags of a member

export type GzipMutation =
  | { op: 'isize'; value: number }
  | { op: 'crc'; value: number }
  | { op: 'flags'; value: number }
  | { op: 'method'; value: number };

export const gzipMutation: fc.Arbitrary<GzipMutation> = fc.oneof(
  fc.record({ op: fc.constant('isize' as const), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff), fc.nat()) }),
  fc.record({ op: fc.constant('crc' as const), value: fc.nat() }),
  fc.record({ op: fc.constant('flags' as const), value: fc.oneof(fc.constantFrom(0x02, 0x04, 0x08, 0x10, 0x1e, 0xe0), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('method' as const), value: fc.integer({ min: 0, max: 255 }) }),
);

/** Apply to the gzip member that spans [start, end) of `bytes`. */
export function applyGzipMutation(bytes: Buffer, start: number, end: number, m: GzipMutation): Buffer {
  const b = Buffer.from(bytes);
  if (end - start < 18) return b;
  switch (m.op) {
    case 'isize':
      b.writeUInt32LE(m.value >>> 0, end - 4);
      break;
    case 'crc':
      b.writeUInt32LE(m.value >>> 0, end - 8);
      break;
    case 'flags':
      b[start + 3] = m.value;
      break;
    case 'method':
      b[start + 2] = m.value;
      break;
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Line-based text (deb822, %FIELD%, APKINDEX, .PKGINFO)

const VALUES = [
  '',
  ' ',
  '-1',
  '99999999999999999999999',
  'NaN',
  '1e400',
  '\0',
  '\ufffd\ud800',
  'a (>= 1',
  'a | | b',
  'a (<< )',
  'a:any (= 1:2-3) [amd64] <!nocheck>, b',
  '(',
  ')',
  '|',
  ',',
  '=',
  '>=',
  'so:',
  '!',
  '../../../etc/passwd',
  '/abs/path',
  'x'.repeat(300),
  '%NAME%',
  'Q1',
  ' continuation',
  'Sat, 31 Feb 2026 99:99:99 UTC',
  'c0ffee 12 main/binary-amd64/Packages',
];

export type LineMutation =
  | { op: 'delete' | 'duplicate' | 'blank' | 'comment' | 'indent' | 'dropColon' | 'crlf' | 'swap'; line: number }
  | { op: 'value'; line: number; value: string }
  | { op: 'insert'; line: number; text: string };

export const lineMutation: fc.Arbitrary<LineMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('value' as const), line: fc.nat(), value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), line: fc.nat(), text: fc.oneof(fc.constantFrom(...VALUES, 'X:', ':', 'Field', '#', '%%', 'k = v', ' = '), fc.string({ maxLength: 20 })) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const, 'blank' as const, 'comment' as const, 'indent' as const, 'dropColon' as const, 'crlf' as const, 'swap' as const), line: fc.nat() }) },
);

/** `separator` splits a line into key and value (": " for deb822, ":" for APKINDEX, " = " for .PKGINFO). */
export function applyLineMutation(text: string, m: LineMutation, separator: string): string {
  const lines = text.split('\n');
  const i = m.line % lines.length;
  const line = lines[i]!;
  switch (m.op) {
    case 'delete':
      lines.splice(i, 1);
      break;
    case 'duplicate':
      lines.splice(i, 0, line);
      break;
    case 'blank':
      lines.splice(i, 0, '');
      break;
    case 'comment':
      lines[i] = `#${line}`;
      break;
    case 'indent':
      lines[i] = ` ${line}`;
      break;
    case 'dropColon':
      lines[i] = line.replace(separator.trim() || separator, '');
      break;
    case 'crlf':
      lines[i] = `${line}\r`;
      break;
    case 'swap':
      if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, line];
      break;
    case 'value': {
      const at = line.indexOf(separator);
      lines[i] = at < 0 ? m.value : line.slice(0, at + separator.length) + m.value;
      break;
    }
    case 'insert':
      lines.splice(i, 0, m.text);
      break;
  }
  return lines.join('\n');
}

export const lineMutations = fc.array(lineMutation, { minLength: 1, maxLength: 3 });

export function applyLineMutations(text: string, ms: readonly LineMutation[], separator: string): string {
  return ms.reduce((t, m) => applyLineMutation(t, m, separator), text);
}

// ---------------------------------------------------------------------------------------------
// Running readers

export type Outcome = { kind: 'ok' } | { kind: 'user-error'; message: string } | { kind: 'other-error'; error: unknown } | { kind: 'hang' };

/** Run `f`, classified; a promise that has not settled after `timeoutMs` is a hang. */
export async function outcomeOf(f: () => Promise<unknown>, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), timeoutMs);
  });
  const run = (async (): Promise<Outcome> => {
    try {
      await f();
      return { kind: 'ok' };
    } catch (e) {
      if (e instanceof UserError && e.message.trim() !== '') return { kind: 'user-error', message: e.message };
      return { kind: 'other-error', error: e };
    }
  })();
  try {
    return await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Iterate every entry, drain every body, then await the metadata: what a layer writer does. */
export async function consumeUnpack(result: UnpackResult): Promise<void> {
  for await (const { body } of result.entries) {
    if (body) for await (const chunk of body) void chunk;
  }
  await result.metadata;
}

export interface Finding {
  reader: string;
  run: number;
  mutation: string;
  outcome: string;
}

export interface FuzzStats {
  reader: string;
  cases: number;
  ok: number;
  userErrors: number;
  ms: number;
  /** The highest RSS seen during the run, MiB. */
  peakRssMiB: number;
  findings: Finding[];
}

/** RSS ceiling for the whole fuzz worker: a reader that buffers a mutated size field's claim would blow it. */
export const RSS_LIMIT_MIB = 512;

/** Far above any one case (they take milliseconds): a case still running after this hangs. */
export const CASE_TIMEOUT_MS = 3000;

function describe(value: unknown): string {
  const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v));
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message.slice(0, 300)}${e.stack ? ` @ ${e.stack.split('\n').slice(1, 4).map((l) => l.trim()).join(' | ')}` : ''}`;
  return `non-Error thrown: ${describe(e)}`;
}

/**
 * Run `reader` on `numRuns` values of `arb` drawn by fast-check with FUZZ_SEED. Every outcome
 * other than success or a UserError with a message (naming `mustName`, when given) is a finding; findings are collected (not
 * shrunk) so one run reports them all. RSS is sampled every 20 ms.
 */
export async function fuzzReader<T>(
  reader: string,
  arb: fc.Arbitrary<T>,
  run: (value: T, index: number) => Promise<unknown>,
  opts: { numRuns: number; timeoutMs?: number; seed?: number; mustName?: string },
): Promise<FuzzStats> {
  const stats: FuzzStats = { reader, cases: 0, ok: 0, userErrors: 0, ms: 0, peakRssMiB: 0, findings: [] };
  const sample = (): void => {
    stats.peakRssMiB = Math.max(stats.peakRssMiB, process.memoryUsage.rss() / 2 ** 20);
  };
  const sampler = setInterval(sample, 20);
  const started = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (value) => {
        const index = stats.cases++;
        const outcome = await outcomeOf(() => run(value, index), opts.timeoutMs ?? CASE_TIMEOUT_MS);
        sample();
        if (outcome.kind === 'ok') stats.ok++;
        else if (outcome.kind === 'user-error') {
          stats.userErrors++;
          if (opts.mustName !== undefined && !outcome.message.includes(opts.mustName)) {
            stats.findings.push({ reader, run: index, mutation: describe(value), outcome: `UserError not naming ${opts.mustName}: ${outcome.message.slice(0, 300)}` });
          }
        } else {
          stats.findings.push({
            reader,
            run: index,
            mutation: describe(value),
            outcome: outcome.kind === 'hang' ? `hang (no result after ${opts.timeoutMs ?? CASE_TIMEOUT_MS} ms)` : describeError(outcome.error),
          });
        }
        if (stats.peakRssMiB > RSS_LIMIT_MIB) {
          stats.findings.push({ reader, run: index, mutation: describe(value), outcome: `RSS ${Math.round(stats.peakRssMiB)} MiB > ${RSS_LIMIT_MIB} MiB` });
          return false; // stop: the rest of the run would only measure the leak
        }
        return true;
      }),
      { seed: opts.seed ?? FUZZ_SEED, numRuns: opts.numRuns, endOnFailure: true },
    ).catch(() => {});
  } finally {
    clearInterval(sampler);
    stats.ms = Math.round(performance.now() - started);
  }
  return stats;
}

/** A one-line summary for the test log. */
export function summary(s: FuzzStats): string {
  return `${s.reader}: ${s.cases} cases (${s.ok} ok, ${s.userErrors} UserError, ${s.findings.length} findings) in ${s.ms} ms, peak RSS ${Math.round(s.peakRssMiB)} MiB, seed ${FUZZ_SEED}`;
}

/** A scratch directory for the mutated files of one test file. */
export function scratchDir(prefix: string): { dir: string; file: (name: string) => string; write: (name: string, bytes: Buffer) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (name) => path.join(dir, name),
    write: (name, bytes) => {
      const p = path.join(dir, name);
      writeFileSync(p, bytes);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// ar, as dpkg-deb writes it

export interface ArMemberBytes {
  name: string;
  body: Buffer;
}

export function readAr(bytes: Buffer): ArMemberBytes[] {
  const out: ArMemberBytes[] = [];
  let pos = 8;
  while (pos + 60 <= bytes.length) {
    const name = bytes.toString('latin1', pos, pos + 16).trimEnd().replace(/\/$/, '');
    const size = parseInt(bytes.toString('latin1', pos + 48, pos + 58).trim(), 10);
    out.push({ name, body: bytes.subarray(pos + 60, pos + 60 + size) });
    pos += 60 + size + (size % 2);
  }
  return out;
}

export function writeAr(members: ArMemberBytes[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const { name, body } of members) {
    parts.push(Buffer.from(`${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n`, 'latin1'), body);
    if (body.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export type ArMutation =
  | { op: 'size'; member: number; value: string }
  | { op: 'sizeDelta'; member: number; delta: number }
  | { op: 'name'; member: number; value: string }
  | { op: 'terminator'; member: number }
  | { op: 'reorder'; member: number }
  | { op: 'drop'; member: number };

export const arMutation: fc.Arbitrary<ArMutation> = fc.oneof(
  fc.record({ op: fc.constant('size' as const), member: fc.nat(), value: interestingNumber }),
  fc.record({ op: fc.constant('sizeDelta' as const), member: fc.nat(), delta: fc.integer({ min: -64, max: 64 }) }),
  fc.record({
    op: fc.constant('name' as const),
    member: fc.nat(),
    value: fc.constantFrom('debian-binary', 'control.tar.gz', 'control.tar.xz', 'control.tar', 'data.tar.xz', 'data.tar.zst', 'data.tar.bz2', 'data.tar', '_gpgbuilder', '/', '//', '', 'data.tar.gz/'),
  }),
  fc.record({ op: fc.constant('terminator' as const), member: fc.nat() }),
  fc.record({ op: fc.constant('reorder' as const), member: fc.nat() }),
  fc.record({ op: fc.constant('drop' as const), member: fc.nat() }),
);

/** Header offsets of an ar archive's members. */
function arHeaderOffsets(bytes: Buffer): { at: number; size: number }[] {
  const out: { at: number; size: number }[] = [];
  let pos = 8;
  while (pos + 60 <= bytes.length) {
    const size = parseInt(bytes.toString('latin1', pos + 48, pos + 58).trim(), 10);
    if (!Number.isSafeInteger(size) || size < 0) break;
    out.push({ at: pos, size });
    pos += 60 + size + (size % 2);
  }
  return out;
}

export function applyArMutation(input: Buffer, m: ArMutation): Buffer {
  const headers = arHeaderOffsets(input);
  if (headers.length === 0) return input;
  const i = m.member % headers.length;
  const { at, size } = headers[i]!;
  const b = Buffer.from(input);
  const setField = (offset: number, length: number, text: string): void => {
    b.fill(0x20, at + offset, at + offset + length);
    b.write(text.slice(0, length), at + offset, 'latin1');
  };
  switch (m.op) {
    case 'size':
      setField(48, 10, m.value);
      return b;
    case 'sizeDelta':
      setField(48, 10, String(size + m.delta));
      return b;
    case 'name':
      setField(0, 16, m.value);
      return b;
    case 'terminator':
      b.write('x\n', at + 58, 'latin1');
      return b;
    case 'reorder':
    case 'drop': {
      const members = readAr(input);
      const [taken] = members.splice(i, 1);
      if (m.op === 'reorder' && taken) members.push(taken);
      return writeAr(members);
    }
  }
}

/**
 * Each reader's stats checked as it finishes (no finding, at least one case), and the file's
 * total printed once it is done: what every fuzz file reports.
 */
export function fuzzTally(format: string): (stats: FuzzStats) => void {
  const all: FuzzStats[] = [];
  afterAll(() => {
    const total = all.reduce((n, s) => n + s.cases, 0);
    const ms = all.reduce((n, s) => n + s.ms, 0);
    console.log(`${format} fuzz: ${total} cases in ${ms} ms, seed ${FUZZ_SEED}\n${all.map(summary).join('\n')}`);
  });
  return (stats) => {
    all.push(stats);
    console.log(summary(stats));
    expect(stats.findings, `${stats.reader}: non-UserError outcomes`).toEqual([]);
    expect(stats.cases).toBeGreaterThan(0);
  };
}

/** A tar entry with a new body: the header's size field set to it, checksum fixed, body padded. */
export function resizedEntry(header: Buffer, body: Buffer): Buffer {
  const h = Buffer.from(header);
  h.fill(0, 124, 136);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  fixTarChecksum(h, 0);
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([h, padded]);
}
