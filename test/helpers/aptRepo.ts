import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, chmodSync, symlinkSync, linkSync, statSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { run } from './cli.js';

/** A test .deb, built with the real dpkg-deb. */
export interface DebSpec {
  name: string;
  version: string;
  arch?: string;
  fields?: Record<string, string>;
  files?: Record<string, { content: string; mode?: number }>;
  symlinks?: Record<string, string>;
  hardlinks?: Record<string, string>;
  conffiles?: string[];
  scripts?: Record<string, string>;
}

export function buildDeb(workDir: string, spec: DebSpec): string {
  const arch = spec.arch ?? 'amd64';
  const root = path.join(workDir, `${spec.name}_${spec.version}_${arch}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  const control = {
    Package: spec.name,
    Version: spec.version,
    Architecture: arch,
    Maintainer: 'layerpkg tests <tests@layerpkg.invalid>',
    'Installed-Size': '1',
    ...spec.fields,
    Description: `test package ${spec.name}\n Built by the layerpkg test suite.`,
  };
  writeFileSync(path.join(root, 'DEBIAN/control'), Object.entries(control).map(([k, v]) => `${k}: ${v}\n`).join(''));
  for (const [p, f] of Object.entries(spec.files ?? {})) {
    const abs = path.join(root, p);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, f.content);
    chmodSync(abs, f.mode ?? 0o644);
  }
  for (const [p, target] of Object.entries(spec.symlinks ?? {})) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    symlinkSync(target, path.join(root, p));
  }
  for (const [p, target] of Object.entries(spec.hardlinks ?? {})) linkSync(path.join(root, target), path.join(root, p));
  if (spec.conffiles) writeFileSync(path.join(root, 'DEBIAN/conffiles'), spec.conffiles.map((c) => `${c}\n`).join(''));
  const md5s = Object.keys(spec.files ?? {})
    .filter((p) => !spec.conffiles?.includes(`/${p}`))
    .map((p) => `${createHash('md5').update(readFileSync(path.join(root, p))).digest('hex')}  ${p}\n`);
  if (md5s.length) writeFileSync(path.join(root, 'DEBIAN/md5sums'), md5s.join(''));
  for (const [name, text] of Object.entries(spec.scripts ?? {})) {
    writeFileSync(path.join(root, 'DEBIAN', name), text);
    chmodSync(path.join(root, 'DEBIAN', name), 0o755);
  }
  const out = `${root}.deb`;
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, out]);
  return out;
}

export interface TestKey {
  privateKey: openpgp.PrivateKey;
  publicKeyBinary: Uint8Array;
}

export async function makeKey(name = 'layerpkg test archive'): Promise<TestKey> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name }], format: 'object' });
  return { privateKey, publicKeyBinary: privateKey.toPublic().write() };
}

/**
 * A signed apt repository on disk: pool/ with the .debs, dists/<suite>/main/binary-amd64/Packages.xz
 * and an InRelease signed by `key` — the same layout and checks as a Debian mirror.
 */
export async function writeAptRepo(dir: string, suite: string, debs: string[], key: TestKey, date = 'Sat, 11 Jul 2026 10:16:37 UTC'): Promise<void> {
  const paragraphs: string[] = [];
  for (const deb of debs) {
    const rel = `pool/main/${path.basename(deb)}`;
    mkdirSync(path.join(dir, 'pool/main'), { recursive: true });
    const bytes = readFileSync(deb);
    writeFileSync(path.join(dir, rel), bytes);
    const control = run('dpkg-deb', ['-f', deb]).stdout.trimEnd();
    paragraphs.push(`${control}\nFilename: ${rel}\nSize: ${bytes.length}\nSHA256: ${sha256(bytes)}\n`);
  }
  const binDir = path.join(dir, 'dists', suite, 'main/binary-amd64');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(path.join(binDir, 'Packages'), paragraphs.join('\n'));
  run('xz', ['-kf', path.join(binDir, 'Packages')]);
  const listed = ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.xz'].map((p) => {
    const b = readFileSync(path.join(dir, 'dists', suite, p));
    return ` ${sha256(b)} ${String(b.length).padStart(8)} ${p}`;
  });
  const release = [
    'Origin: layerpkg-test',
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `Date: ${date}`,
    'Architectures: amd64',
    'Components: main',
    'SHA256:',
    ...listed,
    '',
  ].join('\n');
  const signed = await openpgp.sign({ message: await openpgp.createCleartextMessage({ text: release }), signingKeys: key.privateKey });
  writeFileSync(path.join(dir, 'dists', suite, 'InRelease'), signed);
}

export interface RepoServer {
  url: string;
  close(): Promise<void>;
  requests: string[];
}

/** Serve a directory on 127.0.0.1 only; `override` lets a test corrupt or drop single files. */
export async function serveDir(dir: string, override?: (urlPath: string) => Buffer | number | undefined): Promise<RepoServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(urlPath);
    const o = override?.(urlPath);
    if (typeof o === 'number') {
      res.writeHead(o).end();
      return;
    }
    try {
      const body = o ?? readFileSync(path.join(dir, path.normalize(urlPath)));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function fileExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
