import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDeb, makeKey, serveDir, writeAptRepo, type RepoServer } from './aptRepo.js';

/**
 * A signed two-suite apt repository ("stable" and "updates") served on 127.0.0.1, with packages
 * built by the real dpkg-deb: enough to exercise resolution, every .deb feature the layer writer
 * cares about, and each kind of bad input. `gone` and `corrupt` let a test break single files.
 */
export interface TestRepo {
  work: string;
  server: RepoServer;
  gone: Set<string>;
  corrupt: Map<string, Buffer>;
  /** Write an image.toml into the work dir and return its path. */
  writeImage(include: string[], opts?: { file?: string; url?: string; extra?: string }): string;
  close(): Promise<void>;
}

const imageToml = (include: string[], url: string, extra = '') => `
[image]
name = "offline"
tag = "v1"
architectures = ["amd64"]

[[repository]]
name = "stable"
type = "deb"
url = "${url}"
suite = "stable"
components = ["main"]
keyring = "keyring.gpg"

[[repository]]
name = "updates"
type = "deb"
url = "${url}"
suite = "updates"
keyring = "keyring.gpg"

[packages]
seed = "required"
include = ${JSON.stringify(include)}

[config]
entrypoint = ["/usr/bin/hello"]
cmd = ["--greet"]
user = "0:0"
workdir = "/srv"
env = { GREETING = "hi" }
labels = { "org.example.team" = "layerpkg" }
${extra}`;

export async function createTestRepo(): Promise<TestRepo> {
  const gone = new Set<string>();
  const corrupt = new Map<string, Buffer>();

  const work = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-offline-'));
  const debs = path.join(work, 'debs');
  const key = await makeKey();
  const deb = (spec: Parameters<typeof buildDeb>[1]) => buildDeb(debs, spec);
  const stable = [
    deb({
      name: 'base-tool',
      version: '1.0-1',
      fields: { Essential: 'yes', Priority: 'required', Depends: 'libfoo (>= 1.1), virt-mta', 'Multi-Arch': 'foreign' },
      files: {
        'bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 },
        'usr/bin/su-helper': { content: 'setuid helper\n', mode: 0o4755 },
        'usr/share/doc/base-tool/a': { content: 'shared content\n' },
        'etc/base-tool.conf': { content: 'setting = 1\n' },
      },
      hardlinks: { 'usr/share/doc/base-tool/b': 'usr/share/doc/base-tool/a' },
      symlinks: { 'usr/bin/hi': 'hello' },
      conffiles: ['/etc/base-tool.conf'],
    }),
    deb({ name: 'libfoo', version: '1.0-1', fields: { 'Multi-Arch': 'same', Priority: 'optional' }, files: { 'usr/lib/x86_64-linux-gnu/libfoo.so.1': { content: 'v1.0' } } }),
    deb({
      name: 'mta-impl',
      version: '2',
      arch: 'all',
      fields: { Provides: 'virt-mta' },
      files: { 'usr/sbin/mta': { content: 'mta', mode: 0o755 } },
      // iputils-ping's way: capabilities where setcap works, set-id bits where it does not.
      // And a copy of another package's file, which the build reads from that package's layer.
      scripts: { postinst: '#!/bin/sh\nset -e\nif setcap cap_net_bind_service+ep /usr/sbin/mta; then\n  chmod g+w,o-x /usr/sbin/mta\nelse\n  chmod u+s /usr/sbin/mta\nfi\ncp /usr/share/doc/base-tool/a /etc/mta-greeting\n' },
    }),
    deb({ name: 'alt-a', version: '1', fields: { Depends: 'missing-pkg | alt-b (>= 1)' }, files: { 'usr/share/alt-a': { content: 'a' } } }),
    deb({ name: 'alt-b', version: '1', files: { 'usr/share/alt-b': { content: 'b' } } }),
    deb({ name: 'unused', version: '1', files: { 'usr/share/unused': { content: 'u' } } }),
    deb({ name: 'needs-new', version: '1', fields: { Depends: 'alt-a, libfoo (>= 9)' } }),
    deb({ name: 'clash-a', version: '1', fields: { Conflicts: 'clash-b' } }),
    deb({ name: 'clash-b', version: '1' }),
    deb({ name: 'overlap-a', version: '1', files: { 'usr/share/overlap': { content: 'a' } } }),
    deb({ name: 'overlap-b', version: '1', files: { 'usr/share/overlap': { content: 'b' } } }),
  ];
  const updates = [
    deb({ name: 'libfoo', version: '1.1-1', fields: { 'Multi-Arch': 'same', Priority: 'optional' }, files: { 'usr/lib/x86_64-linux-gnu/libfoo.so.1': { content: 'v1.1' } } }),
  ];
  const repo = path.join(work, 'repo');
  await writeAptRepo(repo, 'stable', stable, key);
  await writeAptRepo(repo, 'updates', updates, key);
  writeFileSync(path.join(work, 'keyring.gpg'), key.publicKeyBinary);
  const server = await serveDir(repo, (p) => (gone.has(p) ? 404 : corrupt.get(p)));
  const writeImage: TestRepo['writeImage'] = (include, opts = {}) => {
    const file = path.join(work, opts.file ?? 'image.toml');
    writeFileSync(file, imageToml(include, opts.url ?? server.url, opts.extra));
    return file;
  };
  writeImage(['alt-a']);
  return {
    work,
    server,
    gone,
    corrupt,
    writeImage,
    close: async () => {
      await server.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
