import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Ctx } from './context.js';
import {
  countDigestsByStatus,
  countIngestRunsByStatus,
  countPapers,
  countSubscribersByStatus,
  lastPlannedAt,
  latestIngestRunsBySource,
} from './ops/read-stats.js';
import type { QueueCounts } from './queue/counts.js';

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

/**
 * The registry `/metrics` serves: the process metrics plus gauges computed at scrape time from the
 * database and the queues. Built per app (tests start several apps in one process), so the gauges
 * are never registered twice.
 */
export function createScrapeRegistry(deps: {
  ctx: Pick<Ctx, 'db' | 'clock' | 'log'>;
  readQueueCounts: () => Promise<QueueCounts>;
}): Registry {
  const { ctx } = deps;
  const { db } = ctx;
  const state = new Registry();
  const registers = [state];

  new Gauge({
    name: 'paperboy_subscribers',
    help: 'Subscribers by status',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const [status, value] of Object.entries(await countSubscribersByStatus(db)))
        this.set({ status }, value);
    },
  });
  new Gauge({
    name: 'paperboy_digests',
    help: 'Digest rows by status',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const [status, value] of Object.entries(await countDigestsByStatus(db)))
        this.set({ status }, value);
    },
  });
  new Gauge({
    name: 'paperboy_papers',
    help: 'Papers stored',
    registers,
    async collect() {
      this.set(await countPapers(db));
    },
  });
  new Gauge({
    name: 'paperboy_digest_last_planned_timestamp_seconds',
    help: 'When the newest digest was planned (the last tick that planned anything)',
    registers,
    async collect() {
      const at = await lastPlannedAt(db);
      this.reset();
      if (at) this.set(seconds(at));
    },
  });
  new Gauge({
    name: 'paperboy_queue_jobs',
    help: 'BullMQ jobs by queue and state (absent while Redis does not answer)',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      try {
        for (const [queue, counts] of Object.entries(await deps.readQueueCounts())) {
          for (const [jobState, value] of Object.entries(counts)) this.set({ queue, state: jobState }, value);
        }
      } catch (error) {
        ctx.log.warn({ err: error }, 'metrics: queue counts unavailable');
      }
    },
  });
  new Gauge({
    name: 'paperboy_ingest_runs',
    help: 'Recorded ingestion runs by status',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const [status, value] of Object.entries(await countIngestRunsByStatus(db)))
        this.set({ status }, value);
    },
  });
  new Gauge({
    name: 'paperboy_ingest_last_run_papers',
    help: 'Papers inserted, updated and rejected by the latest run of each source (sources seen in the last 7 days)',
    labelNames: ['source', 'result'],
    registers,
    async collect() {
      const runs = await latestIngestRunsBySource(ctx);
      this.reset();
      for (const run of runs) {
        this.set({ source: run.source, result: 'inserted' }, run.inserted);
        this.set({ source: run.source, result: 'updated' }, run.updated);
        this.set({ source: run.source, result: 'rejected' }, run.rejected);
      }
    },
  });
  new Gauge({
    name: 'paperboy_ingest_last_run_timestamp_seconds',
    help: 'When the latest run of each source finished, labelled with its status',
    labelNames: ['source', 'status'],
    registers,
    async collect() {
      const runs = await latestIngestRunsBySource(ctx);
      this.reset();
      for (const run of runs) {
        this.set({ source: run.source, status: run.status }, seconds(run.finishedAt));
      }
    },
  });

  return Registry.merge([registry, state]);
}
