import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Enqueue, jobCatalog, type QueueName, queueNames } from './jobs.js';

export interface Producer {
  enqueue: Enqueue;
  queues: Record<QueueName, Queue>;
  close(): Promise<void>;
}

export function createProducer(connection: Redis, prefix: string): Producer {
  const queues = Object.fromEntries(
    queueNames.map((name) => [name, new Queue(name, { connection, prefix })]),
  ) as Record<QueueName, Queue>;
  return {
    queues,
    async enqueue(name, payload) {
      const job = jobCatalog[name];
      await queues[job.queue].add(name, job.payload.parse(payload), {
        ...job.options,
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    },
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
