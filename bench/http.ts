import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { sql } from '../src/db/sql.js';
import { startRuntime } from '../src/main/runtime.js';
import { resolveSecretKey } from '../src/main/secret.js';
import { ingestPapers } from '../src/papers/ingest.js';
import { type BenchStore, createStore, storeNames, withApplicationName } from './database.js';
import { cores, type DbLoad, describeWaitEvents, LoadMeter } from './db-load.js';
import { readerTopics } from './fixtures/topics.js';
import { type Benchmark, type BenchResult, format, type TargetCheck } from './harness.js';

const targets = { requestsPerSecond: 1_500, p99Ms: 50 };

/** Each preview request asks for one of these. */
const previewTopics = readerTopics;

interface LoadResult {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Addresses the service answered 202 for (POST only). */
  accepted: string[];
}

// autocannon runs in a worker thread: its own event loop, so the client's work never delays the
// server's callbacks, though both share the machine's cores. It is CommonJS, hence the eval source.
const loadSource = `
const { workerData, parentPort } = require('node:worker_threads');
const autocannon = require(workerData.autocannonPath);
const { url, kind, duration, connections, topics, runId } = workerData;
let next = 0;
const accepted = [];
const request =
  kind === 'subscribe'
    ? {
        method: 'POST',
        path: '/api/subscriptions',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req, context) => {
          const n = next++;
          context.email = 'bench-' + runId + '-' + n + '@example.org';
          const body = { email: context.email, topics: [topics[n % topics.length], topics[(n * 7 + 3) % topics.length]] };
          return { ...req, body: JSON.stringify(body) };
        },
        onResponse: (status, _body, context) => {
          if (status === 202) accepted.push(context.email);
        },
      }
    : {
        method: 'GET',
        setupRequest: (req) => {
          const q = topics[next++ % topics.length];
          const route = kind === 'feed' ? '/feeds/topic.atom?q=' : '/api/topics/preview?q=';
          return { ...req, path: route + encodeURIComponent(q) };
        },
      };
const options = { url, duration, connections, pipelining: 1, requests: [request] };
autocannon(options, (error, raw) => {
  if (error) throw error;
  // Off the main thread autocannon hands back encoded histograms; its own aggregation decodes them.
  const result = autocannon.aggregateResult([raw], options);
  const statusCodes = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count;
  parentPort.postMessage({
    requestsPerSecond: result.requests.total / (result.duration || duration),
    total: result.requests.total,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    accepted,
  });
});
`;

function runLoad(options: {
  url: string;
  kind: 'subscribe' | 'preview' | 'feed';
  duration: number;
  connections: number;
  runId: string;
}): Promise<LoadResult> {
  const autocannonPath = createRequire(import.meta.url).resolve('autocannon');
  const worker = new Worker(loadSource, {
    eval: true,
    execArgv: [],
    workerData: { ...options, autocannonPath, topics: previewTopics },
  });
  return new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', (result: LoadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

export const http: Benchmark = {
  name: 'http',
  description:
    'HTTP API under load (issues 7, 15): autocannon on loopback against POST /api/subscriptions, GET /api/topics/preview and GET /feeds/topic.atom',
  stores: ['sqlite', 'postgres'],
  sizes: {
    duration: { default: 10, description: 'seconds of load per endpoint' },
    connections: { default: 20, description: 'concurrent autocannon connections' },
  },
  async run({ seed, sizes, log, store }): Promise<BenchResult> {
    const duration = sizes.duration as number;
    const connections = sizes.connections as number;
    const directory = mkdtempSync(join(tmpdir(), 'paperboy-bench-'));
    const queuePrefix = `bench-${randomUUID().slice(0, 8)}`;
    const benchStore: BenchStore = await createStore(store, directory, 'http');
    const config = resolveSecretKey(
      loadConfig({
        NODE_ENV: 'production',
        PORT: '0',
        DATABASE_URL: withApplicationName(benchStore.url, 'pb-service'),
        OUTBOX_DIR: join(directory, 'outbox'),
        REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: queuePrefix,
        SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789',
        // The per-address rate limit is what a benchmark from one address would hit first.
        RATE_LIMIT_PER_MINUTE: '1000000',
        PREVIEW_RATE_LIMIT_PER_MINUTE: '1000000',
        // Production wants a relay; this HTTP-only process never sends, so nothing listens there.
        SMTP_URL: 'smtp://127.0.0.1:2525',
        LOG_LEVEL: 'warn',
      }),
    );
    log(`starting the service (HTTP, no workers), queue prefix ${queuePrefix}`);
    const runtime = await startRuntime(config, { http: true, workers: false, log: pino({ level: 'warn' }) });
    const meter = await LoadMeter.start(benchStore);
    try {
      const url = runtime.url as string;
      const sample = fileURLToPath(new URL('../examples/papers.json', import.meta.url));
      const ingested = await ingestPapers({ ctx: runtime.ctx, input: { source: sample } });
      log(`ingested ${ingested.inserted} sample papers for the previews`);

      // A short warm-up per endpoint (JIT, SQLite page cache, Redis connections), not reported.
      const runId = `${seed}-${Date.now().toString(36)}`;
      log('warming up (2 s per endpoint)');
      await runLoad({ url, kind: 'preview', duration: 2, connections, runId: `w${runId}` });
      await runLoad({ url, kind: 'subscribe', duration: 2, connections, runId: `w${runId}` });
      const countSubscribers = async () =>
        (await runtime.db.value<number>(sql`select count(*) from subscribers`)) ?? 0;
      const before = await countSubscribers();

      // What each endpoint's load cost: this process's CPU (the service, and autocannon's thread) and the database's.
      const measure = async (kind: 'subscribe' | 'preview' | 'feed') => {
        const mark = await meter.mark('start');
        const cpuStart = process.cpuUsage();
        const result = await runLoad({ url, kind, duration, connections, runId });
        const cpu = process.cpuUsage(cpuStart);
        const load = meter.between(mark, await meter.mark('end'), { apps: ['pb-service'] });
        return { result, load, cpuMs: (cpu.user + cpu.system) / 1000 };
      };
      log(`POST /api/subscriptions for ${duration} s, ${connections} connections`);
      const subscribeRun = await measure('subscribe');
      const subscribe = subscribeRun.result;
      log(`GET /api/topics/preview for ${duration} s, ${connections} connections`);
      const previewRun = await measure('preview');
      const preview = previewRun.result;
      // The same topics as feeds: the first request of each matches and renders, the rest are cached.
      log(`GET /feeds/topic.atom for ${duration} s, ${connections} connections`);
      const feedRun = await measure('feed');

      // Every address answered 202 must be a row now; the service may also have stored a few whose
      // answers came after autocannon stopped listening.
      const stored = new Set(
        await runtime.db.column<string>(
          sql`select email from subscribers where email like ${`bench-${runId}-%`}`,
        ),
      );
      const missing = subscribe.accepted.filter((email) => !stored.has(email)).length;
      const storedCount = stored.size;
      const after = await countSubscribers();

      const failures = (result: LoadResult) => result.errors + result.timeouts + result.non2xx;
      const endpoints = [
        {
          name: 'POST /api/subscriptions',
          result: subscribe,
          load: subscribeRun.load,
          cpuMs: subscribeRun.cpuMs,
        },
        { name: 'GET /api/topics/preview', result: preview, load: previewRun.load, cpuMs: previewRun.cpuMs },
        { name: 'GET /feeds/topic.atom', result: feedRun.result, load: feedRun.load, cpuMs: feedRun.cpuMs },
      ];
      const isPostgres = store === 'postgres';
      const per = (ms: number, result: LoadResult) => format.us((ms * 1000) / Math.max(1, result.total));
      const lockText = (load: DbLoad) =>
        `${format.count(load.lockWaits)}${load.lockWaits > 0 ? ` (${format.ms(load.lockWaitMs)})` : ''}`;
      const checks: TargetCheck[] = endpoints.flatMap(({ name, result }) => [
        {
          name: `${name}: requests per second`,
          target: `≥ ${format.count(targets.requestsPerSecond)}/s`,
          measured: format.perSecond(result.requestsPerSecond),
          isMet: result.requestsPerSecond >= targets.requestsPerSecond,
        },
        {
          name: `${name}: p99 latency`,
          target: `< ${targets.p99Ms} ms`,
          measured: `${result.p99} ms`,
          isMet: result.p99 < targets.p99Ms,
        },
        {
          name: `${name}: errors, timeouts and non-2xx`,
          target: '0',
          measured: format.count(failures(result)),
          isMet: failures(result) === 0,
        },
      ]);
      checks.push({
        name: 'every 202 answered subscription is in the database',
        target: `${format.count(subscribe.accepted.length)} present`,
        measured: `${format.count(subscribe.accepted.length - missing)} present`,
        isMet: missing === 0 && subscribe.accepted.length > 0,
      });

      return {
        tables: [
          {
            title: `Loopback load, ${connections} connections, ${duration} s per endpoint (autocannon in a worker thread of the service's process)`,
            columns: [
              { key: 'endpoint', header: 'endpoint', align: 'left' },
              { key: 'total', header: 'requests' },
              { key: 'rate', header: 'req/s' },
              { key: 'p50', header: 'p50' },
              { key: 'p90', header: 'p90' },
              { key: 'p99', header: 'p99' },
              { key: 'max', header: 'max' },
              { key: 'codes', header: 'status codes', align: 'left' },
              { key: 'failed', header: 'errors/timeouts/non-2xx' },
            ],
            rows: endpoints.map(({ name, result }) => ({
              endpoint: name,
              total: format.count(result.total),
              rate: format.perSecond(result.requestsPerSecond),
              p50: `${result.p50} ms`,
              p90: `${result.p90} ms`,
              p99: `${result.p99} ms`,
              max: `${result.max} ms`,
              codes: Object.entries(result.statusCodes)
                .map(([code, count]) => `${code}×${count}`)
                .join(' '),
              failed: `${result.errors}/${result.timeouts}/${result.non2xx}`,
            })),
          },
          {
            title: `What each request cost (${storeNames[store]}; per request, over the measured run)`,
            columns: [
              { key: 'endpoint', header: 'endpoint', align: 'left' },
              { key: 'cpu', header: 'process CPU' },
              { key: 'cores', header: 'process cores' },
              { key: 'db', header: 'DB time' },
              { key: 'server', header: 'PostgreSQL CPU' },
              { key: 'idleTx', header: 'idle in transaction' },
              { key: 'pool', header: 'pool wait' },
              { key: 'waits', header: 'waits in PostgreSQL (sampled)' },
              { key: 'locks', header: 'lock waits' },
              { key: 'machine', header: 'machine cores busy' },
            ],
            rows: endpoints.map(({ name, result, load, cpuMs }) => ({
              endpoint: name,
              cpu: per(cpuMs, result),
              cores: format.share(cpuMs / load.wallMs),
              db: per(load.dbMs, result),
              server: isPostgres ? per(load.serverCpuMs, result) : 'in process',
              idleTx: isPostgres ? per(load.idleInTransactionMs, result) : 'n/a',
              pool: isPostgres ? per(load.poolWaitMs, result) : 'n/a',
              waits: isPostgres ? describeWaitEvents(load, Math.max(1, result.total)) : 'n/a',
              locks: lockText(load),
              machine: format.share(load.machineBusyMs / load.wallMs),
            })),
          },
          {
            title: 'Subscriptions in the database',
            columns: [
              { key: 'what', header: 'what', align: 'left' },
              { key: 'value', header: 'value' },
            ],
            rows: [
              {
                what: 'answered 202 during the measured run',
                value: format.count(subscribe.accepted.length),
              },
              { what: 'rows for the measured run', value: format.count(storedCount) },
              { what: 'answered 202 but missing', value: format.count(missing) },
              {
                what: 'stored but answered after autocannon stopped',
                value: format.count(storedCount - (subscribe.accepted.length - missing)),
              },
              { what: 'subscribers before / after (warm-up included)', value: `${before} / ${after}` },
              { what: 'papers the previews search', value: format.count(ingested.inserted) },
            ],
          },
        ],
        targets: checks,
        notes: [
          `the service runs in-process via startRuntime(config, { http: true, workers: false }): real express app, a private ${isPostgres ? 'PostgreSQL database' : 'SQLite file'}, real Redis (rate limiter, per-address throttle, BullMQ queue) under a fresh QUEUE_PREFIX`,
          isPostgres
            ? "DB time = pg_stat_database.active_time of the service's sessions; PostgreSQL CPU = their backends' CPU from /proc; lock waits and waits = pg_stat_activity sampled every 20 ms; process CPU includes autocannon's thread and the sampler's"
            : "DB time = time inside better-sqlite3 calls (one connection; the process's requests take turns on it); lock waits = writes that waited ≥ 1 ms (only another process could hold the lock: none here); process CPU includes autocannon's thread",
          'autocannon runs in a worker thread of the same process: separate event loops, but client and server share the 2 cores, so the server gets less than the whole machine',
          'RATE_LIMIT_PER_MINUTE=1000000 through the config env; every POST uses a new address, so each passes the 10-minute throttle and enqueues a confirmation job (no workers run: nothing is sent)',
          `previews ask for one of ${previewTopics.length} topics in turn over the ${ingested.inserted} papers of examples/papers.json (the index is built once and cached a minute)`,
          'a 2 s warm-up per endpoint runs first and is not reported',
        ],
        data: {
          connections,
          durationSeconds: duration,
          subscribe: { ...subscribe, accepted: subscribe.accepted.length, missing, storedCount },
          preview: { ...preview, accepted: undefined },
          subscribersBefore: before,
          subscribersAfter: after,
          store,
          subscribeLoad: subscribeRun.load,
          subscribeCpuMs: subscribeRun.cpuMs,
          previewLoad: previewRun.load,
          previewCpuMs: previewRun.cpuMs,
        },
        summary: endpoints.flatMap(({ name, result, load, cpuMs }) => [
          {
            what: `${name}: req/s`,
            text: format.perSecond(result.requestsPerSecond),
            value: result.requestsPerSecond,
          },
          { what: `${name}: p99`, text: `${result.p99} ms`, value: result.p99 },
          {
            what: `${name}: process CPU per request`,
            text: per(cpuMs, result),
            value: cpuMs / result.total,
          },
          {
            what: `${name}: DB time per request`,
            text: per(load.dbMs, result),
            value: load.dbMs / result.total,
          },
          { what: `${name}: lock waits`, text: format.count(load.lockWaits), value: load.lockWaits },
        ]),
        bounds: endpoints.map(({ name, result, load, cpuMs }) => {
          const processCores = cpuMs / load.wallMs;
          const machine = load.machineBusyMs / load.wallMs;
          const dbShare = load.dbMs / load.wallMs;
          return `${name}: ${format.perSecond(result.requestsPerSecond)}; this process (service + autocannon) used ${format.share(processCores)} cores at ${per(cpuMs, result)} CPU per request, the machine ${format.share(machine)} of ${cores} cores busy; database ${per(load.dbMs, result)} per request (${isPostgres ? `${format.share(dbShare)} backends active on average, PostgreSQL CPU ${per(load.serverCpuMs, result)} per request, waits seen ${describeWaitEvents(load, Math.max(1, result.total))}` : `${Math.round(dbShare * 100)} % of the one thread's time`}); lock waits ${lockText(load)} → ${machine >= cores * 0.85 ? `bound by the ${cores} cores (service, autocannon, Redis and the database share them)` : processCores >= 0.9 ? "bound by the service's one event loop" : 'bound by waiting (database or Redis round trips)'}`;
        }),
      };
    } finally {
      // The run's keys in Redis are left to the queue prefix; remove them so runs do not pile up.
      const { Redis } = await import('ioredis');
      const redis = new Redis(config.redis.url);
      try {
        let cursor = '0';
        do {
          const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}*`, 'COUNT', 1000);
          cursor = nextCursor;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
      await meter.stop();
      await runtime.close();
      await benchStore.drop();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
