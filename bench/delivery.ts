import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '../src/db/sql.js';
import { phaseNames, readNewestProfile, splitByPhase } from './cpu-phases.js';
import {
  type BenchStore,
  checkpoint,
  cloneStore,
  createStore,
  openBenchDatabase,
  storeNames,
} from './database.js';
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

const targets = { ratio: 0.8, peakRss: 250 * 1024 * 1024, cpuPerDigestMs: 3 };

/**
 * The two digests readers get: 10 papers (~34 KB, most readers' choice) and 30 (~75 KB, the most the
 * email shows). Each is sent by one worker and by the ceiling in the same run, so each ratio compares
 * like with like; the CPU goal is judged at the small size, where paperboy's own cost shows most.
 */
const messageSizes = [10, 30] as const;
const cpuGoalSize = 10;

/** Set to a directory to keep the workers' V8 CPU profiles there (they are always taken, for the phase split). */
const cpuProfileDir = process.env.BENCH_WORKER_CPU_PROF;

export const delivery: Benchmark = {
  name: 'delivery',
  description: `digests planned, queued through BullMQ, rendered and sent over SMTP by one \`paperboy worker\`, against nodemailer alone, at ${messageSizes.join(' and ')} papers a digest`,
  stores: ['sqlite', 'postgres'],
  sizes: {
    digests: {
      default: 20_000,
      description: 'digests to plan and send at each message size (one per subscriber)',
    },
    papers: { default: 2_000, description: 'papers first seen today' },
    concurrency: {
      default: 20,
      description: 'SEND_CONCURRENCY of the worker and connections of the ceiling',
    },
    shown: { default: 0, description: `papers a digest shows; 0 runs each of ${messageSizes.join(' and ')}` },
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

      /** One message size: the ceiling, then paperboy, on a fresh copy of the database. */
      const measure = async (shown: number) => {
        const runStore = await cloneStore(template, directory, `run-${shown}`);
        stores.push(runStore);
        const db = await openBenchDatabase(runStore.url);
        await db.run(sql`update subscribers set max_papers = ${shown}`);
        await checkpoint(db);
        await db.close();
        const run = {
          databaseUrl: runStore.url,
          redisUrl: redis.url,
          prefix: `bench-delivery-${process.pid}-${shown}`,
          smtpUrl: smtp.url,
          concurrency,
        };
        const email = await renderSampleDigest(run, now);
        log(`${shown} papers: ceiling, nodemailer pool, ${format.count(digests)} pre-rendered messages`);
        await smtp.reset();
        const ceiling = await runCeiling({ port: smtp.port, count: digests, concurrency, email });
        const ceilingSmtp = await smtp.stats();

        log(`${shown} papers: paperboy, one worker (CPU profile on)`);
        await smtp.reset();
        const profileDir = cpuProfileDir
          ? join(cpuProfileDir, `${store}-${shown}`)
          : join(directory, `prof-${shown}`);
        mkdirSync(profileDir, { recursive: true });
        const paperboy = await runPaperboy({
          run,
          store: runStore,
          workerCount: 1,
          expected: digests,
          log,
          cpuProfileDir: profileDir,
        });
        const paperboySmtp = await smtp.stats();
        const worker = paperboy.workers[0] as (typeof paperboy.workers)[number];
        const ceilingRate = digests / (ceiling.ms / 1000);
        const rate = digests / (paperboy.totalMs / 1000);
        return {
          shown,
          ceiling: { ...ceiling, rate: ceilingRate, smtp: ceilingSmtp },
          paperboy: { ...paperboy, rate, smtp: paperboySmtp },
          sendRate: (digests - 1) / (paperboy.sendSpanMs / 1000),
          ratio: rate / ceilingRate,
          worker,
          peakRss: Math.max(worker.peakRss, worker.highWaterMark),
          cost: runCosts(paperboy, digests),
          phases: splitByPhase(readNewestProfile(profileDir), paperboy.profileWindow),
        };
      };
      const results: Awaited<ReturnType<typeof measure>>[] = [];
      const shownSizes = sizes.shown ? [sizes.shown as number] : messageSizes;
      for (const shown of shownSizes) results.push(await measure(shown));

      const cores = availableParallelism();
      const isPostgres = store === 'postgres';
      const label = (r: (typeof results)[number]) => `${r.shown} papers`;
      const kib = (stats: { bytes: number; messages: number }) =>
        `${(stats.bytes / Math.max(1, stats.messages) / 1024).toFixed(1)} KiB`;
      const bySize = <T>(pick: (r: (typeof results)[number]) => T) =>
        Object.fromEntries(results.map((r) => [`s${r.shown}`, pick(r)]));
      const sizeColumns = results.map((r) => ({ key: `s${r.shown}`, header: label(r) }));
      const small = results.find((r) => r.shown === cpuGoalSize);

      const checks: TargetCheck[] = results.flatMap((r) => [
        {
          name: `${label(r)} (${kib(r.paperboy.smtp)}): paperboy rate / ceiling rate`,
          target: `≥ ${targets.ratio}×`,
          measured: `${r.ratio.toFixed(2)}×`,
          isMet: r.ratio >= targets.ratio,
        },
        {
          name: `${label(r)}: peak RSS of the worker over ${format.count(digests)} digests`,
          target: `< ${format.mb(targets.peakRss)}`,
          measured: format.mb(r.peakRss),
          isMet: r.peakRss < targets.peakRss,
        },
        {
          name: `${label(r)}: every digest sent, one message each`,
          target: `${format.count(digests)}`,
          measured: `${format.count(r.paperboy.statuses.sent ?? 0)} sent, ${format.count(r.paperboy.smtp.messages)} at SMTP`,
          isMet: r.paperboy.statuses.sent === digests && r.paperboy.smtp.messages === digests,
        },
      ]);
      if (small)
        checks.splice(1, 0, {
          name: `${label(small)}: worker CPU per digest`,
          target: `≤ ${format.ms(targets.cpuPerDigestMs)}`,
          measured: msPer(small.cost.workerCpuPerDigest),
          isMet: small.cost.workerCpuPerDigest <= targets.cpuPerDigestMs,
        });

      return {
        tables: [
          {
            title: `Delivery of ${format.count(digests)} digests at each size to a counting SMTP server on loopback (concurrency ${concurrency}), ${storeNames[store]}`,
            columns: [
              { key: 'path', header: 'path', align: 'left' },
              { key: 'time', header: 'time' },
              { key: 'rate', header: 'digests/s' },
              { key: 'ratio', header: 'vs ceiling' },
              { key: 'size', header: 'mean message' },
              { key: 'cpu', header: 'CPU of sender' },
              { key: 'cpuPer', header: 'per digest' },
              { key: 'rss', header: 'sender peak RSS' },
            ],
            rows: results.flatMap((r) => [
              {
                path: `${label(r)}: ceiling, nodemailer pool, pre-rendered, no queue, no DB`,
                time: format.ms(r.ceiling.ms),
                rate: format.perSecond(r.ceiling.rate),
                ratio: '1.00×',
                size: kib(r.ceiling.smtp),
                cpu: format.ms(r.ceiling.cpuMs),
                cpuPer: msPer(r.ceiling.cpuMs / digests),
                rss: '–',
              },
              {
                path: `${label(r)}: paperboy, plan + BullMQ + pick + render + SMTP`,
                time: format.ms(r.paperboy.totalMs),
                rate: format.perSecond(r.paperboy.rate),
                ratio: `${r.ratio.toFixed(2)}×`,
                size: kib(r.paperboy.smtp),
                cpu: format.ms(r.worker.cpuMs),
                cpuPer: msPer(r.cost.workerCpuPerDigest),
                rss: format.mb(r.peakRss),
              },
              {
                path: `${label(r)}: paperboy, first to last sent_at (sending only)`,
                time: format.ms(r.paperboy.sendSpanMs),
                rate: format.perSecond(r.sendRate),
                ratio: `${(r.sendRate / r.ceiling.rate).toFixed(2)}×`,
                size: '',
                cpu: '',
                cpuPer: '',
                rss: '',
              },
            ]),
          },
          {
            title:
              "The worker's CPU per digest by phase: its CPU (/proc, all threads) split by the shares of its V8 CPU profile's samples (main thread, plan start to last digest)",
            columns: [{ key: 'phase', header: 'phase', align: 'left' }, ...sizeColumns],
            rows: [
              ...phaseNames.map((phase) => ({
                phase,
                ...bySize((r) => {
                  const share = r.phases.shares[phase] ?? 0;
                  return `${msPer(share * r.cost.workerCpuPerDigest)} (${(share * 100).toFixed(0)} %)`;
                }),
              })),
              { phase: 'worker CPU per digest', ...bySize((r) => msPer(r.cost.workerCpuPerDigest)) },
              { phase: 'profile samples counted', ...bySize((r) => format.count(r.phases.samples)) },
            ],
          },
          {
            title: 'paperboy run details',
            columns: [{ key: 'what', header: 'what', align: 'left' }, ...sizeColumns],
            rows: [
              {
                what: 'worker start-up (spawn to idle, not timed)',
                ...bySize((r) => format.ms(r.paperboy.workerStartMs)),
              },
              {
                what: 'planDigests (mode all, in the benchmark process)',
                ...bySize((r) => format.ms(r.paperboy.planMs)),
              },
              {
                what: 'digest statuses',
                ...bySize((r) =>
                  Object.entries(r.paperboy.statuses)
                    .map(([status, n]) => `${status} ${format.count(n)}`)
                    .join(', '),
                ),
              },
              {
                what: 'papers picked per digest (mean; the web version keeps up to 100)',
                ...bySize((r) => r.paperboy.meanPapers.toFixed(1)),
              },
              {
                what: 'worker RSS idle, then at 25 / 50 / 75 / 100 % done',
                ...bySize((r) =>
                  [r.worker.idleRss, ...r.worker.rssAtProgress].map((rss) => format.mb(rss)).join(' / '),
                ),
              },
              {
                what: 'worker CPU / wall while sending',
                ...bySize((r) => format.share(r.worker.cpuMs / r.paperboy.totalMs)),
              },
              {
                what: `machine cores busy on average (of ${cores}; everything on the machine)`,
                ...bySize((r) => r.cost.machineCores.toFixed(2)),
              },
              {
                what: isPostgres
                  ? 'database time per digest (active_time of every session: workers and planner)'
                  : 'database time per digest (inside better-sqlite3: worker and planner)',
                ...bySize((r) => msPer(r.cost.dbPerDigest)),
              },
              ...(isPostgres
                ? [
                    {
                      what: 'PostgreSQL backend CPU per digest',
                      ...bySize((r) => msPer(r.cost.serverCpuPerDigest)),
                    },
                    {
                      what: 'waits inside PostgreSQL per digest (sampled wait events)',
                      ...bySize((r) => describeWaitEvents(r.paperboy.load, digests)),
                    },
                    {
                      what: 'waiting for a pooled connection per digest (≥ 1 ms waits)',
                      ...bySize(
                        (r) =>
                          `${msPer(r.cost.poolWaitPerDigest)} (${format.count(r.paperboy.load.poolWaits)})`,
                      ),
                    },
                    {
                      what: 'rows read per digest by table (sequential scans + index entries)',
                      ...bySize((r) => describeTableReads(r.paperboy, digests, 2)),
                    },
                    {
                      what: 'transactions / rows inserted / rows updated per digest (pg_stat_database)',
                      ...bySize((r) => {
                        const stats = r.paperboy.databaseStats;
                        return stats
                          ? [stats.xact_commit, stats.tup_inserted, stats.tup_updated]
                              .map((n) => ((n ?? 0) / digests).toFixed(1))
                              .join(' / ')
                          : '–';
                      }),
                    },
                  ]
                : [
                    {
                      what: 'write lock held per digest (write transactions and autocommit writes)',
                      ...bySize((r) => msPer(r.cost.writeLockPerDigest)),
                    },
                  ]),
              {
                what: isPostgres
                  ? 'lock waits (samples with a worker backend waiting on a lock)'
                  : 'lock waits (writes that waited ≥ 1 ms for another process)',
                ...bySize(
                  (r) =>
                    `${format.count(r.paperboy.load.lockWaits)} (${format.ms(r.paperboy.load.lockWaitMs)})`,
                ),
              },
            ],
          },
        ],
        targets: checks,
        notes: [
          'the SMTP server is smtp-server in a child process of its own (answers 250 at once, counts messages, bytes and recipients); Redis is a private redis-server on a free port',
          'the paperboy time starts when planning starts, with the worker already started and idle; it ends when the database shows no digest queued or sending',
          'worker peak RSS is the larger of VmRSS sampled every 100 ms and the kernel VmHWM; that it stays flat to 100,000 digests takes a run with --digests 100000',
          "the phase split reads a CPU profile the worker writes (node --cpu-prof, 1 ms sampling; its cost is in the figures): each sample goes to the innermost frame on its stack that a rule of bench/cpu-phases.ts names; the CPU of V8's GC helpers and libuv's threads is spread with the main thread's shares",
          ...results
            .filter((r) => !r.phases.isWindowed)
            .map(
              (r) =>
                `${label(r)}: the profile's clock did not match the run's window, so start-up and idle are counted too`,
            ),
          'one run per path and size (--warmup and --runs are not used): each run sends every digest once',
        ],
        data: {
          digests,
          concurrency,
          store,
          results,
        },
        summary: results.flatMap((r) => [
          {
            what: `${label(r)}: ceiling (nodemailer alone)`,
            text: format.perSecond(r.ceiling.rate),
            value: r.ceiling.rate,
          },
          {
            what: `${label(r)}: paperboy, end to end`,
            text: format.perSecond(r.paperboy.rate),
            value: r.paperboy.rate,
          },
          { what: `${label(r)}: paperboy / ceiling`, text: `${r.ratio.toFixed(2)}×`, value: r.ratio },
          {
            what: `${label(r)}: worker CPU per digest`,
            text: msPer(r.cost.workerCpuPerDigest),
            value: r.cost.workerCpuPerDigest,
          },
          {
            what: `${label(r)}: database time per digest`,
            text: msPer(r.cost.dbPerDigest),
            value: r.cost.dbPerDigest,
          },
          {
            what: `${label(r)}: PostgreSQL CPU per digest`,
            text: msPer(r.cost.serverCpuPerDigest),
            value: r.cost.serverCpuPerDigest,
          },
          { what: `${label(r)}: worker peak RSS`, text: format.mb(r.peakRss), value: r.peakRss },
        ]),
        bounds: results.flatMap((r) =>
          describeDeliveryBounds(store, r.paperboy, digests, cores).map((line) => `${label(r)}: ${line}`),
        ),
      };
    } finally {
      await smtp.close();
      await redis.stop();
      for (const created of stores) await created.drop();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
