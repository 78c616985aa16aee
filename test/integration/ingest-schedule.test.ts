import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { createLogger } from '../../src/log.js';
import { type Runtime, startRuntime } from '../../src/main/runtime.js';
import { testConfig } from '../support/app.js';
import { fixture, send, startFeedServer } from '../support/feed-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

async function startWorker(env: Record<string, string>): Promise<Runtime> {
  const { config } = testConfig(env);
  const runtime = await startRuntime(config, { http: false, workers: true, log: createLogger('silent') });
  cleanups.push(() => runtime.close());
  return runtime;
}

describe('scheduled ingestion', () => {
  it('runs INGEST_SOURCES on INGEST_CRON through a job scheduler and stores the papers', async () => {
    const feed = await startFeedServer((_req, res) =>
      send(res, 200, fixture('hf-daily-papers-2026-03-10.json')),
    );
    cleanups.push(() => feed.close());
    const env = {
      HF_API_URL: feed.url,
      INGEST_SOURCES: 'hf-daily',
      INGEST_CRON: '* * * * * *',
      QUEUE_PREFIX: `sched-${Date.now()}`,
    };
    const runtime = await startWorker(env);
    const count = () => runtime.db.value<number>(sql`select count(*) as n from papers`);
    await waitUntil(async () => (await count()) === 28);
    expect(feed.requests[0]?.pathname).toBe('/daily_papers');

    // Visible in Redis, and a second worker starting with the same settings adds no duplicate.
    await startWorker({ ...env, DATABASE_URL: runtime.ctx.config.database.url });
    const schedulers = await runtime.producer.queues.ingest.getJobSchedulers();
    expect(schedulers.map((scheduler) => [scheduler.key, scheduler.pattern])).toEqual([
      ['ingest:hf-daily', '* * * * * *'],
    ]);
  });

  it('drops the schedule of a source that is no longer configured', async () => {
    const prefix = `sched-drop-${Date.now()}`;
    const first = await startWorker({
      INGEST_SOURCES: 'hf-daily,arxiv:cs.LG',
      INGEST_CRON: '0 3 * * *',
      QUEUE_PREFIX: prefix,
    });
    expect((await first.producer.queues.ingest.getJobSchedulers()).map((s) => s.key).sort()).toEqual([
      'ingest:arxiv:cs.LG',
      'ingest:hf-daily',
    ]);
    const second = await startWorker({
      INGEST_SOURCES: 'arxiv:cs.LG',
      INGEST_CRON: '0 3 * * *',
      QUEUE_PREFIX: prefix,
    });
    expect((await second.producer.queues.ingest.getJobSchedulers()).map((s) => s.key)).toEqual([
      'ingest:arxiv:cs.LG',
    ]);
  });

  it('leaves a failed job in the queue when the feed fails', async () => {
    const feed = await startFeedServer((_req, res) => send(res, 200, '{"truncated":'));
    cleanups.push(() => feed.close());
    const runtime = await startWorker({
      HF_API_URL: feed.url,
      INGEST_SOURCES: 'hf-daily',
      INGEST_CRON: '0 3 * * *',
      QUEUE_PREFIX: `sched-fail-${Date.now()}`,
    });
    const queue = runtime.producer.queues.ingest;
    await queue.add('ingest', { source: 'hf-daily' }, { attempts: 1 });
    await waitUntil(async () => (await queue.getFailedCount()) === 1);
    const [failed] = await queue.getFailed();
    expect(failed?.failedReason).toMatch(/valid JSON/);
    expect(await runtime.db.get(sql`select count(*) as n from papers`)).toEqual({ n: 0 });
  });
});
