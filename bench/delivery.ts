import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchStore, cloneStore, createStore, storeNames } from './database.js';
import { describeWaitEvents, msPer } from './db-load.js';
import {
  buildTemplateDatabase,
  describeDeliveryBounds,
  describeTableReads,
  renderSampleDigest,
  runCeiling,
  runCosts,
  runPaperboy,
  startCountingSmtp,
  startPrivateRedis,
} from './delivery-kit.js';
import { type Benchmark, type BenchResult, format, type TargetCheck } from './harness.js';

const targets = { ratio: 0.8, peakRss: 300 * 1024 * 1024 };

/** Set to a directory to have the spawned worker write a V8 CPU profile there (`--cpu-prof`). */
const cpuProfileDir = process.env.BENCH_WORKER_CPU_PROF;

export const delivery: Benchmark = {
  name: 'delivery',
  description:
    'digests planned, queued through BullMQ, rendered and sent over SMTP by one `paperboy worker`, against nodemailer alone',
  stores: ['sqlite', 'postgres'],
  sizes: {
    digests: {
      default: 20_000,
      description: 'digests to plan and send (one per subscriber)',
    },
    papers: { default: 2_000, description: 'papers first seen today' },
    concurrency: {
      default: 20,
      description: 'SEND_CONCURRENCY of the worker and connections of the ceiling',
    },
  },
  async run({ sizes, seed, log, store }): Promise<BenchResult> {
    const digests = sizes.digests as number;
    const concurrency = sizes.concurrency as number;
    const directory = mkdtempSync(join(tmpdir(), 'paperboy-bench-delivery-'));
    const redis = await startPrivateRedis();
    const smtp = await startCountingSmtp();
    const stores: BenchStore[] = [];
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
      const runStore = await cloneStore(template, directory, 'run');
      stores.push(runStore);
      const run = {
        databaseUrl: runStore.url,
        redisUrl: redis.url,
        prefix: `bench-delivery-${process.pid}`,
        smtpUrl: smtp.url,
        concurrency,
      };

      const email = await renderSampleDigest(run, now);
      log(`ceiling: nodemailer pool, ${format.count(digests)} pre-rendered messages`);
      await smtp.reset();
      const ceiling = await runCeiling({ port: smtp.port, count: digests, concurrency, email });
      const ceilingSmtp = await smtp.stats();

      await smtp.reset();
      if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
      const paperboy = await runPaperboy({
        run,
        store: runStore,
        workerCount: 1,
        expected: digests,
        log,
        cpuProfileDir,
      });
      const paperboySmtp = await smtp.stats();
      const worker = paperboy.workers[0] as (typeof paperboy.workers)[number];

      const ceilingRate = digests / (ceiling.ms / 1000);
      const paperboyRate = digests / (paperboy.totalMs / 1000);
      const sendRate = (digests - 1) / (paperboy.sendSpanMs / 1000);
      const ratio = paperboyRate / ceilingRate;
      const peakRss = Math.max(worker.peakRss, worker.highWaterMark);
      const cost = runCosts(paperboy, digests);
      const cores = availableParallelism();
      const isPostgres = store === 'postgres';
      const checks: TargetCheck[] = [
        {
          name: `${format.count(digests)} digests: paperboy rate / ceiling rate`,
          target: `≥ ${targets.ratio}×`,
          measured: `${ratio.toFixed(2)}×`,
          isMet: ratio >= targets.ratio,
        },
        {
          name: `${format.count(digests)} digests: peak RSS of the worker`,
          target: `< ${format.mb(targets.peakRss)}`,
          measured: format.mb(peakRss),
          isMet: peakRss < targets.peakRss,
        },
        {
          name: 'every digest sent, one message each',
          target: `${format.count(digests)}`,
          measured: `${format.count(paperboy.statuses.sent ?? 0)} sent, ${format.count(paperboySmtp.messages)} at SMTP`,
          isMet: paperboy.statuses.sent === digests && paperboySmtp.messages === digests,
        },
      ];
      return {
        tables: [
          {
            title: `Delivery of ${format.count(digests)} digests to a counting SMTP server on loopback (concurrency ${concurrency}), ${storeNames[store]}`,
            columns: [
              { key: 'path', header: 'path', align: 'left' },
              { key: 'time', header: 'time' },
              { key: 'rate', header: 'digests/s' },
              { key: 'ratio', header: 'vs ceiling' },
              { key: 'size', header: 'mean message' },
              { key: 'cpu', header: 'CPU of sender' },
              { key: 'rss', header: 'sender peak RSS' },
            ],
            rows: [
              {
                path: 'ceiling: nodemailer pool, pre-rendered, no queue, no DB',
                time: format.ms(ceiling.ms),
                rate: format.perSecond(ceilingRate),
                ratio: '1.00×',
                size: `${(ceilingSmtp.bytes / ceilingSmtp.messages / 1024).toFixed(1)} KiB`,
                cpu: format.ms(ceiling.cpuMs),
                rss: '–',
              },
              {
                path: 'paperboy: plan + BullMQ + pick + render + SMTP (end to end)',
                time: format.ms(paperboy.totalMs),
                rate: format.perSecond(paperboyRate),
                ratio: `${ratio.toFixed(2)}×`,
                size: `${(paperboySmtp.bytes / paperboySmtp.messages / 1024).toFixed(1)} KiB`,
                cpu: format.ms(worker.cpuMs),
                rss: format.mb(peakRss),
              },
              {
                path: 'paperboy: first to last sent_at (sending only)',
                time: format.ms(paperboy.sendSpanMs),
                rate: format.perSecond(sendRate),
                ratio: `${(sendRate / ceilingRate).toFixed(2)}×`,
                size: '',
                cpu: '',
                rss: '',
              },
            ],
          },
          {
            title: 'paperboy run details',
            columns: [
              { key: 'what', header: 'what', align: 'left' },
              { key: 'value', header: 'value' },
            ],
            rows: [
              {
                what: 'worker start-up (spawn to idle, not timed)',
                value: format.ms(paperboy.workerStartMs),
              },
              { what: 'planDigests (mode all, in the benchmark process)', value: format.ms(paperboy.planMs) },
              {
                what: 'digest statuses',
                value: Object.entries(paperboy.statuses)
                  .map(([status, n]) => `${status} ${format.count(n)}`)
                  .join(', '),
              },
              {
                what: 'papers picked per digest (mean; the email shows 30, the web version up to 100)',
                value: paperboy.meanPapers.toFixed(1),
              },
              {
                what: 'worker RSS idle before planning, then at 25 / 50 / 75 / 100 % done',
                value: [worker.idleRss, ...worker.rssAtProgress].map((rss) => format.mb(rss)).join(' / '),
              },
              { what: 'worker CPU per digest', value: format.ms(worker.cpuMs / digests) },
              {
                what: 'worker CPU / wall while sending',
                value: format.share(worker.cpuMs / paperboy.totalMs),
              },
              {
                what: `machine cores busy on average (of ${cores}; everything on the machine)`,
                value: cost.machineCores.toFixed(2),
              },
              {
                what: isPostgres
                  ? 'database time per digest (active_time of every session: workers and planner)'
                  : 'database time per digest (inside better-sqlite3: worker and planner)',
                value: msPer(cost.dbPerDigest),
              },
              ...(isPostgres
                ? [
                    { what: 'PostgreSQL backend CPU per digest', value: msPer(cost.serverCpuPerDigest) },
                    {
                      what: 'waits inside PostgreSQL per digest (sampled wait events)',
                      value: describeWaitEvents(paperboy.load, digests),
                    },
                    {
                      what: 'idle in transaction per digest (a transaction open, its worker elsewhere)',
                      value: msPer(cost.idleInTransactionPerDigest),
                    },
                    {
                      what: 'waiting for a pooled connection per digest (≥ 1 ms waits)',
                      value: `${msPer(cost.poolWaitPerDigest)} (${format.count(paperboy.load.poolWaits)})`,
                    },
                    { what: 'client-side query time per digest', value: msPer(cost.clientQueryPerDigest) },
                    {
                      what: 'rows read per digest by table (sequential scans + index entries)',
                      value: describeTableReads(paperboy, digests),
                    },
                    {
                      what: 'transactions / rows inserted / rows updated per digest (pg_stat_database)',
                      value: paperboy.databaseStats
                        ? [
                            paperboy.databaseStats.xact_commit,
                            paperboy.databaseStats.tup_inserted,
                            paperboy.databaseStats.tup_updated,
                          ]
                            .map((n) => ((n ?? 0) / digests).toFixed(1))
                            .join(' / ')
                        : '–',
                    },
                  ]
                : [
                    {
                      what: 'write lock held per digest (write transactions and autocommit writes)',
                      value: msPer(cost.writeLockPerDigest),
                    },
                  ]),
              {
                what: isPostgres
                  ? 'lock waits (samples with a worker backend waiting on a lock)'
                  : 'lock waits (writes that waited ≥ 1 ms for another process)',
                value: `${format.count(paperboy.load.lockWaits)} (${format.ms(paperboy.load.lockWaitMs)})`,
              },
            ],
          },
        ],
        targets: checks,
        notes: [
          'the SMTP server is smtp-server in a child process of its own (answers 250 at once, counts messages, bytes and recipients); Redis is a private redis-server on a free port',
          'the paperboy time starts when planning starts, with the worker already started and idle; it ends when the database shows no digest queued or sending',
          'worker peak RSS is the larger of VmRSS sampled every 100 ms and the kernel VmHWM; the "flat up to 100,000" target needs a second run with --digests 100000',
          'one run per path (--warmup and --runs are not used): each run sends every digest once',
        ],
        data: {
          digests,
          concurrency,
          store,
          ceiling: { ...ceiling, rate: ceilingRate, smtp: ceilingSmtp },
          paperboy: { ...paperboy, rate: paperboyRate, sendRate, smtp: paperboySmtp },
          ratio,
          cost,
        },
        summary: [
          { what: 'ceiling (nodemailer alone)', text: format.perSecond(ceilingRate), value: ceilingRate },
          { what: 'paperboy, end to end', text: format.perSecond(paperboyRate), value: paperboyRate },
          { what: 'paperboy / ceiling', text: `${ratio.toFixed(2)}×`, value: ratio },
          { what: 'planDigests', text: format.ms(paperboy.planMs), value: paperboy.planMs },
          {
            what: 'worker CPU per digest',
            text: msPer(cost.workerCpuPerDigest),
            value: cost.workerCpuPerDigest,
          },
          { what: 'database time per digest', text: msPer(cost.dbPerDigest), value: cost.dbPerDigest },
          {
            what: 'PostgreSQL CPU per digest',
            text: msPer(cost.serverCpuPerDigest),
            value: cost.serverCpuPerDigest,
          },
          { what: 'lock waits', text: format.count(cost.lockWaits), value: cost.lockWaits },
          { what: 'machine cores busy', text: cost.machineCores.toFixed(2), value: cost.machineCores },
          { what: 'worker peak RSS', text: format.mb(peakRss), value: peakRss },
        ],
        bounds: describeDeliveryBounds(store, paperboy, digests, cores),
      };
    } finally {
      await smtp.close();
      await redis.stop();
      for (const created of stores) await created.drop();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
