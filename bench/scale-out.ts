import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchStore, cloneStore, createStore, storeNames } from './database.js';
import { msPer } from './db-load.js';
import {
  buildTemplateDatabase,
  describeDeliveryBounds,
  type PaperboyRun,
  recipient,
  runCosts,
  runPaperboy,
  type SmtpStats,
  startCountingSmtp,
  startPrivateRedis,
} from './delivery-kit.js';
import { type Benchmark, type BenchResult, format, type TargetCheck } from './harness.js';

/** 1, 2, 4, … up to `max` (and `max` itself). */
const workerCounts = (max: number) => {
  const counts: number[] = [];
  for (let n = 1; n < max; n *= 2) counts.push(n);
  counts.push(max);
  return counts;
};

export const scaleOut: Benchmark = {
  name: 'scale-out',
  description:
    'the delivery run with 1, 2, 4 `paperboy worker` processes on one Redis: rate, where the time goes, and exactly one email each',
  stores: ['sqlite', 'postgres'],
  sizes: {
    digests: { default: 3_000, description: 'digests to plan and send in each run' },
    papers: { default: 2_000, description: 'papers first seen today' },
    concurrency: { default: 20, description: 'SEND_CONCURRENCY of each worker' },
    workers: { default: 4, description: 'the most workers: runs with 1, 2, 4, … up to this many' },
  },
  async run({ sizes, seed, log, store }): Promise<BenchResult> {
    const digests = sizes.digests as number;
    const concurrency = sizes.concurrency as number;
    const directory = mkdtempSync(join(tmpdir(), 'paperboy-bench-scale-out-'));
    const redis = await startPrivateRedis();
    const smtp = await startCountingSmtp();
    const expected = Array.from({ length: digests }, (_, i) => recipient(i + 1));
    const stores: BenchStore[] = [];
    const cores = availableParallelism();
    try {
      const now = new Date();
      const template = await createStore(store, directory, 'template');
      stores.push(template);
      log(
        `building a database: ${format.count(sizes.papers as number)} papers, ${format.count(digests)} subscribers`,
      );
      await buildTemplateDatabase(template.url, {
        seed,
        now,
        papers: sizes.papers as number,
        subscribers: digests,
      });

      const results: { workers: number; run: PaperboyRun; smtp: SmtpStats }[] = [];
      for (const workerCount of workerCounts(sizes.workers as number)) {
        const runStore = await cloneStore(template, directory, `run_${workerCount}`);
        stores.push(runStore);
        const run = {
          databaseUrl: runStore.url,
          redisUrl: redis.url,
          prefix: `bench-scale-${process.pid}-${workerCount}`,
          smtpUrl: smtp.url,
          concurrency,
        };
        await smtp.reset();
        log(`${workerCount} worker(s)`);
        const result = await runPaperboy({ run, store: runStore, workerCount, expected: digests, log });
        // Anything sent late (a duplicate after a lock expiry) would arrive by now.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        results.push({ workers: workerCount, run: result, smtp: await smtp.stats(expected) });
        await runStore.drop();
      }

      const single = results[0] as (typeof results)[number];
      const singleRate = runCosts(single.run, digests).rate;
      const checks: TargetCheck[] = results.map((result) => ({
        name: `${result.workers} worker(s): every recipient exactly one email`,
        target: `${format.count(digests)} × 1`,
        measured: `${format.count(result.smtp.recipients)} recipients, ${result.smtp.missing} missing, ${result.smtp.duplicates} duplicates`,
        isMet:
          result.smtp.missing === 0 &&
          result.smtp.duplicates === 0 &&
          result.smtp.messages === digests &&
          result.run.statuses.sent === digests,
      }));
      const isPostgres = store === 'postgres';
      const costs = results.map((result) => ({
        workers: result.workers,
        cost: runCosts(result.run, digests),
      }));
      const widest = results.at(-1) as (typeof results)[number];
      return {
        tables: [
          {
            title: `Scale-out: ${format.count(digests)} digests, SEND_CONCURRENCY ${concurrency} per worker, one Redis, ${isPostgres ? 'one PostgreSQL database' : 'one SQLite file'}`,
            columns: [
              { key: 'workers', header: 'workers' },
              { key: 'time', header: 'plan → last sent' },
              { key: 'rate', header: 'digests/s' },
              { key: 'relative', header: 'vs 1 worker' },
              { key: 'sendRate', header: 'sending only' },
              { key: 'messages', header: 'at SMTP' },
              { key: 'recipients', header: 'recipients' },
              { key: 'missing', header: 'missing' },
              { key: 'duplicates', header: 'duplicates' },
              { key: 'split', header: 'CPU per worker' },
              { key: 'rss', header: 'peak RSS per worker' },
            ],
            rows: results.map((result) => ({
              workers: String(result.workers),
              time: format.ms(result.run.totalMs),
              rate: format.perSecond(digests / (result.run.totalMs / 1000)),
              relative: `${(digests / (result.run.totalMs / 1000) / singleRate).toFixed(2)}×`,
              sendRate: format.perSecond((digests - 1) / (result.run.sendSpanMs / 1000)),
              messages: format.count(result.smtp.messages),
              recipients: format.count(result.smtp.recipients),
              missing: format.count(result.smtp.missing),
              duplicates: format.count(result.smtp.duplicates),
              split: result.run.workers.map((worker) => format.ms(worker.cpuMs)).join(' / '),
              rss: result.run.workers
                .map((worker) => format.mb(Math.max(worker.peakRss, worker.highWaterMark)))
                .join(' / '),
            })),
          },
          {
            title: `Where the time goes (${storeNames[store]}; per digest unless marked; ${cores} cores)`,
            columns: [
              { key: 'workers', header: 'workers' },
              { key: 'rate', header: 'digests/s' },
              { key: 'relative', header: 'vs 1 worker' },
              { key: 'workerCpu', header: 'worker CPU' },
              { key: 'workerCores', header: 'workers: cores used' },
              { key: 'db', header: 'DB time' },
              { key: 'serverCpu', header: 'PostgreSQL CPU' },
              { key: 'writeLock', header: 'write lock held' },
              { key: 'idleTx', header: 'idle in transaction' },
              { key: 'poolWait', header: 'pool wait' },
              { key: 'locks', header: 'lock waits' },
              { key: 'machine', header: 'machine: cores busy' },
            ],
            rows: costs.map(({ workers, cost }) => ({
              workers: String(workers),
              rate: format.perSecond(cost.rate),
              relative: `${(cost.rate / singleRate).toFixed(2)}×`,
              workerCpu: msPer(cost.workerCpuPerDigest),
              workerCores: cost.workerCores.toFixed(2),
              db: msPer(cost.dbPerDigest),
              serverCpu: isPostgres ? msPer(cost.serverCpuPerDigest) : 'in worker',
              writeLock: isPostgres ? 'n/a' : msPer(cost.writeLockPerDigest),
              idleTx: isPostgres ? msPer(cost.idleInTransactionPerDigest) : 'n/a',
              poolWait: isPostgres ? msPer(cost.poolWaitPerDigest) : 'n/a',
              locks: `${format.count(cost.lockWaits)}${cost.lockWaits > 0 ? ` (${format.ms(cost.lockWaitMs)})` : ''}`,
              machine: cost.machineCores.toFixed(2),
            })),
          },
        ],
        targets: checks,
        notes: [
          'counts per recipient are kept by the SMTP server (smtp-server in a child process); missing = expected addresses that got nothing',
          `every worker shares the machine's ${cores} cores with Redis, the SMTP server, the benchmark process${isPostgres ? ' and PostgreSQL' : ''}: on 2 cores more workers cannot multiply the rate`,
          isPostgres
            ? "DB time = pg_stat_database.active_time of every session (workers and planner); PostgreSQL CPU = the backends' CPU from /proc; lock waits = samples of pg_stat_activity (every 20 ms) in which a backend waited on a lock; idle in transaction = a transaction open while its worker did something else (idle_in_transaction_time); pool wait = time to get a pooled connection (DATABASE_POOL_SIZE, default SEND_CONCURRENCY + 2 per worker)"
            : 'DB time = time inside better-sqlite3 calls in the workers and the planner (part of their CPU); write lock held = BEGIN IMMEDIATE to COMMIT plus autocommit writes; lock waits = writes that waited ≥ 1 ms for another process (a WAL checkpoint in a commit can count too)',
          'one run per worker count (--warmup and --runs are not used); each run on a fresh copy of the same database',
        ],
        data: {
          digests,
          concurrency,
          store,
          results: results.map((result) => ({
            ...result,
            rate: runCosts(result.run, digests).rate,
            cost: runCosts(result.run, digests),
          })),
        },
        summary: costs.flatMap(({ workers, cost }) => [
          { what: `${workers} worker(s): digests/s`, text: format.perSecond(cost.rate), value: cost.rate },
          {
            what: `${workers} worker(s): vs 1 worker`,
            text: `${(cost.rate / singleRate).toFixed(2)}×`,
            value: cost.rate / singleRate,
          },
          {
            what: `${workers} worker(s): worker CPU per digest`,
            text: msPer(cost.workerCpuPerDigest),
            value: cost.workerCpuPerDigest,
          },
          {
            what: `${workers} worker(s): DB time per digest`,
            text: msPer(cost.dbPerDigest),
            value: cost.dbPerDigest,
          },
          {
            what: `${workers} worker(s): lock waits`,
            text: format.count(cost.lockWaits),
            value: cost.lockWaits,
          },
        ]),
        bounds: [
          ...describeDeliveryBounds(store, widest.run, digests, cores).map(
            (line) => `${widest.workers} workers: ${line}`,
          ),
          secondMachine(store, costs, cores),
        ],
      };
    } finally {
      await smtp.close();
      await redis.stop();
      for (const created of stores) await created.drop().catch(() => {});
      rmSync(directory, { recursive: true, force: true });
    }
  },
};

/** Would workers on a second machine help? From the per-digest costs of the runs. */
function secondMachine(
  store: BenchStore['store'],
  costs: readonly { workers: number; cost: ReturnType<typeof runCosts> }[],
  cores: number,
): string {
  const one = (costs[0] as (typeof costs)[number]).cost;
  const last = costs.at(-1) as (typeof costs)[number];
  const perSecond = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
  const saturated = last.cost.machineCores >= cores * 0.85;
  const head = `second machine: with ${last.workers} workers the machine had ${last.cost.machineCores.toFixed(2)} of ${cores} cores busy (${saturated ? 'saturated' : 'not saturated'}), the workers ${last.cost.workerCores.toFixed(2)} of them; worker CPU per digest ${one.workerCpuPerDigest.toFixed(2)} → ${last.cost.workerCpuPerDigest.toFixed(2)} ms from 1 to ${last.workers} workers`;
  if (store === 'sqlite') {
    return `${head}. SQLite cannot be shared with another machine (one file, local locks); on this one the write lock held ${last.cost.writeLockPerDigest.toFixed(3)} ms per digest caps one file at ≈ ${perSecond(1000 / last.cost.writeLockPerDigest)}, with ${last.cost.lockWaits} lock waits at ${last.workers} workers`;
  }
  const serverCap = (cores * 1000) / last.cost.serverCpuPerDigest;
  const headroom = serverCap / last.cost.rate;
  const verdict =
    headroom >= 1.5
      ? `so a second machine's worth of workers would help: up to ≈ ${headroom.toFixed(1)}× before PostgreSQL's CPU is the bound${last.cost.lockWaits > 0 ? ' (lock waits permitting)' : ''}, each worker core adding ≈ ${perSecond(1000 / last.cost.workerCpuPerDigest)}`
      : 'so more workers elsewhere would not help much: PostgreSQL itself is near its CPU bound here';
  return `${head}. PostgreSQL needed ${last.cost.serverCpuPerDigest.toFixed(2)} ms of CPU and ${last.cost.dbPerDigest.toFixed(2)} ms of backend time per digest, ${last.cost.lockWaits} lock-wait samples: with the workers on a second machine, PostgreSQL's CPU alone would allow ≈ ${perSecond(serverCap)} on these ${cores} cores (Redis and SMTP aside), ${headroom.toFixed(1)}× the rate measured; ${verdict}`;
}
