import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerpkg, type CliResult } from './helpers/cli.js';
import { createTestRepo, type TestRepo } from './helpers/testRepo.js';

/**
 * Every error a user can cause: one clear line naming the thing and what to do, exit 1, no stack
 * trace — and nothing half-written in the cache or the output.
 */
let repo: TestRepo;
let n = 0;

beforeAll(async () => {
  repo = await createTestRepo();
});
afterAll(async () => {
  await repo?.close();
});

/** A loopback port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const fresh = (what: string) => path.join(repo.work, `${what}-${++n}`);

/** Serve `bytes` instead of the real file at `url` while `fn` runs. */
async function withCorrupt(url: string, bytes: Buffer, fn: () => Promise<void>): Promise<void> {
  repo.corrupt.set(url, bytes);
  try {
    await fn();
  } finally {
    repo.corrupt.delete(url);
  }
}

function expectUserError(r: CliResult, ...fragments: (string | RegExp)[]): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^layerpkg: error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const f of fragments) expect(lines[0]).toMatch(f);
}

/** Nothing unverified is visible in the cache: no blob with the bad bytes, no temp leftovers. */
function expectCacheClean(cache: string, badBytes?: Buffer): void {
  if (!existsSync(cache)) return;
  expect(readdirSync(path.join(cache, 'tmp'))).toEqual([]);
  if (badBytes) {
    for (const blob of readdirSync(path.join(cache, 'blobs/sha256'))) {
      expect(readFileSync(path.join(cache, 'blobs/sha256', blob)).equals(badBytes)).toBe(false);
    }
  }
}

describe('lock refuses', () => {
  it('an unknown package, suggesting close names', async () => {
    const image = repo.writeImage(['alt-c'], { file: 'unknown.toml' });
    expectUserError(await layerpkg(['lock', image, '--cache-dir', fresh('cache')]), /unknown package "alt-c"/, /did you mean "alt-a", "alt-b"/, /packages\.include/);
  });

  it('an unsatisfiable dependency, showing the chain', async () => {
    const image = repo.writeImage(['needs-new'], { file: 'unsat.toml' });
    expectUserError(
      await layerpkg(['lock', image, '--cache-dir', fresh('cache')]),
      /unsatisfiable dependency: needs-new → libfoo \(>= 9\)/,
      /only libfoo 1\.1-1 in updates is available/,
    );
  });

  it('conflicting packages, naming both', async () => {
    const image = repo.writeImage(['clash-a', 'clash-b'], { file: 'clash.toml' });
    expectUserError(await layerpkg(['lock', image, '--cache-dir', fresh('cache')]), /clash-a 1 conflicts with clash-b 1/);
  });

  it('an InRelease whose signature does not verify, writing no lock', async () => {
    const url = '/dists/stable/InRelease';
    const real = readFileSync(path.join(repo.work, 'repo', url));
    await withCorrupt(url, Buffer.from(real.toString().replace('Suite: stable', 'Suite: stabke')), async () => {
      const lock = fresh('lock.json');
      const cache = fresh('cache');
      expectUserError(await layerpkg(['lock', repo.writeImage(['alt-a'], { file: 'sig.toml' }), '--lockfile', lock, '--cache-dir', cache]), `${repo.server.url}${url}`, /signature/i);
      expect(existsSync(lock)).toBe(false);
      expectCacheClean(cache);
    });
  });

  it('a Packages index whose hash differs from InRelease, caching nothing', async () => {
    const url = '/dists/stable/main/binary-amd64/Packages.xz';
    const bad = Buffer.from('not the index InRelease promised');
    await withCorrupt(url, bad, async () => {
      const cache = fresh('cache');
      const lock = fresh('lock.json');
      expectUserError(await layerpkg(['lock', repo.writeImage(['alt-a'], { file: 'idx.toml' }), '--lockfile', lock, '--cache-dir', cache]), `${repo.server.url}${url}`, /does not match/);
      expect(existsSync(lock)).toBe(false);
      expectCacheClean(cache, bad);
    });
  });

  it('an unreachable mirror', async () => {
    const port = await closedPort();
    const image = repo.writeImage(['alt-a'], { file: 'unreachable.toml', url: `http://127.0.0.1:${port}` });
    expectUserError(
      await layerpkg(['lock', image, '--cache-dir', fresh('cache')]),
      `cannot download http://127.0.0.1:${port}/dists/stable/InRelease (ECONNREFUSED)`,
      /reachable/,
    );
  });
});

describe('build refuses', () => {
  let image: string;
  let lock: string;
  beforeAll(async () => {
    image = repo.writeImage(['alt-a'], { file: 'good.toml' });
    lock = fresh('good.lock.json');
    expect((await layerpkg(['lock', image, '--lockfile', lock, '--cache-dir', fresh('cache')])).status).toBe(0);
  });

  it('a lock made before image.toml changed', async () => {
    const changed = repo.writeImage(['alt-a', 'alt-b'], { file: 'good.toml' });
    try {
      expectUserError(await layerpkg(['build', changed, '--lockfile', lock, '--cache-dir', fresh('cache'), '-o', fresh('out')]), /out of date/, /run `layerpkg lock/);
    } finally {
      repo.writeImage(['alt-a'], { file: 'good.toml' });
    }
  });

  it('a package whose bytes differ from the lock, caching nothing and writing no output', async () => {
    const url = '/pool/main/alt-b_1_amd64.deb';
    const bad = Buffer.from('!<arch>\nnot the package that was locked');
    await withCorrupt(url, bad, async () => {
      const cache = fresh('cache');
      const out = fresh('out');
      expectUserError(await layerpkg(['build', image, '--lockfile', lock, '--cache-dir', cache, '-o', out]), /package alt-b 1/, `${repo.server.url}${url}`, /does not match/);
      expect(existsSync(out)).toBe(false);
      expectCacheClean(cache, bad);
    });
  });

  it('locked packages the mirror no longer serves, naming each and saying to re-lock', async () => {
    repo.gone.add('/pool/main/alt-a_1_amd64.deb');
    repo.gone.add('/pool/main/alt-b_1_amd64.deb');
    try {
      expectUserError(
        await layerpkg(['build', image, '--lockfile', lock, '--cache-dir', fresh('cache'), '-o', fresh('out')]),
        /no longer serves 2 package\(s\)/,
        /alt-a 1 \(http:.*alt-a_1_amd64\.deb\), alt-b 1/,
        /run `layerpkg lock`/,
      );
    } finally {
      repo.gone.clear();
    }
  });

  it('an output directory it cannot write, leaving nothing behind', async () => {
    const blocker = fresh('a-file');
    writeFileSync(blocker, 'not a directory');
    expectUserError(await layerpkg(['build', image, '--lockfile', lock, '--cache-dir', fresh('cache'), '-o', path.join(blocker, 'out')]), /cannot write the output directory/, /--output/);
    expect(readdirSync(repo.work).filter((f) => /\.(tmp|old)-\d+$/.test(f))).toEqual([]);
  });

  it('two packages that ship the same file', async () => {
    const clash = repo.writeImage(['overlap-a', 'overlap-b'], { file: 'overlap.toml' });
    const clashLock = fresh('overlap.lock.json');
    expect((await layerpkg(['lock', clash, '--lockfile', clashLock, '--cache-dir', fresh('cache')])).status).toBe(0);
    expectUserError(
      await layerpkg(['build', clash, '--lockfile', clashLock, '--cache-dir', fresh('cache'), '-o', fresh('out')]),
      /file conflict: \/usr\/share\/overlap is shipped by both overlap-a 1 and overlap-b 1/,
    );
  });

  it('a missing lockfile', async () => {
    expectUserError(await layerpkg(['build', image, '--lockfile', fresh('none.json'), '--cache-dir', fresh('cache')]), /no lockfile at/, /layerpkg lock/);
  });
});

describe('image.toml refusals', () => {
  const write = (text: string) => {
    const f = fresh('bad.toml');
    writeFileSync(f, text);
    return f;
  };
  const valid = (extra = '') =>
    `[image]\nname = "x"\n${extra}\n[[repository]]\nname = "r"\ntype = "deb"\nurl = "http://127.0.0.1:9"\nsuite = "s"\n`;

  it('malformed TOML, with the line', async () => {
    const f = write('[image]\nname = "x"\ntag = [1,\n');
    expectUserError(await layerpkg(['lock', f]), new RegExp(`${f.replace(/[.]/g, '\\.')}:4:\\d+: invalid TOML`));
  });

  it('an unknown field, naming it and where', async () => {
    expectUserError(await layerpkg(['lock', write(valid('colour = "blue"'))]), /unknown field "colour" in \[image\]/);
  });

  it('an unknown repository field', async () => {
    expectUserError(await layerpkg(['lock', write(`${valid()}sutie = "bookworm"\n`)]), /unknown field "sutie" in repository "r"/);
  });

  it('an unknown repository type', async () => {
    expectUserError(await layerpkg(['lock', write(valid().replace('type = "deb"', 'type = "rpm"'))]), /unknown repository type "rpm"/);
  });

  it('a layer budget above the ceiling', async () => {
    expectUserError(await layerpkg(['lock', write(`${valid()}[layering]\nmax_layers = 500\n`)]), /\[layering\]\.max_layers/, /127/);
  });

  it('a missing image file', async () => {
    expectUserError(await layerpkg(['lock', fresh('nope.toml')]), /cannot read the image file/);
  });
});
