import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { tableNames, testDatabaseUrl } from '../support/database.js';
import { recordedArxivPage, send, startFeedServer } from '../support/feed-server.js';
import { freePort } from '../support/ports.js';

const bin = new URL('../../bin/paperboy.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'paperboy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A database of its own on the test store: an SQLite file in a new folder, or a new PostgreSQL database. */
const freshDatabaseUrl = () => testDatabaseUrl(mkdtempSync(join(dir, 'db-')));

const baseEnv = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  SECRET_KEY: 'cli-test-secret-key-0123456789abcdefghij',
  DATABASE_URL: freshDatabaseUrl(),
  OUTBOX_DIR: join(dir, 'outbox'),
  LOG_LEVEL: 'warn',
};

/** As `run`, without blocking this process: for a test that serves the feed itself. */
function runAsync(args: string[], env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...baseEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [bin, ...args], {
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

// Every test starts paperboy once or more, each a Node start-up of a few seconds on a busy machine.
/** A long-running command (`start`, `worker`), once it says it is running (or after 15 s); its output so far. */
async function startCommand(command: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, command], {
    env: { ...baseEnv, REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 15_000;
  while (!output.includes('is running') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  return { child, output };
}

/** SIGTERM, and the exit status it ends with. */
function stopCommand(child: ReturnType<typeof spawn>): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('paperboy command line', { timeout: 60_000 }, () => {
  it('fails at once with one clear line when Redis cannot be reached', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const result = run(['start'], { REDIS_URL: url });
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^paperboy: Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ .*redis-server/,
    );
    expect(result.stderr).not.toContain('hunter2');
  });

  it('lists every configuration problem in one message and exits non-zero', () => {
    const result = run(['start'], { PORT: 'eighty', SEND_CONCURRENCY: '0', MAIL_FROM: 'nobody' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    for (const name of ['PORT', 'SEND_CONCURRENCY', 'MAIL_FROM'])
      expect(result.stderr).toContain(`- ${name}:`);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('answers an unknown command with usage and exit status 2', () => {
    const result = run(['frobnicate'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: paperboy');
  });

  it('migrate creates the tables and can run again', async () => {
    const url = freshDatabaseUrl();
    for (let i = 0; i < 2; i++) expect(run(['migrate'], { DATABASE_URL: url }).status).toBe(0);
    const db = await openDatabase(loadConfig({ DATABASE_URL: url }).database);
    try {
      expect(await tableNames(db)).toEqual(
        expect.arrayContaining(['subscribers', 'subscriber_topics', 'subscriber_events']),
      );
    } finally {
      await db.close();
    }
  });

  it('ingests the sample file and prints the summary line; a second run updates nothing', () => {
    const env = { DATABASE_URL: freshDatabaseUrl(), LOG_LEVEL: 'warn' };
    const sample = new URL('../../examples/papers.json', import.meta.url).pathname;
    const first = run(['ingest', sample], env);
    expect(first.status).toBe(0);
    expect(first.stdout.trim()).toBe('inserted 110, updated 0, rejected 0');
    expect(run(['ingest', sample], env).stdout.trim()).toBe('inserted 0, updated 0, rejected 0');
  });

  it('prints one line per hf-daily date fetched and exits 1 when any date failed', async () => {
    // The command runs on the real clock: on an empty store, yesterday and today in UTC. The oldest
    // date asked for fails (whatever the date, should the run cross midnight).
    let failing: string | undefined;
    const feed = await startFeedServer((_req, res, url) => {
      const date = url.searchParams.get('date') ?? '';
      failing ??= date;
      if (date === failing) send(res, 404, 'no');
      else send(res, 200, '[]');
    });
    try {
      const env = {
        DATABASE_URL: freshDatabaseUrl(),
        LOG_LEVEL: 'silent',
        HF_API_URL: feed.url,
        INGEST_RETRIES: '0',
      };
      const first = await runAsync(['ingest', 'hf-daily'], env);
      const [oldest, newest] = feed.requests.splice(0).map((url) => url.searchParams.get('date'));
      expect(first.status).toBe(1);
      expect(first.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^hf-daily ${oldest} failed: .*404`)),
        `hf-daily ${newest}: inserted 0, updated 0, rejected 0`,
      ]);
      expect(first.stderr.trim()).toBe('paperboy: ingest hf-daily: 1 of 2 dates failed');

      failing = 'none';
      const second = await runAsync(['ingest', 'hf-daily'], env);
      expect(second.status).toBe(0);
      // The failed date again, within the last three lists it always re-reads.
      expect(second.stdout).toContain(`hf-daily ${oldest}: inserted 0, updated 0, rejected 0`);
    } finally {
      await feed.close();
    }
  });

  it('prints how far an arXiv run read back: the newest first, then back to what it stored', async () => {
    const feed = await startFeedServer(recordedArxivPage);
    try {
      const env = { DATABASE_URL: freshDatabaseUrl(), LOG_LEVEL: 'silent', ARXIV_API_URL: feed.url };
      const first = await runAsync(['ingest', 'arxiv:cs.AI+cs.LG'], env);
      expect(first.stdout.trim()).toBe(
        'arxiv:cs.AI+cs.LG: inserted 25, updated 0, rejected 0; read 1 page (25 entries): the newest, as this source was never read before',
      );
      const second = await runAsync(['ingest', 'arxiv:cs.AI+cs.LG'], env);
      expect(second.stdout.trim()).toBe(
        'arxiv:cs.AI+cs.LG: inserted 0, updated 0, rejected 0; read 1 page (25 entries), back to 2026-07-30 17:01 UTC, past the newest submission stored before (2026-07-30 17:59 UTC)',
      );
      const dated = await runAsync(['ingest', 'arxiv:cs.AI', '--date', '2026-07-30'], env);
      expect(dated.status).toBe(1);
      expect(dated.stderr.trim()).toBe(
        'paperboy: ingest arxiv:cs.AI failed: --date is for hf-daily only; arxiv:cs.AI has no dates',
      );
    } finally {
      await feed.close();
    }
  });

  it('fails an ingest of a broken or missing file with one line and exit status 1', () => {
    const env = { DATABASE_URL: freshDatabaseUrl(), LOG_LEVEL: 'silent' };
    const broken = join(dir, 'broken.xml');
    writeFileSync(broken, '<feed><entry>');
    for (const file of [broken, join(dir, 'missing.json')]) {
      const result = run(['ingest', file], env);
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^paperboy: ingest .* failed: /);
    }
    expect(run(['ingest'], env).status).toBe(2);
    expect(run(['ingest', 'hf-daily', '--date', 'tomorrow'], env).stderr).toMatch(/YYYY-MM-DD/);
  });

  it('serves HTTP and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child } = await startCommand('start', { QUEUE_PREFIX: 'cli-test', PORT: String(port) });
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ready', checks: { database: true, redis: true } });
    expect(await stopCommand(child)).toBe(0);
  });

  it('runs a worker that answers /metrics and /readyz on METRICS_PORT, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child, output } = await startCommand('worker', {
      QUEUE_PREFIX: 'cli-test-worker',
      METRICS_PORT: String(port),
    });
    expect(output).toContain(`paperboy worker is running (metrics at http://127.0.0.1:${port}/metrics)`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('# TYPE paperboy_digest_send_seconds histogram');
    expect(metrics).toMatch(/^paperboy_queue_workers\{queue="send"\} [1-9]/m);
    expect(await stopCommand(child)).toBe(0);
  });

  it('stops a worker with one clear line when its METRICS_PORT is taken', async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)),
    );
    try {
      const result = run(['worker'], {
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: 'cli-test-taken',
        METRICS_PORT: String(port),
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `paperboy: METRICS_PORT: cannot listen on 127.0.0.1:${port}: another process holds it (each worker on one machine needs its own METRICS_PORT; 0 picks a free one, off turns it off)`,
      ]);
    } finally {
      holder.close();
    }
  });
});
