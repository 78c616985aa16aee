import type { Queue } from 'bullmq';

export const queueStates = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export type QueueState = (typeof queueStates)[number];
export type QueueCounts = Record<string, Record<QueueState, number>>;

/**
 * Job counts of every queue by state. The shared connection retries commands forever (BullMQ needs
 * that), so a scrape or stats request would hang while Redis is down: give up after `timeoutMs`.
 */
export async function readQueueCounts(queues: Record<string, Queue>, timeoutMs = 2000): Promise<QueueCounts> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const counts = Promise.all(
    Object.entries(queues).map(async ([name, queue]) => {
      const raw = await queue.getJobCounts(...queueStates);
      const byState = Object.fromEntries(queueStates.map((state) => [state, raw[state] ?? 0]));
      return [name, byState as Record<QueueState, number>] as const;
    }),
  );
  try {
    return Object.fromEntries(await Promise.race([counts, timeout]));
  } finally {
    clearTimeout(timer);
  }
}
