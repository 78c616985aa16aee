import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestPki {
  /** The throwaway CA's certificate (PEM), to pass as SMTP_TLS_CA_FILE. */
  caFile: string;
  /** A certificate for `hostname` signed by that CA. */
  leaf: KeyPair;
  /** A certificate for `hostname` signed by itself, like Debian's "snakeoil" on a stock Postfix. */
  selfSigned: KeyPair;
  dir: string;
  remove(): void;
}

// A config of our own, so the machine's openssl.cnf cannot add or clash with extensions.
const opensslConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @names
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[self]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @names
[names]
DNS.1 = HOSTNAME
`;

function openssl(dir: string, args: string[]) {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.error) throw new Error(`test certificates need the openssl CLI: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed:\n${result.stderr}`);
}

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A throwaway CA, a leaf certificate it signed and a self-signed certificate, all for `hostname`,
 * made with the openssl CLI in a temporary directory. The private keys never leave it; `remove()`
 * deletes it.
 */
export function createTestPki(hostname = 'localhost'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-tls-'));
  writeFileSync(join(dir, 'openssl.cnf'), opensslConfig.replace('HOSTNAME', hostname));
  const common = ['-config', 'openssl.cnf', '-days', '2'];
  openssl(dir, [
    'req',
    '-x509',
    ...newKey,
    ...common,
    '-extensions',
    'ca',
    '-subj',
    '/CN=paperboy test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  openssl(dir, [
    'req',
    '-new',
    ...newKey,
    '-config',
    'openssl.cnf',
    '-subj',
    `/CN=${hostname}`,
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    'openssl.cnf',
    '-extensions',
    'leaf',
    '-out',
    'leaf.pem',
  ]);
  openssl(dir, [
    'req',
    '-x509',
    ...newKey,
    ...common,
    '-extensions',
    'self',
    '-subj',
    `/CN=${hostname}`,
    '-keyout',
    'self.key',
    '-out',
    'self.pem',
  ]);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    caFile: join(dir, 'ca.pem'),
    leaf: { key: read('leaf.key'), cert: read('leaf.pem') },
    selfSigned: { key: read('self.key'), cert: read('self.pem') },
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
