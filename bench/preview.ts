import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../src/log.js';
import { upsertPapers } from '../src/papers/store.js';
import { createPreviewIndexes } from '../src/topics/preview.js';
import { checkpoint, openBenchDatabase, openMigratedBenchDatabase, sqliteUrl } from './database.js';
import { freePort, startPrivateRedis } from './delivery-kit.js';
import { generatePapers } from './fixtures/papers.js';
import { createRandom } from './fixtures/random.js';
import { commonPhrasesTopic, generateTopics } from './fixtures/topics.js';
import {
  type Benchmark,
  type BenchResult,
  format,
  median,
  readProcStatus,
  type TargetCheck,
} from './harness.js';

const targets = {
  peakRss: 400 * 1024 * 1024,
  healthP99Ms: 50,
  indexBuildMs: 500,
  indexBytes: 60 * 1024 * 1024,
};
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/paperboy.js', import.meta.url));
const day = 86_400_000;
/** Papers arrive over this many days, so that each `days` value previews a different share of them. */
const arrivalDays = 60;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's RSS every 50 ms, from /proc: its own memory, not this process's. */
function watchRss(pid: number) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, readProcStatus(pid)?.rss ?? 0);
  }, 50);
  return {
    /** The highest RSS since the last call; starts a new window. */
    takePeak() {
      const value = Math.max(peak, readProcStatus(pid)?.rss ?? 0);
      peak = 0;
      return value;
    },
    stop: () => clearInterval(timer),
  };
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);

interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

const summarizeLatencies = (samples: readonly number[], failures: number): Latencies => {
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    count: sorted.length,
    p50: median(sorted),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    failures,
  };
};

/**
 * `GET /healthz` one at a time, one every `intervalMs`, over one keep-alive connection: how long a
 * request that needs no work waits for the server's event loop.
 */
function probeHealth(url: string, intervalMs = 20) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let failures = 0;
  let isRunning = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const request = get(`${url}/healthz`, { agent, timeout: 5000 }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode === 200) samples.push(performance.now() - start);
          else failures++;
          resolve();
        });
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        failures++;
        resolve();
      });
    });
  const done = (async () => {
    while (isRunning) {
      const start = performance.now();
      await once();
      await sleep(Math.max(0, intervalMs - (performance.now() - start)));
    }
  })();
  return {
    async stop(): Promise<Latencies> {
      isRunning = false;
      await done;
      agent.destroy();
      return summarizeLatencies(samples, failures);
    },
  };
}

interface LoadResult {
  total: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

// autocannon in a worker thread of this process, as in http.ts; the server is another process.
const loadSource = `
const { workerData, parentPort } = require('node:worker_threads');
const autocannon = require(workerData.autocannonPath);
const { url, duration, connections, topics, days } = workerData;
let next = 0;
const request = {
  method: 'GET',
  setupRequest: (req) => {
    const n = next++;
    const q = topics[n % topics.length];
    const d = days[(n * 7919) % days.length];
    return { ...req, path: '/api/topics/preview?q=' + encodeURIComponent(q) + '&days=' + d + '&limit=20' };
  },
};
const options = { url, duration, connections, pipelining: 1, timeout: 30, requests: [request] };
autocannon(options, (error, raw) => {
  if (error) throw error;
  const result = autocannon.aggregateResult([raw], options);
  const statusCodes = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count;
  parentPort.postMessage({
    total: result.requests.total,
    requestsPerSecond: result.requests.total / (result.duration || duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  });
});
`;

function runLoad(options: {
  url: string;
  duration: number;
  connections: number;
  topics: readonly string[];
  days: readonly number[];
}): Promise<LoadResult> {
  const autocannonPath = createRequire(import.meta.url).resolve('autocannon');
  const worker = new Worker(loadSource, {
    eval: true,
    execArgv: [],
    workerData: { ...options, autocannonPath },
  });
  return new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', (result: LoadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

async function fetchPreview(url: string, query: string) {
  const response = await fetch(`${url}/api/topics/preview?${query}`);
  await response.arrayBuffer();
  return response.status;
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export const preview: Benchmark = {
  name: 'preview',
  description:
    'GET /api/topics/preview hammered with 365 `days` values and 1,000 topics against a `paperboy serve` child process: its peak RSS and /healthz latency',
  sizes: {
    papers: { default: 10_000, description: `papers first seen over the last ${arrivalDays} days` },
    topics: { default: 1_000, description: 'distinct generated topics the previews ask for' },
    duration: { default: 20, description: 'seconds of preview load' },
    connections: { default: 4, description: 'concurrent preview clients' },
  },
  async run({ seed, sizes, log }): Promise<BenchResult> {
    const paperCount = sizes.papers as number;
    const duration = sizes.duration as number;
    const connections = sizes.connections as number;
    const directory = await mkdtemp(join(tmpdir(), 'paperboy-bench-preview-'));
    const databaseUrl = sqliteUrl(join(directory, 'paperboy.db'));
    const redis = await startPrivateRedis();
    let server: ChildProcess | undefined;
    let rss: ReturnType<typeof watchRss> | undefined;
    try {
      const now = Date.now();
      const random = createRandom(seed);
      log(`generating ${format.count(paperCount)} papers and ${format.count(sizes.topics as number)} topics`);
      const generated = generatePapers(random, paperCount, new Date(now));
      const topics = generateTopics(
        random,
        generated.records,
        generated.prolificAuthors,
        sizes.topics as number,
      );
      const indexBuildMs: number[] = [];
      let indexBytes = 0;
      let indexPapers = 0;
      const db = await openMigratedBenchDatabase(databaseUrl);
      try {
        // As ingestion leaves them: each day's papers first seen that day.
        const perDay = Math.ceil(paperCount / arrivalDays);
        for (let i = 0; i < arrivalDays; i++) {
          const batch = generated.records.slice(i * perDay, (i + 1) * perDay);
          if (batch.length > 0) await upsertPapers(db, batch, 'file', new Date(now - i * day));
        }
        await checkpoint(db);
        // The index alone, in this process: what the server's first preview builds (in slices).
        log('the preview index, built in this process three times');
        for (let i = 0; i < 3; i++) {
          const indexes = createPreviewIndexes({
            db,
            clock: () => new Date(now),
            log: createLogger('silent'),
          });
          const start = performance.now();
          await indexes.get();
          indexBuildMs.push(performance.now() - start);
          indexBytes = indexes.stats().bytes;
          indexPapers = indexes.stats().papers;
        }
      } finally {
        await db.close();
      }

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      log(`starting paperboy serve on ${url}`);
      server = spawn(process.execPath, [bin, 'serve'], {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: `bench-preview-${process.pid}`,
          SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789',
          // Never used by `serve`, but production insists on one.
          SMTP_URL: 'smtp://127.0.0.1:2525',
          PREVIEW_RATE_LIMIT_PER_MINUTE: '1000000',
          LOG_LEVEL: 'warn',
          ...(process.env.BENCH_SERVER_NODE_OPTIONS
            ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS }
            : {}),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const child = server;
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      for (const deadline = Date.now() + 60_000; ; ) {
        if (exited()) throw new Error('paperboy serve exited (see its stderr above)');
        if (Date.now() > deadline) throw new Error('paperboy serve did not answer within 60 s');
        try {
          if ((await fetch(`${url}/healthz`)).ok) break;
        } catch {}
        await sleep(100);
      }
      const pid = child.pid as number;
      rss = watchRss(pid);
      const idleRss = readProcStatus(pid)?.rss ?? Number.NaN;

      log('baseline: /healthz alone for 5 s');
      let probe = probeHealth(url);
      await sleep(5000);
      const baseline = await probe.stop();
      rss.takePeak();

      log('first preview: the index is built while /healthz is probed');
      probe = probeHealth(url);
      let start = performance.now();
      const firstStatus = await fetchPreview(url, 'q=diffusion&days=7&limit=1');
      const firstMs = performance.now() - start;
      const duringBuild = await probe.stop();
      const buildRss = rss.takePeak();

      const days = Array.from({ length: 365 }, (_, i) => i + 1);
      log(
        `load: ${connections} clients for ${duration} s, ${topics.length} topics × ${days.length} days values; a new paper every 5 s (a rebuild under load)`,
      );
      probe = probeHealth(url);
      const writer = await openBenchDatabase(databaseUrl);
      let added = 0;
      // One write after another; the last is awaited before the writer closes.
      let writes = Promise.resolve();
      const adder = setInterval(() => {
        added++;
        const n = added;
        const at = new Date();
        writes = writes.then(async () => {
          await upsertPapers(
            writer,
            [
              {
                arxivId: `2699.${String(10_000 + n)}`,
                title: `Paper ${n} arriving during the load`,
                abstract: 'A new paper makes the preview index stale, so it is rebuilt while previews run.',
                authors: ['Ada Lovelace'],
                publishedAt: at,
              },
            ],
            'file',
            at,
          );
        });
      }, 5000);
      let load: LoadResult;
      try {
        load = await runLoad({ url, duration, connections, topics, days });
      } finally {
        clearInterval(adder);
        try {
          await writes;
        } finally {
          await writer.close();
        }
      }
      const underLoad = await probe.stop();
      const loadRss = rss.takePeak();

      log(`costly topics: ${connections} clients for 5 s of the 14-phrase topic (refused by the budget)`);
      probe = probeHealth(url);
      start = performance.now();
      const costly = await runLoad({
        url,
        duration: 5,
        connections,
        topics: [commonPhrasesTopic],
        days: [30],
      });
      const underCostly = await probe.stop();
      const costlyRss = rss.takePeak();
      const highWaterMark = readProcStatus(pid)?.hwm ?? Number.NaN;
      const peakRss = Math.max(buildRss, loadRss, costlyRss);

      const nonOk = (result: LoadResult) =>
        result.errors +
        result.timeouts +
        Object.entries(result.statusCodes)
          .filter(([code]) => code !== '200')
          .reduce((sum, [, count]) => sum + count, 0);
      const checks: TargetCheck[] = [
        {
          name: `preview index of ${format.count(indexPapers)} papers: build, in slices (median of 3)`,
          target: `< ${format.ms(targets.indexBuildMs)}`,
          measured: format.ms(median(indexBuildMs)),
          isMet: median(indexBuildMs) < targets.indexBuildMs,
        },
        {
          name: `preview index of ${format.count(indexPapers)} papers: memory held`,
          target: `< ${format.mb(targets.indexBytes)}`,
          measured: format.mb(indexBytes),
          isMet: indexBytes < targets.indexBytes,
        },
        {
          name: 'server peak RSS (first build, load, costly topics)',
          target: `< ${format.mb(targets.peakRss)}`,
          measured: `${format.mb(peakRss)} (VmHWM ${format.mb(highWaterMark)})`,
          isMet: peakRss < targets.peakRss && highWaterMark < targets.peakRss,
        },
        {
          name: '/healthz p99 while the first index is built',
          target: `< ${targets.healthP99Ms} ms`,
          measured: `${duringBuild.p99.toFixed(1)} ms`,
          isMet: duringBuild.p99 < targets.healthP99Ms,
        },
        {
          name: '/healthz p99 under preview load',
          target: `< ${targets.healthP99Ms} ms`,
          measured: `${underLoad.p99.toFixed(1)} ms`,
          isMet: underLoad.p99 < targets.healthP99Ms,
        },
        {
          name: '/healthz p99 under costly topics',
          target: `< ${targets.healthP99Ms} ms`,
          measured: `${underCostly.p99.toFixed(1)} ms`,
          isMet: underCostly.p99 < targets.healthP99Ms,
        },
        {
          name: 'previews answered 200 under load',
          target: 'all',
          measured: `${format.count(load.total - nonOk(load))} of ${format.count(load.total)}`,
          isMet: nonOk(load) === 0 && load.total > 0 && firstStatus === 200,
        },
        {
          name: 'costly topic refused with 400 topic_too_expensive',
          target: 'all',
          measured: `${format.count(costly.statusCodes['400'] ?? 0)} of ${format.count(costly.total)}`,
          isMet: costly.total > 0 && costly.statusCodes['400'] === costly.total,
        },
      ];
      const healthRow = (phase: string, latencies: Latencies, serverRss: number) => ({
        phase,
        probes: format.count(latencies.count),
        p50: `${latencies.p50.toFixed(1)} ms`,
        p99: `${latencies.p99.toFixed(1)} ms`,
        max: `${latencies.max.toFixed(1)} ms`,
        failed: format.count(latencies.failures),
        rss: format.mb(serverRss),
      });
      const loadRow = (phase: string, result: LoadResult) => ({
        phase,
        total: format.count(result.total),
        rate: format.perSecond(result.requestsPerSecond),
        p50: `${result.p50} ms`,
        p99: `${result.p99} ms`,
        max: `${result.max} ms`,
        codes: Object.entries(result.statusCodes)
          .map(([code, count]) => `${code}×${count}`)
          .join(' '),
      });
      return {
        tables: [
          {
            title: `/healthz from its own client (one request every 20 ms) and the server's peak RSS, ${format.count(paperCount)} papers`,
            columns: [
              { key: 'phase', header: 'phase', align: 'left' },
              { key: 'probes', header: 'probes' },
              { key: 'p50', header: 'p50' },
              { key: 'p99', header: 'p99' },
              { key: 'max', header: 'max' },
              { key: 'failed', header: 'failed' },
              { key: 'rss', header: 'peak RSS' },
            ],
            rows: [
              healthRow('idle (baseline)', baseline, idleRss),
              healthRow(`first preview, index built (${format.ms(firstMs)})`, duringBuild, buildRss),
              healthRow(`preview load, ${connections} clients, ${duration} s`, underLoad, loadRss),
              healthRow(`costly topic, ${connections} clients, 5 s`, underCostly, costlyRss),
            ],
          },
          {
            title: 'GET /api/topics/preview (autocannon in a worker thread of the benchmark process)',
            columns: [
              { key: 'phase', header: 'phase', align: 'left' },
              { key: 'total', header: 'requests' },
              { key: 'rate', header: 'req/s' },
              { key: 'p50', header: 'p50' },
              { key: 'p99', header: 'p99' },
              { key: 'max', header: 'max' },
              { key: 'codes', header: 'status codes', align: 'left' },
            ],
            rows: [
              loadRow(`${topics.length} topics × 365 days values`, load),
              loadRow('14-phrase topic', costly),
            ],
          },
        ],
        targets: checks,
        notes: [
          `the server is \`paperboy serve\` in a child process (NODE_ENV=production, private redis-server, PREVIEW_RATE_LIMIT_PER_MINUTE=1000000); its RSS is read from /proc/${'<pid>'}/status every 50 ms`,
          `${format.count(paperCount)} generated papers first seen over the last ${arrivalDays} days; request n asks for topic n mod ${topics.length} and days 1 + (7919·n mod 365), so every days value recurs`,
          `a paper is written every 5 s during the load (${added} in all): each makes the index stale, and it is rebuilt in slices while previews are answered from the previous one`,
          'client and server share the machine’s cores: /healthz latency includes waiting for a core, not only for the event loop',
        ],
        data: {
          paperCount,
          topicCount: topics.length,
          durationSeconds: duration,
          connections,
          index: { papers: indexPapers, buildMs: indexBuildMs, bytes: indexBytes },
          idleRss,
          peakRss,
          highWaterMark,
          firstPreviewMs: firstMs,
          health: { baseline, duringBuild, underLoad, underCostly },
          rss: { build: buildRss, load: loadRss, costly: costlyRss },
          load,
          costly,
          papersAddedDuringLoad: added,
        },
      };
    } finally {
      rss?.stop();
      if (server) await stopServer(server);
      await redis.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
