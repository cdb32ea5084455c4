import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { UnpackedEntry } from '../adapters/types.js';
import { unpackDeb } from '../adapters/deb/unpack.js';
import type { DebMetadata } from '../adapters/deb/debMetadata.js';
import { UserError } from '../src/errors.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-unpack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type TarItem = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; content?: string | Buffer; linkname?: string; mode?: number };

async function tarGz(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve());
  });
  for (const i of items) {
    if (i.content !== undefined) pack.entry({ name: i.name, mode: i.mode ?? 0o644, mtime: new Date(0) }, i.content);
    else pack.entry({ name: i.name, type: i.type ?? 'directory', linkname: i.linkname, mode: i.mode ?? 0o755, mtime: new Date(0) });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** An ar archive as dpkg-deb writes it: "!<arch>\n", 60-byte headers, even padding. */
function ar(members: [string, Buffer][]): Buffer {
  const parts = [Buffer.from('!<arch>\n')];
  for (const [name, body] of members) {
    const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(header), body);
    if (body.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

async function deb(data: TarItem[], name = `t-${Math.random().toString(36).slice(2)}.deb`, postinst?: string): Promise<string> {
  const control = await tarGz([{ name: './control', content: 'Package: t\nVersion: 1\nArchitecture: amd64\nDescription: t\n' }, ...(postinst === undefined ? [] : [{ name: './postinst', content: postinst, mode: 0o755 }])]);
  const file = path.join(work, name);
  writeFileSync(file, ar([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', control], ['data.tar.gz', await tarGz(data)]]));
  return file;
}

async function drain(file: string): Promise<{ entries: UnpackedEntry['entry'][]; meta: DebMetadata }> {
  const r = unpackDeb(file);
  const entries: UnpackedEntry['entry'][] = [];
  for await (const { entry, body } of r.entries) {
    if (body) for await (const _ of body) void _;
    entries.push(entry);
  }
  return { entries, meta: (await r.metadata) as DebMetadata };
}

describe('unpackDeb', () => {
  it('keeps the /usr/share files its scripts name, literally or as a directory a variable completes; ELF facts of shared objects', async () => {
    const zlib = readFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1'); // this host's, a real shared object
    const file = await deb(
      [
        { name: './usr/share/t/conf.d/a.conf', content: 'a' },
        { name: './usr/share/t/conf.d/b.conf', content: 'b' },
        { name: './usr/share/t/template', content: 't' },
        { name: './usr/share/t/other', content: 'o' },
        { name: './usr/share/u/x', content: 'x' },
        { name: './usr/lib/x86_64-linux-gnu/libz.so.1.2.13', content: zlib },
        { name: './usr/lib/x86_64-linux-gnu/libz.so.1', type: 'symlink', linkname: 'libz.so.1.2.13' },
      ],
      undefined,
      '#!/bin/sh\nfor f in a.conf b.conf; do ucf "$DPKG_ROOT/usr/share/t/conf.d/$f" "/etc/t/$f"; done\ncp /usr/share/t/template /etc/t.conf\n',
    );
    const { meta } = await drain(file);
    expect(Object.keys(meta.captured).sort()).toEqual(['usr/share/t/conf.d/a.conf', 'usr/share/t/conf.d/b.conf', 'usr/share/t/template']);
    expect(meta.libraryLinks).toEqual({ 'usr/lib/x86_64-linux-gnu/libz.so.1': 'libz.so.1.2.13' });
    expect(meta.libraries?.['usr/lib/x86_64-linux-gnu/libz.so.1.2.13']).toMatchObject({ soname: 'libz.so.1', machine: 62 });
  });

  it('writes /bin and /lib paths under /usr while dpkg\'s file list keeps the shipped names', async () => {
    const file = await deb([
      { name: './' },
      { name: './bin/' },
      { name: './bin/tool', content: 'x', mode: 0o755 },
      { name: './lib/x86_64-linux-gnu/' },
      { name: './lib/x86_64-linux-gnu/libt.so.1', content: 'so' },
      { name: './bin/tool2', type: 'link', linkname: './bin/tool' },
    ]);
    const { entries, meta } = await drain(file);
    expect(entries.map((e) => e.path)).toEqual(['usr/bin', 'usr/bin/tool', 'usr/lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu/libt.so.1', 'usr/bin/tool2']);
    expect(entries[4]).toMatchObject({ type: 'hardlink', linkname: 'usr/bin/tool' });
    expect(meta.files).toEqual(['/.', '/bin', '/bin/tool', '/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu/libt.so.1', '/bin/tool2']);
    expect(meta.name).toBe('t');
  });

  it.each([
    ['a path with ..', [{ name: './usr/../../etc/evil', content: 'x' }]],
    ['a hardlink out of the root', [{ name: './usr/x', type: 'link' as const, linkname: '../../etc/shadow' }]],
  ])('refuses %s, naming the entry', async (_what, items) => {
    const file = await deb(items);
    await expect(drain(file)).rejects.toThrow(UserError);
    await expect(drain(file)).rejects.toThrow(/escape the image root/);
  });

  it('refuses a truncated package with a clear message', async () => {
    const good = await deb([{ name: './x', content: 'x' }]);
    const bytes = (await import('node:fs')).readFileSync(good);
    const cut = path.join(work, 'cut.deb');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
    await expect(drain(cut)).rejects.toThrow(/past the end of the file \(truncated download\?\)/);
  });

  it('refuses a file that is not a Debian package', async () => {
    const junk = path.join(work, 'junk.deb');
    writeFileSync(junk, 'hello');
    await expect(drain(junk)).rejects.toThrow(/not a Debian package/);
  });
});
