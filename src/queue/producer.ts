import { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { RedisClient } from './connection.js';
import {
  type Enqueue,
  type EnqueueMany,
  type JobName,
  jobCatalog,
  type QueueName,
  queueNames,
} from './jobs.js';

export interface Producer {
  enqueue: Enqueue;
  enqueueMany: EnqueueMany;
  queues: Record<QueueName, Queue>;
  close(): Promise<void>;
}

export function createProducer(connection: RedisClient, prefix: string, log: Logger): Producer {
  const queues = Object.fromEntries(
    queueNames.map((name) => {
      const queue = new Queue(name, { connection, prefix });
      // Connection errors are retried by ioredis; log them instead of letting them reach stderr raw.
      queue.on('error', (error) => log.warn({ queue: name, err: error }, 'queue connection error'));
      return [name, queue];
    }),
  ) as Record<QueueName, Queue>;
  const jobFor = (name: JobName, payload: unknown) => {
    const job = jobCatalog[name];
    const data = job.payload.parse(payload);
    const jobId = 'jobId' in job ? job.jobId(data as { digestId: number; plannedAt?: number }) : undefined;
    return {
      name,
      data,
      opts: {
        ...job.options,
        ...(jobId ? { jobId } : {}),
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    };
  };
  const enqueueMany: EnqueueMany = async (name, payloads) => {
    if (payloads.length === 0) return;
    await queues[jobCatalog[name].queue].addBulk(payloads.map((payload) => jobFor(name, payload)));
  };
  // One job goes as one script call; addBulk would wrap even one in a pipeline of its own.
  const enqueue: Enqueue = async (name, payload) => {
    const job = jobFor(name, payload);
    await queues[jobCatalog[name].queue].add(job.name, job.data, job.opts);
  };
  return {
    queues,
    enqueue,
    enqueueMany,
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
