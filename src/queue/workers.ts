import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { PermanentDeliveryError } from '../email/mailer.js';
import type { Logger } from '../log.js';
import type { RedisClient } from './connection.js';
import { type JobName, type JobPayload, jobCatalog, type QueueName } from './jobs.js';

export type JobHandlers = { [N in JobName]: (payload: JobPayload<N>, job: Job) => Promise<unknown> };

/** Thin adapter: validate the payload, call the feature's handler, let BullMQ retry what throws. */
export function startWorkers(options: {
  connection: RedisClient;
  prefix: string;
  handlers: JobHandlers;
  concurrency: Partial<Record<QueueName, number>>;
  /** Jobs per second a queue may start, across all workers (BullMQ's global limiter). */
  ratePerSecond?: Partial<Record<QueueName, number>>;
  /** Only these queues get workers (`paperboy digest --wait` runs the send queue alone). */
  queues?: QueueName[];
  /** Lock duration and stalled-check interval: how soon a crashed worker's jobs run elsewhere. */
  lockMs?: number;
  log: Logger;
}): Worker[] {
  const byQueue = new Map<QueueName, JobName[]>();
  for (const [name, job] of Object.entries(jobCatalog) as [JobName, (typeof jobCatalog)[JobName]][]) {
    byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), name]);
  }
  const queues = [...byQueue.keys()].filter((queue) => !options.queues || options.queues.includes(queue));
  return queues.map((queue) => {
    const rate = options.ratePerSecond?.[queue];
    const worker = new Worker(
      queue,
      async (job) => {
        const name = job.name as JobName;
        const entry = jobCatalog[name];
        if (!entry) throw new Error(`Unknown job ${job.name} on queue ${queue}`);
        try {
          // The catalog ties each name to its schema and handler; TypeScript cannot follow the
          // correlation through the lookup, hence the one cast.
          const handler = options.handlers[name] as (payload: unknown, job: Job) => Promise<unknown>;
          return await handler(entry.payload.parse(job.data), job);
        } catch (error) {
          // A 5xx will fail the same way every time: fail the job now instead of retrying.
          if (error instanceof PermanentDeliveryError) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrency[queue] ?? 5,
        ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}),
        ...(rate ? { limiter: { max: rate, duration: 1000 } } : {}),
      },
    );
    worker.on('failed', (job, error) =>
      options.log.warn({ queue, jobId: job?.id, attempts: job?.attemptsMade, err: error }, 'job failed'),
    );
    worker.on('error', (error) => options.log.error({ queue, err: error }, 'worker error'));
    return worker;
  });
}
