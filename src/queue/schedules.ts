import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Producer } from './producer.js';

const ingestPrefix = 'ingest:';

/**
 * Registers the repeating jobs with BullMQ job schedulers. Upserting is idempotent, so every worker
 * may do this at every start without creating duplicates; schedulers for sources no longer configured
 * are removed.
 */
export async function registerSchedules(producer: Producer, config: Config, log: Logger): Promise<void> {
  const queue = producer.queues.ingest;
  const wanted = new Set(config.ingest.sources.map((source) => `${ingestPrefix}${source}`));
  for (const source of config.ingest.sources) {
    await queue.upsertJobScheduler(
      `${ingestPrefix}${source}`,
      { pattern: config.ingest.cron },
      {
        name: 'ingest',
        data: { source },
        opts: { attempts: 2, backoff: { type: 'exponential', delay: 60_000 } },
      },
    );
  }
  await producer.queues.digests.upsertJobScheduler(
    'digest-tick',
    { pattern: config.digests.tickCron },
    {
      name: 'digest-tick',
      data: { mode: 'due' },
      opts: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
    },
  );
  for (const scheduler of await queue.getJobSchedulers()) {
    if (scheduler.key.startsWith(ingestPrefix) && !wanted.has(scheduler.key)) {
      await queue.removeJobScheduler(scheduler.key);
      log.info({ scheduler: scheduler.key }, 'removed schedule of a source no longer configured');
    }
  }
}
