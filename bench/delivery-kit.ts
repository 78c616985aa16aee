import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import type { Config } from '../src/config.js';
import { loadConfig } from '../src/config.js';
import { sql } from '../src/db/sql.js';
import { planDigests } from '../src/digests/plan-digests.js';
import { loadDigestCandidates, pickDigestPapers } from '../src/digests/select.js';
import { digestLinks, listHeaders } from '../src/digests/send-digest.js';
import { digestEmailValues } from '../src/email/digest-view.js';
import { renderDigestWithinBudget } from '../src/email/render.js';
import { compileEmailTemplates } from '../src/email/templates.js';
import { createLogger } from '../src/log.js';
import { startRuntime } from '../src/main/runtime.js';
import { resolveSecretKey } from '../src/main/secret.js';
import { upsertPapers } from '../src/papers/store.js';
import { queueNames } from '../src/queue/jobs.js';
import { findSubscriberById, readTopics } from '../src/subscribers/store.js';
import { profileClock } from './cpu-phases.js';
import { type BenchStore, checkpoint, openMigratedBenchDatabase, withApplicationName } from './database.js';
import {
  type DbLoad,
  describeWaitEvents,
  LoadMeter,
  probeDelta,
  probeSum,
  probesEnabled,
  readCpuMs,
  readTableStats,
  tableStatsDelta,
  zeroCounters,
} from './db-load.js';
import { generatePapers } from './fixtures/papers.js';
import { createRandom } from './fixtures/random.js';
import { writeSubscribers } from './fixtures/subscribers.js';
import { readProcStatus } from './harness.js';
import type { ProbeCounters } from './probe.mjs';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/paperboy.js', import.meta.url));
/** Loaded into each worker with `--import`: times its database calls (see probe.mjs). */
const probeUrl = new URL('./probe.mjs', import.meta.url).href;
/** application_name of the workers' PostgreSQL connections and of the benchmark's own. */
export const workerApplication = 'pb-worker';
const benchApplication = 'pb-bench';
const secretKey = 'bench-secret-key-that-is-long-enough-0123456789';
/** Broad enough that every subscriber has well over 30 candidate papers among 2,000. */
const topicPool = ['cat:cs.LG', 'cat:cs.CV', 'cat:cs.CL', 'cat:cs.AI', 'cat:stat.ML', 'cat:cs.RO'];
const never = '0 0 1 1 *';

/** Exited or killed by a signal (an out-of-memory abort leaves exitCode null). */
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** A private redis-server on a free port, no persistence, so no key of anyone else is touched. */
export async function startPrivateRedis() {
  const port = await freePort();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let attempt = 0; ; attempt++) {
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') break;
    if (attempt > 100) throw new Error(`redis-server on ${port} did not answer`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopChild(server),
  };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) {
  if (hasExited(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// Plain CommonJS, run by `node -e` from the project root so `require('smtp-server')` resolves. It is a
// process of its own: its event loop and CPU time are not the benchmark's.
const smtpSource = `
const { SMTPServer } = require('smtp-server');
let perRecipient = new Map();
let messages = 0, bytes = 0, first = 0, last = 0;
const server = new SMTPServer({
  authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, disableReverseLookup: true,
  onData(stream, session, callback) {
    let size = 0;
    stream.on('data', (chunk) => { size += chunk.length; });
    stream.on('end', () => {
      messages++; bytes += size; last = Date.now(); if (!first) first = last;
      for (const rcpt of session.envelope.rcptTo)
        perRecipient.set(rcpt.address, (perRecipient.get(rcpt.address) || 0) + 1);
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.server.address().port }));
process.on('message', (message) => {
  if (message.type === 'reset') {
    perRecipient = new Map(); messages = 0; bytes = 0; first = 0; last = 0;
    process.send({ type: 'reset' });
  } else if (message.type === 'stats') {
    let duplicates = 0, duplicated = 0;
    for (const count of perRecipient.values()) if (count > 1) { duplicated++; duplicates += count - 1; }
    const missing = (message.expected || []).filter((address) => !perRecipient.has(address)).length;
    process.send({ type: 'stats', messages, bytes, first, last, recipients: perRecipient.size, duplicated, duplicates, missing });
  } else if (message.type === 'close') {
    server.close(() => process.exit(0));
  }
});
`;

export interface SmtpStats {
  messages: number;
  bytes: number;
  /** Date.now() at the first and last accepted message. */
  first: number;
  last: number;
  recipients: number;
  /** Recipients that got more than one message, and the extra messages. */
  duplicated: number;
  duplicates: number;
  /** Expected recipients that got nothing (only when `expected` was passed). */
  missing: number;
}

/** A counting SMTP server (smtp-server, answers 250 at once) in a child process on loopback. */
export async function startCountingSmtp() {
  const child = spawn(process.execPath, ['-e', smtpSource], {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', listener);
        resolve(message as T);
      };
      child.on('message', listener);
    });
  const { port } = await next<{ port: number }>('listening');
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    pid: child.pid as number,
    async reset() {
      const done = next('reset');
      child.send({ type: 'reset' });
      await done;
    },
    async stats(expected?: string[]): Promise<SmtpStats> {
      const answer = next<SmtpStats>('stats');
      child.send({ type: 'stats', expected });
      return answer;
    },
    async close() {
      child.send({ type: 'close' });
      await stopChild(child, 'SIGTERM', 5000);
    },
  };
}

export const recipient = (i: number) => `reader-${i}@bench.example`;

/**
 * A database as a day of ingestion and sign-ups leaves it: `papers` recombined papers all first seen
 * `now`, `subscribers` active daily subscribers with max papers 30 and one to three broad topics.
 */
export async function buildTemplateDatabase(
  databaseUrl: string,
  options: { seed: number; now: Date; papers: number; subscribers: number },
) {
  const db = await openMigratedBenchDatabase(databaseUrl);
  try {
    const random = createRandom(options.seed);
    await upsertPapers(db, generatePapers(random, options.papers, options.now).records, 'file', options.now);
    await writeSubscribers(
      db,
      options.subscribers,
      (i) => ({
        email: recipient(i),
        frequency: 'daily',
        weeklyDay: 1,
        timezone: 'UTC',
        sendHour: 7,
        maxPapers: 30,
        topics: random.shuffle(topicPool).slice(0, random.int(1, 3)),
      }),
      options.now,
    );
    await checkpoint(db);
  } finally {
    await db.close();
  }
}

export interface RunEnv {
  /** DATABASE_URL of the run's own database. */
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  smtpUrl: string;
  concurrency: number;
}

function workerEnv(run: RunEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: withApplicationName(run.databaseUrl, workerApplication),
    REDIS_URL: run.redisUrl,
    QUEUE_PREFIX: run.prefix,
    SMTP_URL: run.smtpUrl,
    SECRET_KEY: secretKey,
    SEND_CONCURRENCY: String(run.concurrency),
    // The schedulers must not fire a tick or an ingest in the middle of the measurement.
    DIGEST_TICK_CRON: never,
    INGEST_CRON: never,
    LOG_LEVEL: 'warn',
    // Several workers on one machine: each its own free metrics port.
    METRICS_PORT: '0',
    // For experiments on the worker's heap, e.g. BENCH_WORKER_NODE_OPTIONS=--max-old-space-size=128.
    ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
    // For experiments with the worker's settings, e.g. BENCH_WORKER_ENV=DATABASE_POOL_SIZE=24,SEND_CONCURRENCY=10.
    ...Object.fromEntries(
      (process.env.BENCH_WORKER_ENV ?? '')
        .split(',')
        .filter((pair) => pair.includes('='))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
    ...extra,
  };
}

export function benchConfig(run: RunEnv): Config {
  return resolveSecretKey(
    loadConfig(workerEnv(run, { DATABASE_URL: withApplicationName(run.databaseUrl, benchApplication) })),
  );
}

/** One real digest rendered by the project's renderer for subscriber 1, and the headers it is sent with. */
export async function renderSampleDigest(run: RunEnv, now: Date) {
  const config = benchConfig(run);
  const runtime = await startRuntime(config, { http: false, workers: false, log: createLogger('silent') });
  try {
    const templates = await compileEmailTemplates();
    const subscriber = await findSubscriberById(runtime.db, 1);
    if (!subscriber) throw new Error('no subscriber 1');
    const topics = await readTopics(runtime.db, 1);
    const picks = pickDigestPapers(
      await loadDigestCandidates(runtime.db, now),
      { topics },
      { windowStart: new Date(now.getTime() - 86_400_000), sent: new Set() },
    );
    const links = digestLinks(runtime.ctx, subscriber, 1, now);
    const email = renderDigestWithinBudget(
      templates,
      (shown) =>
        digestEmailValues({
          picks,
          shown,
          localDate: now.toISOString().slice(0, 10),
          subscriber: { email: subscriber.email, frequency: subscriber.frequency, topics },
          urls: links,
        }),
      subscriber.maxPapers,
    );
    return { ...email, headers: listHeaders(runtime.ctx, links.unsubscribe), from: config.mail.from };
  } finally {
    await runtime.close();
  }
}

/**
 * The ceiling: nodemailer's own pool sending `count` copies of an already-rendered digest (composed
 * per message, as paperboy composes), `concurrency` at a time over as many connections. No queue,
 * no database.
 */
export async function runCeiling(options: {
  port: number;
  count: number;
  concurrency: number;
  email: Awaited<ReturnType<typeof renderSampleDigest>>;
}) {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: options.concurrency,
    host: '127.0.0.1',
    port: options.port,
    secure: false,
    ignoreTLS: true,
  });
  let next = 1;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = next++; i <= options.count; i = next++) {
        await transport.sendMail({
          from: options.email.from,
          to: recipient(i),
          subject: options.email.subject,
          html: options.email.html,
          text: options.email.text,
          headers: options.email.headers,
          messageId: `<digest-${i}.${i}@localhost>`,
        });
      }
    }),
  );
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  transport.close();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export interface WorkerTrace {
  pid: number;
  peakRss: number;
  /** VmHWM just before the worker was stopped: the kernel's own peak. */
  highWaterMark: number;
  cpuMs: number;
  /** RSS once started and idle, before any digest was planned. */
  idleRss: number;
  /** RSS when a quarter, half, three quarters and all of the digests were done. */
  rssAtProgress: number[];
}

export interface PaperboyRun {
  workers: WorkerTrace[];
  planMs: number;
  /** Plan start to the last digest finished (workers were up and idle before). */
  totalMs: number;
  /** First to last `sent_at` in the database: the sending rate without planning. */
  sendSpanMs: number;
  statuses: Record<string, number>;
  meanPapers: number;
  workerStartMs: number;
  /**
   * What the run cost the database from plan start to the last digest, planning included: the
   * database's own counters and the backends' CPU (PostgreSQL), or the probes of the workers and of
   * this process (SQLite).
   */
  load: DbLoad;
  /** The workers' probes and this process's, summed over the same window. */
  probe: ProbeCounters;
  /** PostgreSQL: the change of `pg_stat_database` over the same window. */
  databaseStats?: Record<string, number>;
  /** PostgreSQL: the change of `pg_stat_user_tables` (and its indexes' reads) over the same window. */
  tableStats: Record<string, Record<string, number>>;
  /** Plan start to the last digest on the clock of the workers' CPU profiles (see cpu-phases.ts). */
  profileWindow: { from: number; to: number };
}

/** Asks each worker's probe for its counters (SIGUSR2) and waits until every one has written them. */
async function markWorkers(
  children: readonly ChildProcess[],
  files: readonly string[],
): Promise<ProbeCounters[]> {
  if (!probesEnabled) return children.map(() => zeroCounters());
  const read = (file: string) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { seq: number; counters: ProbeCounters };
    } catch {
      return undefined;
    }
  };
  const before = files.map((file) => read(file)?.seq ?? 0);
  for (const child of children) child.kill('SIGUSR2');
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = files.map(read);
    if (now.every((snapshot, i) => snapshot !== undefined && snapshot.seq > (before[i] ?? 0)))
      return now.map((snapshot) => (snapshot as { counters: ProbeCounters }).counters);
    if (Date.now() > deadline) throw new Error('a worker did not answer SIGUSR2 with its probe counters');
    await sleep(10);
  }
}

/**
 * `workerCount` `paperboy worker` processes started and idle, then `planDigests` (mode all) from this
 * process, then the database polled until every digest is finished. Worker RSS and CPU are read from
 * /proc; their database time from their probes (SQLite) or by sampling PostgreSQL.
 */
export async function runPaperboy(options: {
  run: RunEnv;
  store: BenchStore;
  workerCount: number;
  expected: number;
  log: (message: string) => void;
  cpuProfileDir?: string;
}): Promise<PaperboyRun> {
  const { run } = options;
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: it goes on the command line.
  const profileArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const probeDirectory = mkdtempSync(join(tmpdir(), 'paperboy-bench-probe-'));
  const probeFiles = Array.from({ length: options.workerCount }, (_, i) =>
    join(probeDirectory, `worker-${i}.json`),
  );
  const meter = await LoadMeter.start(options.store);
  const planner = await startRuntime(benchConfig(run), {
    http: false,
    workers: false,
    log: createLogger('silent'),
  });
  const redis = new Redis(run.redisUrl, { maxRetriesPerRequest: null });
  const children: ChildProcess[] = [];
  let result: PaperboyRun;
  try {
    const blockedClients = async () =>
      ((await redis.client('LIST')) as string).split('\n').filter((line) => / cmd=bzpopmin/.test(line))
        .length;
    const before = await blockedClients();
    const startedAt = performance.now();
    for (let i = 0; i < options.workerCount; i++) {
      const probeArgs = probesEnabled ? ['--import', probeUrl] : [];
      const child = spawn(process.execPath, [...profileArgs, ...probeArgs, bin, 'worker'], {
        cwd: projectRoot,
        env: workerEnv(run, probesEnabled ? { BENCH_PROBE_FILE: probeFiles[i] as string } : {}),
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
    }
    // Idle BullMQ workers block on BZPOPMIN of their queue's marker: one per queue per process.
    const wanted = before + options.workerCount * queueNames.length;
    const deadline = Date.now() + 60_000;
    while ((await blockedClients()) < wanted) {
      if (Date.now() > deadline) throw new Error('paperboy workers did not become ready within 60 s');
      if (children.some(hasExited)) throw new Error('a paperboy worker exited (see its stderr above)');
      await sleep(100);
    }
    const workerStartMs = performance.now() - startedAt;
    options.log(`${options.workerCount} worker(s) ready after ${Math.round(workerStartMs)} ms; planning`);

    const traces = children.map((child) => ({
      pid: child.pid as number,
      peakRss: 0,
      highWaterMark: 0,
      cpuMs: 0,
      idleRss: readProcStatus(child.pid as number)?.rss ?? Number.NaN,
      rssAtProgress: [] as number[],
    }));
    const probesAtStart = await markWorkers(children, probeFiles);
    const markAtStart = await meter.mark('start');
    const tablesAtStart = await readTableStats(options.store);
    const cpuAtStart = traces.map((trace) => readCpuMs(trace.pid));
    const sampleRss = () => {
      for (const trace of traces) {
        const status = readProcStatus(trace.pid);
        if (status) trace.peakRss = Math.max(trace.peakRss, status.rss);
      }
    };
    const sampler = setInterval(sampleRss, 100);

    const start = performance.now();
    const profileFrom = profileClock();
    const planned = await planDigests({ ctx: planner.ctx, input: { mode: 'all' } });
    const planMs = performance.now() - start;
    if (planned.planned !== options.expected)
      throw new Error(`planned ${planned.planned} digests, expected ${options.expected}`);
    options.log(`planned ${planned.planned} in ${Math.round(planMs)} ms; sending`);

    // Polled every 50 ms: whether any digest is unfinished is one index probe; how many (for the log
    // and the RSS marks) is counted once a second, so the polling costs the database next to nothing.
    const isUnfinished = async () =>
      (await planner.db.value<number>(
        sql`select 1 from digests where status in ('queued', 'sending') limit 1`,
      )) !== undefined;
    const unfinished = async () =>
      (await planner.db.value<number>(
        sql`select count(*) from digests where status in ('queued', 'sending')`,
      )) ?? 0;
    const marks = [0.25, 0.5, 0.75];
    let lastLog = Date.now();
    let lastCount = 0;
    for (;;) {
      const isDone = !(await isUnfinished());
      const shouldCount = isDone || Date.now() - lastCount >= 1000;
      if (shouldCount) lastCount = Date.now();
      const left = isDone ? 0 : shouldCount ? await unfinished() : Number.NaN;
      if (Number.isNaN(left)) {
        if (children.some(hasExited)) throw new Error('a paperboy worker exited (see its stderr above)');
        await sleep(50);
        continue;
      }
      const done = (options.expected - left) / options.expected;
      while (marks.length > 0 && done >= (marks[0] as number)) {
        marks.shift();
        for (const trace of traces) trace.rssAtProgress.push(readProcStatus(trace.pid)?.rss ?? Number.NaN);
      }
      if (left === 0) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        options.log(`${options.expected - left} of ${options.expected} done`);
      }
      if (children.some(hasExited)) throw new Error('a paperboy worker exited (see its stderr above)');
      await sleep(50);
    }
    const totalMs = performance.now() - start;
    const profileWindow = { from: profileFrom, to: profileClock() };
    const markAtEnd = await meter.mark('end');
    const tableStats = tableStatsDelta(tablesAtStart, await readTableStats(options.store));
    clearInterval(sampler);
    sampleRss();
    traces.forEach((trace, i) => {
      const status = readProcStatus(trace.pid);
      trace.rssAtProgress.push(status?.rss ?? Number.NaN);
      trace.highWaterMark = status?.hwm ?? Number.NaN;
      trace.cpuMs = readCpuMs(trace.pid) - (cpuAtStart[i] ?? 0);
    });
    const probesAtEnd = await markWorkers(children, probeFiles);
    // The workers' probes and this process's (the planner's work on SQLite is done here).
    const probe = probeSum([
      ...probesAtEnd.map((end, i) => probeDelta(probesAtStart[i] as ProbeCounters, end)),
      probeDelta(markAtStart.probe, markAtEnd.probe),
    ]);
    const load = meter.between(markAtStart, markAtEnd, { probe });

    const statuses = Object.fromEntries(
      (
        await planner.db.all<{ status: string; n: number }>(
          sql`select status, count(*) as n from digests group by status order by status`,
        )
      ).map((row) => [row.status, row.n]),
    );
    const span = await planner.db.get<{ first: number; last: number; papers: number }>(
      sql`select min(sent_at) as first, max(sent_at) as last, avg(paper_count) as papers
        from digests where status = 'sent'`,
    );
    if (!span) throw new Error('no digest row to measure');
    result = {
      workers: traces,
      planMs,
      totalMs,
      sendSpanMs: span.last - span.first,
      statuses,
      meanPapers: span.papers,
      workerStartMs,
      load,
      probe,
      databaseStats: load.stats,
      tableStats,
      profileWindow,
    };
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    redis.disconnect();
    await planner.close();
    await meter.stop();
    rmSync(probeDirectory, { recursive: true, force: true });
  }
  return result;
}

/** Per-digest figures of a run: what each resource spent, and the rate it would allow alone. */
export function runCosts(run: PaperboyRun, digests: number) {
  const { load } = run;
  const workerCpuMs = run.workers.reduce((sum, worker) => sum + worker.cpuMs, 0);
  return {
    rate: digests / (run.totalMs / 1000),
    workerCpuPerDigest: workerCpuMs / digests,
    /** Cores the workers used on average, all together and the busiest one. */
    workerCores: workerCpuMs / run.totalMs,
    busiestWorkerCores: Math.max(...run.workers.map((worker) => worker.cpuMs)) / run.totalMs,
    dbPerDigest: load.dbMs / digests,
    serverCpuPerDigest: load.serverCpuMs / digests,
    idleInTransactionPerDigest: load.idleInTransactionMs / digests,
    writeLockPerDigest: load.writeLockMs / digests,
    poolWaitPerDigest: load.poolWaitMs / digests,
    clientQueryPerDigest: load.clientQueryMs / digests,
    /** Backends active on average (PostgreSQL), or the write lock's share of the time (SQLite). */
    dbConcurrency: load.dbMs / run.totalMs,
    machineCores: load.machineBusyMs / run.totalMs,
    lockWaits: load.lockWaits,
    lockWaitMs: load.lockWaitMs,
  };
}

/**
 * What bounds a delivery run, as lines of figures: the workers' CPU against one core each, the
 * machine's cores, the database's time and CPU per digest and the rate they alone would allow, and
 * lock waits.
 */
export function describeDeliveryBounds(
  store: BenchStore['store'],
  run: PaperboyRun,
  digests: number,
  cores: number,
): string[] {
  const cost = runCosts(run, digests);
  const workers = run.workers.length;
  const lines: string[] = [];
  const ms = (n: number) => `${n.toFixed(n < 1 ? 3 : 2)} ms`;
  const perSecond = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
  const verdicts: { share: number; text: string }[] = [
    {
      share: cost.busiestWorkerCores,
      text: `the worker process's CPU (busiest worker ${cost.busiestWorkerCores.toFixed(2)} of its one core; ${ms(cost.workerCpuPerDigest)} CPU per digest allows ${perSecond((1000 / cost.workerCpuPerDigest) * workers)} with ${workers} worker(s) on cores of their own)`,
    },
    {
      share: cost.machineCores / cores,
      text: `the machine's ${cores} cores (${cost.machineCores.toFixed(2)} busy on average: workers ${cost.workerCores.toFixed(2)}${store === 'postgres' ? `, PostgreSQL backends ${(run.load.serverCpuMs / run.totalMs).toFixed(2)}` : ''}, the rest Redis, SMTP, planner and anything else running)`,
    },
  ];
  if (store === 'postgres') {
    verdicts.push({
      share: Math.min(1, cost.dbConcurrency / cores),
      text: `PostgreSQL (${cost.dbConcurrency.toFixed(2)} backends active on average, ${(run.load.serverCpuMs / run.totalMs).toFixed(2)} cores of CPU)`,
    });
  } else {
    verdicts.push({
      share: cost.dbConcurrency,
      text: `SQLite's one writer (the write lock held ${(cost.dbConcurrency * 100).toFixed(0)} % of the time)`,
    });
  }
  verdicts.sort((x, y) => y.share - x.share);
  lines.push(`bound: ${(verdicts[0] as { text: string }).text}`);
  if (store === 'postgres') {
    lines.push(
      `database time ${ms(cost.dbPerDigest)} per digest (active_time of every session, workers and planner) and PostgreSQL CPU ${ms(cost.serverCpuPerDigest)} per digest; waits seen inside the server per digest: ${describeWaitEvents(run.load, digests)}; PostgreSQL's CPU alone would allow ≈ ${perSecond(1000 / cost.serverCpuPerDigest)} per core it gets`,
    );
    lines.push(
      `transactions open while their worker was busy elsewhere (idle in transaction) ${ms(cost.idleInTransactionPerDigest)} per digest; waiting for a pooled connection ${ms(cost.poolWaitPerDigest)} per digest (${run.load.poolWaits} waits ≥ 1 ms); client-side query time ${ms(cost.clientQueryPerDigest)} per digest`,
    );
    lines.push(
      `lock waits: ${run.load.lockWaits} of ${run.load.samples} samples saw a backend waiting on a lock (≈ ${Math.round(run.load.lockWaitMs)} ms)${run.databaseStats ? `; deadlocks ${run.databaseStats.deadlocks ?? 0}; ${((run.databaseStats.xact_commit ?? 0) / digests).toFixed(1)} transactions per digest` : ''}`,
    );
  } else {
    lines.push(
      `database time ${ms(cost.dbPerDigest)} per digest inside better-sqlite3 (workers and planner; part of their CPU); write lock held ${ms(cost.writeLockPerDigest)} per digest, so one SQLite file takes at most ≈ ${perSecond(1000 / cost.writeLockPerDigest)} whatever the workers`,
    );
    lines.push(
      `lock waits: ${run.load.lockWaits} writes waited ≥ 1 ms for another process's write lock (${Math.round(run.load.lockWaitMs)} ms in all)`,
    );
  }
  return lines;
}

/** The tables whose scans read the most rows per digest: "table seq + index" for the largest few. */
export function describeTableReads(run: PaperboyRun, digests: number, top = 4): string {
  const reads = Object.entries(run.tableStats)
    .map(([table, c]) => ({
      table,
      seq: (c.seq_tup_read ?? 0) / digests,
      index: (c.idx_tup_read ?? 0) / digests,
    }))
    .filter((row) => row.seq + row.index > 0)
    .sort((x, y) => y.seq + y.index - (x.seq + x.index))
    .slice(0, top);
  if (reads.length === 0) return '–';
  return reads
    .map((row) => `${row.table} ${row.seq.toFixed(1)} seq + ${row.index.toFixed(1)} index`)
    .join(', ');
}
