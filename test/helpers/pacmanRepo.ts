/**
 * Real pacman repositories for tests: packages built by the real `makepkg` (as the unprivileged
 * user `nobody`, since makepkg refuses root), databases made by the real `repo-add`, signatures
 * made by `gpg` with a throwaway key. Nothing here imitates a pacman tool.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PacmanTestKey {
  gnupgHome: string;
  fingerprint: string;
  /** The public key, binary, as a pacman keyring file would hold it. */
  keyringFile: string;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command without blocking the test worker; throws with its output on failure. */
export function runTool(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve({ status, stdout, stderr }) : reject(new Error(`${cmd} ${args.join(' ')} exited ${status}:\n${stdout}\n${stderr}`))));
  });
}

/** A fresh RSA signing key in its own GNUPGHOME, and its public key exported as a keyring file. */
export async function makePacmanKey(dir: string, name = 'layerpkg test'): Promise<PacmanTestKey> {
  const gnupgHome = path.join(dir, 'gnupg');
  mkdirSync(gnupgHome, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: gnupgHome };
  await runTool('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', `${name} <test@layerpkg.invalid>`, 'rsa2048', 'sign', 'never'], { env });
  const listed = await runTool('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env });
  const fingerprint = listed.stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  const keyringFile = path.join(dir, `${name.replace(/\W+/g, '-')}.gpg`);
  await runTool('gpg', ['--batch', '--output', keyringFile, '--export', fingerprint], { env });
  return { gnupgHome, fingerprint, keyringFile };
}

/**
 * Build the packages of one (split) PKGBUILD with the real makepkg, as `nobody`, zstd-compressed,
 * with SOURCE_DATE_EPOCH fixed. Returns the package files.
 */
export async function makepkg(outDir: string, pkgbuild: string, extraFiles: Record<string, string | Buffer> = {}): Promise<string[]> {
  // Its own directory straight under the system temp dir: `nobody` must reach it, and a test's
  // work directory (mkdtemp, 0700) is closed to it.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layerpkg-makepkg-'));
  try {
    chmodSync(dir, 0o777);
    writeFileSync(path.join(dir, 'PKGBUILD'), pkgbuild);
    for (const [name, content] of Object.entries(extraFiles)) writeFileSync(path.join(dir, name), content);
    const conf = readFileSync('/etc/makepkg.conf', 'utf8')
      .replace(/^OPTIONS=.*$/m, 'OPTIONS=(!strip !docs libtool staticlibs emptydirs !zipman !purge !debug !lto)')
      .replace(/^PKGEXT=.*$/m, "PKGEXT='.pkg.tar.zst'");
    writeFileSync(path.join(dir, 'makepkg.conf'), conf);
    await runTool('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'makepkg', '--config', path.join(dir, 'makepkg.conf'), '--nodeps', '--noconfirm', '-f'], {
      cwd: dir,
      env: { HOME: dir, SOURCE_DATE_EPOCH: '1700000000', PACKAGER: 'layerpkg tests <test@layerpkg.invalid>' },
    });
    mkdirSync(outDir, { recursive: true });
    return readdirSync(dir)
      .filter((f) => f.endsWith('.pkg.tar.zst'))
      .sort()
      .map((f) => {
        copyFileSync(path.join(dir, f), path.join(outDir, f));
        return path.join(outDir, f);
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A repository directory `<repoDir>/<db>.db` (+ `.files`) made by the real repo-add from copies
 * of `packages`; with a key, each package gets a detached `.sig` and the databases are signed.
 */
export async function repoAdd(repoDir: string, db: string, packages: string[], key?: PacmanTestKey): Promise<string[]> {
  mkdirSync(repoDir, { recursive: true });
  const copies = packages.map((p) => {
    const to = path.join(repoDir, path.basename(p));
    copyFileSync(p, to);
    return to;
  });
  const env = key ? { GNUPGHOME: key.gnupgHome } : {};
  if (key) {
    for (const p of copies) await runTool('gpg', ['--batch', '--yes', '--local-user', key.fingerprint, '--detach-sign', '--no-armor', p], { env });
  }
  await runTool('repo-add', [...(key ? ['--sign', '--key', key.fingerprint] : []), path.join(repoDir, `${db}.db.tar.gz`), ...copies], { env });
  return copies;
}
