import { mkdtempSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LayerEntry } from '../adapters/types.js';
import { openCas } from '../src/cas/openCache.js';
import { readLayerFiles } from '../src/final/readLayerFiles.js';
import { writeLayer } from '../src/layer/writeLayer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'layerpkg-read-layer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (p: string, type: LayerEntry['type'], extra: Partial<LayerEntry> = {}): LayerEntry => ({ path: p, type, mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, size: 0, ...extra });

describe('readLayerFiles: packaged files read back from a cached layer', () => {
  it('gives the asked-for files with their headers, a hard link its target\'s bytes, a symlink as a symlink', async () => {
    const cas = await openCas(dir);
    const agent = Buffer.from('ELF ssh-agent');
    const layer = await writeLayer(cas, [
      { entry: entry('usr', 'directory') },
      { entry: entry('usr/bin', 'directory') },
      { entry: entry('usr/bin/ssh-agent', 'file', { size: agent.length, gid: 7 }), content: async () => agent },
      { entry: entry('usr/bin/agent-copy', 'hardlink', { linkname: 'usr/bin/ssh-agent', mode: 0o750 }) },
      { entry: entry('usr/bin/agent-link', 'symlink', { linkname: 'ssh-agent', mode: 0o777 }) },
    ]);
    const files = await readLayerFiles(cas, layer.digest, new Set(['usr/bin/agent-copy', 'usr/bin/agent-link', 'usr/bin/absent']));
    expect([...files.keys()].sort()).toEqual(['usr/bin/agent-copy', 'usr/bin/agent-link']);
    expect(files.get('usr/bin/agent-copy')).toEqual({ type: 'file', mode: 0o750, uid: 0, gid: 0, mtime: 1_700_000_000, content: agent });
    expect(files.get('usr/bin/agent-link')?.type).toBe('symlink');
    expect(files.get('usr/bin/agent-link')?.content).toBeUndefined();
    const direct = await readLayerFiles(cas, layer.digest, new Set(['usr/bin/ssh-agent']));
    expect(direct.get('usr/bin/ssh-agent')).toEqual({ type: 'file', mode: 0o755, uid: 0, gid: 7, mtime: 1_700_000_000, content: agent });
  });

  it('a damaged cached layer: one error naming the blob to delete', async () => {
    const cas = await openCas(dir);
    const body = Buffer.alloc(4096, 1);
    const layer = await writeLayer(cas, [{ entry: entry('big', 'file', { size: body.length }), content: async () => body }]);
    const blob = cas.blobPath(layer.digest);
    truncateSync(blob, Math.floor(statSync(blob).size / 2));
    await expect(readLayerFiles(cas, layer.digest, new Set(['big']))).rejects.toThrow(`${blob}: the cached layer cannot be read`);
  });
});
