import type { Queue } from 'bullmq';

export const queueStates = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export type QueueState = (typeof queueStates)[number];
export type QueueCounts = Record<string, Record<QueueState, number>>;

/**
 * Job counts of every queue by state. The shared connection retries commands forever (BullMQ needs
 * that), so a scrape or stats request would hang while Redis is down: give up after `timeoutMs`.
 */
export async function readQueueCounts(queues: Record<string, Queue>, timeoutMs = 2000): Promise<QueueCounts> {
  const counts = Promise.all(
    Object.entries(queues).map(async ([name, queue]) => {
      const raw = await queue.getJobCounts(...queueStates);
      const byState = Object.fromEntries(queueStates.map((state) => [state, raw[state] ?? 0]));
      return [name, byState as Record<QueueState, number>] as const;
    }),
  );
  return Object.fromEntries(await withinTimeout(counts, timeoutMs));
}

/**
 * Live BullMQ workers of every queue, in any process: the Redis connections named for the queue
 * (`CLIENT LIST`). A worker that crashed drops out when Redis closes its connection.
 */
export async function readQueueWorkers(
  queues: Record<string, Queue>,
  timeoutMs = 2000,
): Promise<Record<string, number>> {
  const counts = Promise.all(
    Object.entries(queues).map(async ([name, queue]) => [name, await queue.getWorkersCount()] as const),
  );
  return Object.fromEntries(await withinTimeout(counts, timeoutMs));
}

/** Rejects with "Redis did not answer" when `work` takes longer than `timeoutMs`. */
async function withinTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
