import { z } from 'zod';

/**
 * The typed catalog of jobs: name → queue, payload schema and retry policy. Payloads carry ids only;
 * handlers re-read the rows, so no address or token ever sits in Redis.
 */
export const jobCatalog = {
  'lifecycle-email': {
    queue: 'mail',
    payload: z.object({
      kind: z.enum(['confirmation', 'manage', 'welcome']),
      subscriberId: z.number().int().positive(),
      /** Confirmation emails: the subscription request whose preferences the link applies. */
      requestId: z.number().int().positive().optional(),
    }),
    // ~2 s, 4 s, 8 s … about 8 minutes in all: rides out an SMTP server restart.
    options: { attempts: 8, backoff: { type: 'exponential', delay: 2000 } },
  },
  'digest-tick': {
    queue: 'digests',
    // `at` lets `paperboy digest --at` plan for another time; the scheduler's jobs plan for now.
    payload: z.object({ mode: z.enum(['due', 'all']).default('due'), at: z.string().optional() }),
    options: { attempts: 3, backoff: { type: 'exponential', delay: 10_000 } },
  },
  'send-digest': {
    queue: 'send',
    // `plannedAt` (the row's, in ms) only names the job; optional for jobs queued by older versions.
    payload: z.object({ digestId: z.number().int().positive(), plannedAt: z.number().int().optional() }),
    // One job per digest row: adding it twice is a no-op, so planning may safely re-enqueue. The
    // planning time makes the id unique across databases too: BullMQ keeps finished jobs for a day,
    // and a fresh database (or another install on the same QUEUE_PREFIX) starts its ids at 1 again.
    jobId: (payload: { digestId: number; plannedAt?: number }) =>
      payload.plannedAt === undefined
        ? `digest-${payload.digestId}`
        : `digest-${payload.digestId}-${payload.plannedAt}`,
    // 4xx and connection errors: ~5 s, 10 s, 20 s … about 40 minutes in all.
    options: { attempts: 10, backoff: { type: 'exponential', delay: 5000 } },
  },
  ingest: {
    queue: 'ingest',
    // The source name is the job's id of what to read; the papers themselves never pass through Redis.
    payload: z.object({ source: z.string().min(1).max(300), date: z.string().optional() }),
    // The feed client already retries requests; a second attempt covers a crash mid-run.
    options: { attempts: 2, backoff: { type: 'exponential', delay: 60_000 } },
  },
  'fetch-liked-papers': {
    queue: 'ingest',
    // The job asks arXiv for every liked paper still pending, whoever added it, and for the papers a
    // reader's topics just named with `like:` (ids only; at most 10 topics of 10 each).
    payload: z.object({ arxivIds: z.array(z.string().min(1).max(60)).max(100).optional() }),
    options: { attempts: 3, backoff: { type: 'exponential', delay: 60_000 } },
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]['payload']>;
export type QueueName = (typeof jobCatalog)[JobName]['queue'];
export const queueNames: QueueName[] = [...new Set(Object.values(jobCatalog).map((job) => job.queue))];

export type Enqueue = <N extends JobName>(name: N, payload: JobPayload<N>) => Promise<void>;
export type EnqueueMany = <N extends JobName>(name: N, payloads: JobPayload<N>[]) => Promise<void>;
