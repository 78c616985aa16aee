import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { createLogger } from '../../src/log.js';
import { type Runtime, startRuntime } from '../../src/main/runtime.js';
import { parsePapersJson } from '../../src/papers/sources/json.js';
import { upsertPapers } from '../../src/papers/store.js';
import { testConfig, testSecret } from '../support/app.js';
import { handedOverAtCrash } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { fixture } from '../support/feed-server.js';
import { freePort } from '../support/ports.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

const bin = new URL('../../bin/paperboy.js', import.meta.url).pathname;
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** A Redis of this test's own that keeps its data across a restart (append-only file, as production should). */
async function startPersistentRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-redis-'));
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await until(
      () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG',
      10_000,
      'redis',
    );
  };
  const stop = async () => {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server?.kill('SIGTERM');
    await exited;
  };
  await start();
  cleanups.push(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}

/**
 * A batch of digests planned into the real test store and Redis, sent by `paperboy worker` processes
 * to an SMTP server that takes 150 ms per message.
 */
async function setupBatch(subscriberCount: number) {
  const redis = await startPersistentRedis();
  const smtp = await startSmtpSink({ delayMs: 150 });
  cleanups.push(() => smtp.close());
  const { config, dir } = testConfig({ REDIS_URL: redis.url, SMTP_URL: smtp.url, JOB_LOCK_MS: '2000' });
  const planner = await startRuntime(config, { http: false, workers: false, log: createLogger('silent') });
  cleanups.push(async () => {
    await planner.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const now = new Date();
  await upsertPapers(
    planner.db,
    parsePapersJson(JSON.parse(fixture('hf-daily-papers-2026-03-10.json')), now).records,
    'hf-daily',
    now,
  );
  for (let i = 0; i < subscriberCount; i++)
    await seedSubscriber(planner.db, { email: `r${i}@example.org`, maxPapers: 3 });

  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: config.database.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: config.redis.prefix,
    SMTP_URL: smtp.url,
    SECRET_KEY: testSecret,
    SEND_CONCURRENCY: '4',
    JOB_LOCK_MS: '2000',
    LOG_LEVEL: 'warn',
    // Several workers on one machine: each its own free metrics port.
    METRICS_PORT: '0',
  };
  const workers: ChildProcess[] = [];
  const startWorker = () => {
    const child = spawn(process.execPath, [bin, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    workers.push(child);
    return child;
  };
  cleanups.push(() => {
    for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { redis, smtp, planner, startWorker, subscriberCount };
}

/**
 * Every digest `sent`, never two emails to one address, and exactly one to every address but those a
 * killed worker left in the loss window (`handedOverAtCrash`): at most `mayLose`, one per send that
 * was in flight when it died (none when no worker was killed).
 */
async function expectDelivered(smtp: SmtpSink, planner: Runtime, count: number, mayLose = 0) {
  const perAddress = new Map<string, number>();
  for (const mail of smtp.received)
    for (const to of mail.envelopeTo) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  const statuses = await planner.db.all(
    sql`select status, count(*) as n from digests group by status order by status`,
  );
  expect(statuses).toEqual([{ status: 'sent', n: count }]);
  const handedOver = await handedOverAtCrash(planner.db);
  const addresses = Array.from({ length: count }, (_, i) => `r${i}@example.org`);
  const lost = addresses.filter((address) => handedOver.has(address) && !perAddress.has(address));
  expect(lost.length).toBeLessThanOrEqual(mayLose);
  for (const address of addresses)
    if (!lost.includes(address)) expect(perAddress.get(address), address).toBe(1);
  expect(smtp.received).toHaveLength(count - lost.length);
}

const settled = (planner: Runtime) => async () =>
  (await planner.db.value<number>(
    sql`select count(*) from digests where status in ('queued', 'sending')`,
  )) === 0;

// Each test starts `paperboy worker` processes (seconds each on a busy machine) and may wait up to
// 60 s for the batch to settle: more than the default 30 s.
describe.skipIf(!hasRedisServer)('digest delivery through crashes and restarts', { timeout: 90_000 }, () => {
  it('never sends twice when a worker is killed mid-batch, and misses only a send caught between record and dot', async () => {
    const batch = await setupBatch(40);
    const first = batch.startWorker();
    await planDigests({ ctx: batch.planner.ctx, input: { mode: 'all' } });
    await until(() => batch.smtp.received.length >= 10, 30_000, 'the first emails');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const midway = batch.smtp.received.length;
    expect(midway).toBeLessThan(40);

    batch.startWorker();
    await until(settled(batch.planner), 60_000, 'all digests to finish');
    await new Promise((resolve) => setTimeout(resolve, 500)); // anything late would show up now
    await expectDelivered(batch.smtp, batch.planner, 40, 4); // SEND_CONCURRENCY sends in flight
  });

  it('completes the batch when Redis restarts in the middle of it', async () => {
    const batch = await setupBatch(30);
    batch.startWorker();
    await planDigests({ ctx: batch.planner.ctx, input: { mode: 'all' } });
    await until(() => batch.smtp.received.length >= 8, 30_000, 'the first emails');
    await batch.redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await batch.redis.start();
    await until(settled(batch.planner), 60_000, 'all digests to finish');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expectDelivered(batch.smtp, batch.planner, 30);
  });

  it('finishes the jobs in hand on SIGTERM and exits 0, leaving the rest queued', async () => {
    const batch = await setupBatch(30);
    const worker = batch.startWorker();
    await planDigests({ ctx: batch.planner.ctx, input: { mode: 'all' } });
    await until(() => batch.smtp.received.length >= 5, 30_000, 'the first emails');
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    const rows = await batch.planner.db.all<{ status: string; n: number }>(
      sql`select status, count(*) as n from digests group by status order by status`,
    );
    const by = Object.fromEntries(rows.map((row) => [row.status, row.n]));
    expect(by.sending).toBeUndefined(); // nothing left half-done
    expect(by.sent).toBe(batch.smtp.received.length);
    expect((by.sent ?? 0) + (by.queued ?? 0)).toBe(30);
  });
});
