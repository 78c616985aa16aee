import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { isPostgres, testDatabasePrefix, testPostgresUrl } from './database.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** Names of this run's PostgreSQL test databases start with it; the teardown drops them. */
    databasePrefix: string;
  }
}

/**
 * `TEST_DATABASE=postgres`: the server must answer, or the run fails here, loudly, before any test
 * (a PostgreSQL run is never quietly turned into an SQLite one).
 */
function checkPostgres() {
  const check = spawnSync('psql', [testPostgresUrl, '-tAc', 'select 1'], { encoding: 'utf8' });
  if (check.stdout?.trim() !== '1') {
    throw new Error(
      `TEST_DATABASE=postgres, but PostgreSQL at ${testPostgresUrl} does not answer: ${check.stderr}`,
    );
  }
}

function dropDatabases(prefix: string) {
  const list = spawnSync(
    'psql',
    [testPostgresUrl, '-tAc', `select datname from pg_database where datname like '${prefix}%'`],
    { encoding: 'utf8' },
  );
  for (const name of list.stdout.split('\n').filter(Boolean)) {
    spawnSync('psql', [testPostgresUrl, '-qc', `drop database if exists "${name}" with (force)`]);
  }
}

async function waitForPong(port: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`private redis-server on port ${port} did not answer`);
}

/**
 * SPEC §2: without REDIS_URL the suite starts a private redis-server on a free port (when the binary is
 * on PATH), so tests never touch a developer's data; otherwise it falls back to the default URL.
 */
export default async function setup(project: TestProject) {
  let server: ChildProcess | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    const hasBinary = spawnSync('redis-server', ['--version']).status === 0;
    if (hasBinary) {
      const port = await freePort();
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitForPong(port);
      url = `redis://127.0.0.1:${port}`;
    } else {
      url = 'redis://127.0.0.1:6379';
    }
  }
  project.provide('redisUrl', url);
  const databasePrefix = `${testDatabasePrefix}${process.pid}_`;
  project.provide('databasePrefix', databasePrefix);
  if (isPostgres) checkPostgres();
  return () => {
    server?.kill('SIGTERM');
    if (isPostgres) dropDatabases(databasePrefix);
  };
}
