import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteUrl } from './database.js';
import {
  buildTemplateDatabase,
  copyDatabase,
  type PaperboyRun,
  recipient,
  runPaperboy,
  type SmtpStats,
  startCountingSmtp,
  startPrivateRedis,
} from './delivery-kit.js';
import { type Benchmark, type BenchResult, format, type TargetCheck } from './harness.js';

export const scaleOut: Benchmark = {
  name: 'scale-out',
  description:
    'the delivery run with one and then two `paperboy worker` processes on one Redis: rate, and exactly one email each',
  sizes: {
    digests: { default: 3_000, description: 'digests to plan and send in each run' },
    papers: { default: 2_000, description: 'papers first seen today' },
    concurrency: { default: 20, description: 'SEND_CONCURRENCY of each worker' },
  },
  async run({ sizes, seed, log }): Promise<BenchResult> {
    const digests = sizes.digests as number;
    const concurrency = sizes.concurrency as number;
    const directory = mkdtempSync(join(tmpdir(), 'paperboy-bench-scale-out-'));
    const redis = await startPrivateRedis();
    const smtp = await startCountingSmtp();
    const expected = Array.from({ length: digests }, (_, i) => recipient(i + 1));
    try {
      const now = new Date();
      const template = join(directory, 'template.sqlite');
      log(
        `building a database: ${format.count(sizes.papers as number)} papers, ${format.count(digests)} subscribers`,
      );
      await buildTemplateDatabase(sqliteUrl(template), {
        seed,
        now,
        papers: sizes.papers as number,
        subscribers: digests,
      });

      const results: { workers: number; run: PaperboyRun; smtp: SmtpStats }[] = [];
      for (const workerCount of [1, 2]) {
        const run = {
          databaseUrl: copyDatabase(template, join(directory, `run-${workerCount}.sqlite`)),
          redisUrl: redis.url,
          prefix: `bench-scale-${process.pid}-${workerCount}`,
          smtpUrl: smtp.url,
          concurrency,
        };
        await smtp.reset();
        log(`${workerCount} worker(s)`);
        const result = await runPaperboy({ run, workerCount, expected: digests, log });
        // Anything sent late (a duplicate after a lock expiry) would arrive by now.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        results.push({ workers: workerCount, run: result, smtp: await smtp.stats(expected) });
      }

      const rate = (run: PaperboyRun) => digests / (run.totalMs / 1000);
      const single = results[0] as (typeof results)[number];
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
      return {
        tables: [
          {
            title: `Scale-out: ${format.count(digests)} digests, SEND_CONCURRENCY ${concurrency} per worker, one Redis, one SQLite file`,
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
              rate: format.perSecond(rate(result.run)),
              relative: `${(rate(result.run) / rate(single.run)).toFixed(2)}×`,
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
        ],
        targets: checks,
        notes: [
          'counts per recipient are kept by the SMTP server (smtp-server in a child process); missing = expected addresses that got nothing',
          'both workers share one CPU pair with Redis, the SMTP server and the benchmark process: on 2 cores a second worker cannot double the rate',
          'one run per worker count (--warmup and --runs are not used)',
        ],
        data: {
          digests,
          concurrency,
          results: results.map((result) => ({ ...result, rate: rate(result.run) })),
        },
      };
    } finally {
      await smtp.close();
      await redis.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
