import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/** The newest installed PostgreSQL's programs (Debian keeps them per version). */
function binDir(): string | undefined {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' }).stdout?.trim();
  if (fromConfig && existsSync(join(fromConfig, 'initdb'))) return fromConfig;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const found = versions
    .map((version) => join(root, version, 'bin'))
    .find((dir) => existsSync(join(dir, 'initdb')));
  return found;
}

export const canStartPrivatePostgres = binDir() !== undefined;

/**
 * A PostgreSQL server of this test's own (initdb in a temporary folder, a free port), so that the test
 * may restart it without disturbing the other test files that share the machine's server. PostgreSQL
 * refuses to run as root: as root, it runs as the `postgres` user.
 */
export async function startPrivatePostgres() {
  const bin = binDir();
  if (!bin) throw new Error('no PostgreSQL programs (initdb, pg_ctl) found');
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const commandFor = (program: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
  const run = (program: string, args: string[]) => {
    const result = spawnSync(...commandFor(program, args), { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr || result.stdout}`);
  };
  // Without blocking this process: the test's own SMTP server keeps answering meanwhile.
  const runAsync = (program: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(...commandFor(program, args), { stdio: 'ignore' });
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${program} exited ${code}`))));
    });
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--encoding', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  execFileSync('psql', [admin, '-qc', 'create database paperboy'], { stdio: 'pipe' });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/paperboy`,
    /** Stops the server (closing every connection, as a crash or a failover would) and starts it again. */
    restart: () => runAsync('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'restart']),
    /** Stops the server until `resume`. */
    pause: () => runAsync('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: () => runAsync('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']),
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
