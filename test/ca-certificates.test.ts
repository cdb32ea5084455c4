import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildCaCertificates,
  generateCaCertificatesConf,
  opensslSubjectHash,
  pemLinkName,
  updateCaCertificates,
  type CaCertificateFile,
  type CaCertificatesResult,
} from '../src/translate/caCertificates.js';
import { children, encodeTlv, readTlv } from '../src/translate/der.js';

const HOST_CERTSDIR = '/usr/share/ca-certificates';
const REAL_SCRIPT = '/usr/sbin/update-ca-certificates';
const POSTINST = '/var/lib/dpkg/info/ca-certificates.postinst';
const CONFIG = '/var/lib/dpkg/info/ca-certificates.config';

const tmpRoots: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'layerpkg-ca-'));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

const run = (cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string =>
  execFileSync(cmd, args, { ...opts, env: { ...process.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] }).toString();

function readTree(root: string): CaCertificateFile[] {
  const out: CaCertificateFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ relPath: relative(root, p), content: readFileSync(p) });
    }
  };
  walk(root);
  return out;
}

function writeTree(root: string, files: CaCertificateFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(root, f.relPath)), { recursive: true });
    writeFileSync(join(root, f.relPath), f.content);
  }
}

/**
 * The conf a fresh install writes, produced by the package's own shell text rather than a
 * reimplementation: the top of ca-certificates.config (CERTS_LIST and the empty variables, with
 * no existing conf), its "find | sort | uniq; for crt in $crts" block with trust_new=yes (the
 * template default), then the postinst's "new file" heredoc + sort | uniq -c pipeline. Only
 * the paths are redirected into the temp root; the debconf round trip in between is skipped
 * (it hands the values through unchanged).
 */
function realFreshConf(certsDir: string, confPath: string, certsListOverride?: string): Buffer {
  const config = readFileSync(CONFIG, 'utf8');
  const postinst = readFileSync(POSTINST, 'utf8');
  const between = (text: string, from: string, to: string, inclusiveEnd = false): string => {
    const a = text.indexOf(from);
    const b = text.indexOf(to, a);
    if (a < 0 || b < 0) throw new Error(`marker not found: ${from} / ${to}`);
    return text.slice(a, inclusiveEnd ? b + to.length : b);
  };
  let top = config.slice(0, config.indexOf('. /usr/share/debconf/confmodule'));
  if (certsListOverride !== undefined) top = top.replace(/^CERTS_LIST=.*$/m, `CERTS_LIST="${certsListOverride}"`);
  const scan = between(config, 'if test -d /usr/share/ca-certificates; then', 'enable_crts=""');
  const write = between(postinst, 'cat > /etc/ca-certificates.conf <<EOF', '>> /etc/ca-certificates.conf', true);
  const script = [
    top.replaceAll('/etc/ca-certificates.conf', confPath),
    'trust_new=yes',
    scan.replaceAll('/usr/share/ca-certificates', certsDir),
    write.replaceAll('/etc/ca-certificates.conf', confPath),
  ].join('\n');
  run('sh', ['-e', '-c', script]);
  return readFileSync(confPath);
}

/** Runs the real update-ca-certificates as the postinst does (`--hooksdir ""`) inside `root`. */
function realUpdate(root: string, conf: Buffer): CaCertificatesResult {
  const certsDir = join(root, 'usr/share/ca-certificates');
  const etcCerts = join(root, 'etc/ssl/certs');
  const confPath = join(root, 'etc/ca-certificates.conf');
  mkdirSync(etcCerts, { recursive: true });
  writeFileSync(confPath, conf);
  run(REAL_SCRIPT, [
    '--certsconf', confPath,
    '--certsdir', certsDir,
    '--localcertsdir', join(root, 'usr/local/share/ca-certificates'), // absent, as on a fresh image
    '--etccertsdir', etcCerts,
    '--hooksdir', '',
  ]);
  const links: { path: string; target: string }[] = [];
  let bundle = Buffer.alloc(0);
  for (const name of readdirSync(etcCerts)) {
    const p = join(etcCerts, name);
    if (lstatSync(p).isSymbolicLink()) {
      const target = readlinkSync(p);
      // The script links to "$CERTSDIR/<crt>"; drop the temp prefix to get the in-image path.
      links.push({ path: `etc/ssl/certs/${name}`, target: target.startsWith(root) ? target.slice(root.length) : target });
    } else if (name === 'ca-certificates.crt') {
      bundle = readFileSync(p);
    } else {
      throw new Error(`unexpected file ${name}`);
    }
  }
  links.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { confFile: conf, links, bundle };
}

// --- synthetic certificates ----------------------------------------------------------------

function makeCert(dir: string, name: string, subject: string, extra: string[] = []): Buffer {
  const out = join(dir, `${name}.pem`);
  run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-subj', subject, '-days', '1', '-out', out, ...extra,
  ]);
  return readFileSync(out);
}

function opensslHash(file: string, inform: 'PEM' | 'DER' = 'PEM'): string {
  return run('openssl', ['x509', '-inform', inform, '-noout', '-subject_hash', '-in', file]).trim();
}

/** Replaces the subject Name of a DER certificate (signature left stale: hashing doesn't verify). */
function withSubject(certDer: Buffer, name: Buffer): Buffer {
  const [tbs, sigAlg, sig] = children(readTlv(certDer, 0));
  if (!tbs || !sigAlg || !sig) throw new Error('bad cert');
  const fields = children(tbs).map((f) => f.raw);
  const off = fields[0]?.[0] === 0xa0 ? 1 : 0;
  fields[off + 4] = name;
  return encodeTlv(0x30, Buffer.concat([encodeTlv(0x30, Buffer.concat(fields)), sigAlg.raw, sig.raw]));
}

/** DER of a PEM certificate, via node:crypto. */
const pemToDer = (pem: Buffer): Buffer => new X509Certificate(pem).raw;

const OID = {
  CN: Buffer.from('0603550403', 'hex'),
  O: Buffer.from('060355040a', 'hex'),
  OU: Buffer.from('060355040b', 'hex'),
  C: Buffer.from('0603550406', 'hex'),
  serialNumber: Buffer.from('0603550405', 'hex'),
  email: Buffer.from('06092a864886f70d010901', 'hex'),
};
const atv = (oid: Buffer, tag: number, value: Buffer | string): Buffer =>
  encodeTlv(0x30, Buffer.concat([oid, encodeTlv(tag, typeof value === 'string' ? Buffer.from(value, 'latin1') : value)]));
const rdn = (...atvs: Buffer[]): Buffer => encodeTlv(0x31, Buffer.concat(atvs)); // deliberately unsorted
const nameOf = (...rdns: Buffer[]): Buffer => encodeTlv(0x30, Buffer.concat(rdns));
const bmp = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();
const ucs4 = (s: string): Buffer => {
  const cps = [...s].map((c) => c.codePointAt(0) ?? 0);
  const b = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => b.writeUInt32BE(cp, i * 4));
  return b;
};

// -------------------------------------------------------------------------------------------

describe('opensslSubjectHash', () => {
  const mozilla = readdirSync(join(HOST_CERTSDIR, 'mozilla')).sort();

  it(`matches openssl x509 -subject_hash for all ${mozilla.length} host Mozilla certs`, () => {
    expect(mozilla.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    for (const f of mozilla) {
      const path = join(HOST_CERTSDIR, 'mozilla', f);
      const ours = opensslSubjectHash(readFileSync(path));
      const theirs = opensslHash(path);
      if (ours !== theirs) mismatches.push(`${f}: ${ours} != ${theirs}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('accepts DER input', () => {
    const path = join(HOST_CERTSDIR, 'mozilla', mozilla[0] ?? '');
    const der = pemToDer(readFileSync(path));
    expect(opensslSubjectHash(der)).toBe(opensslHash(path));
  });

  it('canonicalises string types, whitespace, case and multi-valued RDNs like OpenSSL', () => {
    const dir = tmp();
    const base = pemToDer(makeCert(dir, 'base', '/CN=base'));
    const cases: Record<string, Buffer> = {
      printableSpaces: nameOf(rdn(atv(OID.CN, 0x13, '   Hello    WORLD  ')), rdn(atv(OID.C, 0x13, 'de'))),
      utf8AllWhitespaceKinds: nameOf(rdn(atv(OID.CN, 0x0c, Buffer.from('\t\n\v\f\r A \r\n\tB\u00a0C  ÄÖ xY ', 'utf8')))),
      t61Latin1: nameOf(rdn(atv(OID.O, 0x14, Buffer.from([0x20, 0xc9, 0x63, 0x4f, 0x4c, 0x45, 0x20, 0x20, 0xe9, 0x20])))),
      ia5Email: nameOf(rdn(atv(OID.email, 0x16, 'Root@Example.COM'))),
      bmp: nameOf(rdn(atv(OID.CN, 0x1e, bmp('  Größe  ÜBER Straße '))), rdn(atv(OID.O, 0x13, 'X'))),
      universal: nameOf(rdn(atv(OID.CN, 0x1c, ucs4(' Smile 😀  NOW ')))),
      // OpenSSL only accepts the listed string types, NumericString and SEQUENCE as Name values;
      // the last two are not canonicalised but copied verbatim.
      sequenceIsCopiedVerbatim: nameOf(rdn(atv(OID.CN, 0x30, encodeTlv(0x0c, Buffer.from(' AB '))))),
      numericIsCopiedVerbatim: nameOf(rdn(atv(OID.serialNumber, 0x12, '  12  34 '))),
      multiValuedUnsorted: nameOf(rdn(atv(OID.OU, 0x0c, 'zz Unit'), atv(OID.CN, 0x13, 'AAA'), atv(OID.O, 0x0c, 'Org'))),
      multiValuedSortChangesAfterCanon: nameOf(rdn(atv(OID.CN, 0x13, 'b'), atv(OID.CN, 0x0c, 'A'))),
      allWhitespaceValue: nameOf(rdn(atv(OID.CN, 0x0c, '   ')), rdn(atv(OID.O, 0x0c, ''))),
      emptyName: nameOf(),
    };
    for (const [label, name] of Object.entries(cases)) {
      const der = withSubject(base, name);
      const file = join(dir, `${label}.der`);
      writeFileSync(file, der);
      expect({ label, hash: opensslSubjectHash(der) }).toEqual({ label, hash: opensslHash(file, 'DER') });
    }
  });
});

describe('buildCaCertificates vs the real scripts', () => {
  it('host /usr/share/ca-certificates: conf, .pem links, hash links and bundle are identical', () => {
    const root = tmp();
    const certsDir = join(root, 'usr/share/ca-certificates');
    cpSync(HOST_CERTSDIR, certsDir, { recursive: true });
    const certs = readTree(certsDir);
    const ours = buildCaCertificates(certs);

    const realConf = realFreshConf(certsDir, join(root, 'fresh.conf'));
    expect(ours.confFile.toString()).toBe(realConf.toString());
    // Fresh install: everything trusted, nothing deselected.
    expect(ours.confFile.toString().split('\n').filter((l) => l.startsWith('!'))).toEqual([]);

    const real = realUpdate(root, realConf);
    expect(ours.links).toEqual(real.links);
    expect(ours.bundle.equals(real.bundle)).toBe(true);

    const pemLinks = ours.links.filter((l) => l.path.endsWith('.pem'));
    const hashLinks = ours.links.filter((l) => /\/[0-9a-f]{8}\.\d+$/.test(l.path));
    expect(pemLinks).toHaveLength(certs.length);
    expect(hashLinks).toHaveLength(certs.length);
    expect(pemLinks).toContainEqual({
      path: 'etc/ssl/certs/ISRG_Root_X1.pem',
      target: '/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt',
    });
  });

  it('synthetic tree: collisions, duplicates, odd names and files, CRLs', () => {
    const gen = tmp();
    const same1 = makeCert(gen, 'same1', '/CN=Same Subject/O=Collide');
    const same2 = makeCert(gen, 'same2', '/CN=  same   SUBJECT/O=collide'); // same canonical subject
    const other = makeCert(gen, 'other', '/CN=Other');
    makeCert(gen, 'issuer', '/CN=CRL Issuer');
    writeFileSync(join(gen, 'index.txt'), '');
    writeFileSync(join(gen, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ndefault_md=sha256\ndefault_crl_days=1\n');
    run('openssl', ['ca', '-gencrl', '-keyfile', 'issuer.key', '-cert', 'issuer.pem', '-out', 'crl.pem', '-config', 'ca.cnf'], { cwd: gen });
    const crl = readFileSync(join(gen, 'crl.pem'));
    const trusted = Buffer.from(run('openssl', ['x509', '-in', join(gen, 'other.pem'), '-trustout', '-addtrust', 'serverAuth']));
    const der = pemToDer(other);
    const hSame = opensslSubjectHash(same1);
    expect(opensslSubjectHash(same2)).toBe(hSame);

    const files: CaCertificateFile[] = [
      { relPath: 'mozilla/B_Same.crt', content: same2 }, // sorts before "a_..." (strcmp): gets .0
      { relPath: 'mozilla/a_Same.crt', content: same1 },
      { relPath: 'mozilla/c_Same_duplicate.crt', content: same1 }, // identical cert: no hash link
      { relPath: 'mozilla/NoTrailingNewline.crt', content: other.subarray(0, other.length - 1) },
      { relPath: 'mozilla/Crlf.crt', content: Buffer.from(other.toString().replace(/\n/g, '\r\n')) },
      { relPath: 'mozilla/Trusted.crt', content: trusted },
      { relPath: 'mozilla/Der.crt', content: der }, // bundled and linked, but rehash skips DER
      { relPath: 'mozilla/Two.crt', content: Buffer.concat([same1, other]) }, // not exactly one cert
      { relPath: 'mozilla/Empty.crt', content: Buffer.alloc(0) },
      { relPath: 'mozilla/Paren_(X).crt', content: other },
      { relPath: 'mozilla/With Space.crt', content: other }, // word-split by the config script
      { relPath: 'mozilla/Comma,Name.crt', content: other }, // split by the postinst's tr ','
      { relPath: 'mozilla/README', content: Buffer.from('not a cert\n') },
      { relPath: 'Revocation.crt', content: crl }, // CRL: <issuer-hash>.r0
      { relPath: '1Top.crt', content: other }, // postinst's `uniq -c | sed` turns it into "!Top.crt"
      { relPath: 'local/Ünicode_Ça.crt', content: other },
    ];
    const root = tmp();
    writeTree(join(root, 'usr/share/ca-certificates'), files);
    const ours = buildCaCertificates(files);

    const realConf = realFreshConf(join(root, 'usr/share/ca-certificates'), join(root, 'fresh.conf'), '');
    expect(ours.confFile.toString()).toBe(realConf.toString());
    expect(realConf.toString()).toContain('\n!Top.crt\n');
    expect(realConf.toString()).toContain('\nmozilla/With\n');
    expect(realConf.toString()).toContain('\nSpace.crt\n');

    const real = realUpdate(root, realConf);
    expect(ours.links).toEqual(real.links);
    expect(ours.bundle.equals(real.bundle)).toBe(true);

    const link = (p: string): string | undefined => ours.links.find((l) => l.path === `etc/ssl/certs/${p}`)?.target;
    expect(link(`${hSame}.0`)).toBe('B_Same.pem');
    expect(link(`${hSame}.1`)).toBe('a_Same.pem');
    expect(link(`${hSame}.2`)).toBeUndefined();
    expect(link('Paren_=X=.pem')).toBe('/usr/share/ca-certificates/mozilla/Paren_(X).crt');
    expect(ours.links.some((l) => l.path.endsWith('.r0'))).toBe(true);
  });

  it('applies the .pem name mangling to conf lines with spaces, parens and commas', () => {
    expect(pemLinkName('/usr/share/ca-certificates/x/My CA (2), Inc.crt')).toBe('My_CA_=2=__Inc.pem');
    expect(pemLinkName('/usr/share/ca-certificates/.crt')).toBe('.crt.pem');
    const other = makeCert(tmp(), 'o', '/CN=Mangle');
    const files: CaCertificateFile[] = [
      { relPath: 'x/My CA (2), Inc.crt', content: other },
      { relPath: 'y/My CA (2), Inc.crt', content: other }, // same link name: last one wins
      { relPath: 'x/plain', content: other },
    ];
    const conf = Buffer.from('# hand-written\n!x/gone.crt\n  x/My CA (2), Inc.crt  \ny/My CA (2), Inc.crt\nx/plain\nmissing.crt\n');
    const root = tmp();
    writeTree(join(root, 'usr/share/ca-certificates'), files);
    const ours = updateCaCertificates(conf, files);
    const real = realUpdate(root, conf);
    expect(ours.links).toEqual(real.links);
    expect(ours.bundle.equals(real.bundle)).toBe(true);
  });

  it('numbers distinct certificates with the same subject .0 and .1 in file-name order', () => {
    const dir = tmp();
    const a = makeCert(dir, 'a', '/CN=Twin');
    const b = makeCert(dir, 'b', '/CN=Twin');
    const h = opensslSubjectHash(a);
    const { links } = buildCaCertificates([
      { relPath: 'm/Zed.crt', content: a },
      { relPath: 'm/Alpha.crt', content: b },
    ]);
    expect(links).toEqual([
      { path: `etc/ssl/certs/${h}.0`, target: 'Alpha.pem' },
      { path: `etc/ssl/certs/${h}.1`, target: 'Zed.pem' },
      { path: 'etc/ssl/certs/Alpha.pem', target: '/usr/share/ca-certificates/m/Alpha.crt' },
      { path: 'etc/ssl/certs/Zed.pem', target: '/usr/share/ca-certificates/m/Zed.crt' },
    ]);
  });

  it('writes the header plus a sorted, all-trusted list', () => {
    const conf = generateCaCertificatesConf(['mozilla/b.crt', 'mozilla/B.crt', 'mozilla/a_x.crt', 'mozilla/notes.txt']).toString();
    expect(conf.startsWith('# This file lists certificates that you wish to use or to ignore to be\n')).toBe(true);
    expect(conf.endsWith('#\nmozilla/B.crt\nmozilla/a_x.crt\nmozilla/b.crt\n')).toBe(true);
  });
});
