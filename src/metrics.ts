import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Ctx } from './context.js';
import {
  countDigestFailuresByKind,
  countDigestsByStatus,
  countIngestRunsByStatus,
  countPapers,
  countSubscribersByStatus,
  lastIngestSuccessBySource,
  lastPlannedAt,
  latestIngestRunsBySource,
  readIngestSourceHealth,
} from './ops/read-stats.js';
import { checkReadiness } from './ops/readiness.js';
import type { RedisClient } from './queue/connection.js';
import { readQueueCounts, readQueueWorkers } from './queue/counts.js';

/** Process-wide metrics: Node's defaults and what this process observes as it works. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const digestSendSeconds = new Histogram({
  name: 'paperboy_digest_send_seconds',
  help: 'Time to send one digest, from claiming its row to the SMTP server accepting it',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

/** Called by the send path once a digest has been accepted by the SMTP server. */
export function observeDigestSend(seconds: number): void {
  digestSendSeconds.observe(seconds);
}

const seconds = (date: Date) => date.getTime() / 1000;

type Sample<L extends string> = [labels: Partial<Record<L, string>>, value: number];

/**
 * The registry `/metrics` serves, in the HTTP app and in a worker's metrics server alike: the process
 * metrics plus gauges computed at scrape time from the database and the queues. Built per app (tests
 * start several apps in one process), so the gauges are never registered twice.
 *
 * A gauge whose source does not answer (the database or Redis is down) is left out of that scrape
 * rather than failing it: `/metrics` keeps answering, and `paperboy_ready` says which check failed.
 */
export function createScrapeRegistry(deps: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'log' | 'config'>;
  redis: RedisClient;
  queues: Record<string, Queue>;
}): Registry {
  const { ctx, queues } = deps;
  const { db } = ctx;
  const state = new Registry();

  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read: () => Promise<Sample<L>[]>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [state],
      async collect() {
        let samples: Sample<L>[] = [];
        try {
          samples = await read();
        } catch (error) {
          ctx.log.warn({ err: error, metric: name }, 'metrics: source unavailable, gauge left out');
        }
        this.reset();
        for (const [labels, value] of samples) this.set(labels, value);
      },
    });
  const byLabel = <L extends string>(label: L, counts: Record<string, number>): Sample<L>[] =>
    Object.entries(counts).map(([key, value]) => [{ [label]: key } as Record<L, string>, value]);

  gauge('paperboy_subscribers', 'Subscribers by status', ['status'], async () =>
    byLabel('status', await countSubscribersByStatus(db)),
  );
  gauge('paperboy_digests', 'Digest rows by status', ['status'], async () =>
    byLabel('status', await countDigestsByStatus(db)),
  );
  gauge(
    'paperboy_digest_failures',
    'Failed digest rows by cause: bounce (the SMTP server refused the address for good, 5xx) or error (anything else, after the last retry); they add up to paperboy_digests{status="failed"}',
    ['kind'],
    async () => byLabel('kind', await countDigestFailuresByKind(db)),
  );
  gauge('paperboy_papers', 'Papers stored', [], async () => [[{}, await countPapers(db)]]);
  gauge(
    'paperboy_digest_last_planned_timestamp_seconds',
    'When the newest digest was planned (the last tick that planned anything)',
    [],
    async () => {
      const at = await lastPlannedAt(db);
      return at ? [[{}, seconds(at)]] : [];
    },
  );
  gauge(
    'paperboy_queue_jobs',
    'BullMQ jobs by queue and state (absent while Redis does not answer)',
    ['queue', 'state'],
    async () =>
      Object.entries(await readQueueCounts(queues)).flatMap(([queue, counts]) =>
        Object.entries(counts).map(
          ([jobState, value]): Sample<'queue' | 'state'> => [{ queue, state: jobState }, value],
        ),
      ),
  );
  gauge(
    'paperboy_queue_workers',
    'Live BullMQ workers per queue, in every process sharing this Redis and QUEUE_PREFIX (absent while Redis does not answer)',
    ['queue'],
    async () => byLabel('queue', await readQueueWorkers(queues)),
  );
  gauge('paperboy_ingest_runs', 'Recorded ingestion runs by status', ['status'], async () =>
    byLabel('status', await countIngestRunsByStatus(db)),
  );
  gauge(
    'paperboy_ingest_last_run_papers',
    'Papers inserted, updated and rejected by the latest run of each source (sources seen in the last 7 days)',
    ['source', 'result'],
    async () =>
      (await latestIngestRunsBySource(ctx)).flatMap((run): Sample<'source' | 'result'>[] => [
        [{ source: run.source, result: 'inserted' }, run.inserted],
        [{ source: run.source, result: 'updated' }, run.updated],
        [{ source: run.source, result: 'rejected' }, run.rejected],
      ]),
  );
  gauge(
    'paperboy_ingest_last_run_timestamp_seconds',
    'When the latest run of each source finished, labelled with its status',
    ['source', 'status'],
    async () =>
      (await latestIngestRunsBySource(ctx)).map((run) => [
        { source: run.source, status: run.status },
        seconds(run.finishedAt),
      ]),
  );
  gauge(
    'paperboy_ingest_last_success_timestamp_seconds',
    'When each source in INGEST_SOURCES last ingested successfully (absent until it first does)',
    ['source'],
    async () =>
      (await lastIngestSuccessBySource(db, ctx.config.ingest.sources)).map((run) => [
        { source: run.source },
        seconds(run.finishedAt),
      ]),
  );
  gauge(
    'paperboy_ingest_failed_dates',
    'Dates of a dated source (hf-daily) whose latest run failed and that the next run retries',
    ['source'],
    async () =>
      (await readIngestSourceHealth(ctx)).map((health) => [
        { source: health.source },
        health.failedDates.length,
      ]),
  );
  gauge(
    'paperboy_ready',
    'Whether this process reaches each dependency /readyz checks (1) or not (0); /readyz answers 503 while any is 0',
    ['check'],
    async () => {
      const { checks } = await checkReadiness({ db, redis: deps.redis });
      return Object.entries(checks).map(([check, isUp]) => [{ check }, isUp ? 1 : 0]);
    },
  );

  return Registry.merge([registry, state]);
}
