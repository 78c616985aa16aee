import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { Ctx, MailCtx } from '../context.js';
import { type Db, openMigratedDatabase } from '../db/client.js';
import { planDigests } from '../digests/plan-digests.js';
import { createCandidatesCache, type SendCtx, sendDigest } from '../digests/send-digest.js';
import { loadEmailTemplates } from '../email/load-templates.js';
import { createMailer, type Mailer } from '../email/mailer.js';
import { fetchLikedPapers } from '../feedback/fetch-liked-papers.js';
import { createLogger, type Logger } from '../log.js';
import { createScrapeRegistry } from '../metrics.js';
import { checkReadiness } from '../ops/readiness.js';
import { ingestPapers } from '../papers/ingest.js';
import { checkRedis, createRedis } from '../queue/connection.js';
import type { QueueName } from '../queue/jobs.js';
import { createProducer, type Producer } from '../queue/producer.js';
import { registerSchedules } from '../queue/schedules.js';
import { createEmailThrottle } from '../queue/throttle.js';
import { startWorkers } from '../queue/workers.js';
import { sendLifecycleEmail } from '../subscribers/send-lifecycle-email.js';
import { createTokens } from '../subscribers/tokens.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';

export interface RuntimeOptions {
  http: boolean;
  workers: boolean;
  /** Only these queues get workers; all when absent. */
  queues?: QueueName[];
  /** Register the repeating jobs (ingestion, digest tick); default true with workers. */
  schedules?: boolean;
  /**
   * Serve `/metrics`, `/healthz` and `/readyz` on this port (0: any free one) with a small `node:http`
   * server; absent: none. The CLI sets it for its long-running roles (`metricsPortFor`).
   */
  metricsPort?: number;
  clock?: Clock;
  log?: Logger;
}

export interface Runtime {
  ctx: Ctx;
  producer: Producer;
  db: Db;
  /** The listening address when `http` is on, e.g. `http://127.0.0.1:3000`. */
  url?: string;
  /** The metrics server's address when `metricsPort` is set, e.g. `http://127.0.0.1:9464`. */
  metricsUrl?: string;
  workers: Worker[];
  close(): Promise<void>;
}

/** The composition root shared by every command and by the tests: config → db → deps → start. */
export async function startRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? createLogger(config.logLevel);
  // First: a bad SMTP setting or CA file should stop start-up before any connection is opened.
  const mailer: Mailer | undefined = options.workers ? createMailer(config.mail) : undefined;
  await checkRedis(config.redis);

  const db = await openMigratedDatabase(config.database);
  // Requests, the throttle and the producer send their commands auto-pipelined: those of every request
  // in one turn of the event loop leave in one write. BullMQ's workers keep a connection of their own
  // without it (their job-state scripts assume nothing about batching).
  const redis = createRedis(config.redis, { isAutoPipelined: true });
  const workerRedis = options.workers ? createRedis(config.redis) : undefined;
  for (const connection of [redis, workerRedis]) {
    connection?.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  }
  const producer = createProducer(redis, config.redis.prefix, log);
  const ctx: Ctx = {
    config,
    db,
    clock: options.clock ?? systemClock,
    log,
    tokens: createTokens(config.secretKey),
    enqueue: producer.enqueue,
    enqueueMany: producer.enqueueMany,
    claimEmailSlot: createEmailThrottle(redis, { prefix: config.redis.prefix, secretKey: config.secretKey }),
  };

  const templates = await loadEmailTemplates();
  let workers: Worker[] = [];
  if (mailer) {
    const mailCtx: MailCtx = { ...ctx, mailer, templates };
    const sendCtx: SendCtx = { ...mailCtx, candidates: createCandidatesCache(ctx) };
    workers = startWorkers({
      connection: workerRedis ?? redis,
      prefix: config.redis.prefix,
      log,
      concurrency: { mail: 5, ingest: 1, digests: 1, send: config.digests.sendConcurrency },
      ratePerSecond: { send: config.digests.sendRatePerSecond },
      queues: options.queues,
      lockMs: config.jobLockMs,
      handlers: {
        'lifecycle-email': (input) => sendLifecycleEmail({ ctx: mailCtx, input }),
        'digest-tick': (input) =>
          planDigests({ ctx, input: { mode: input.mode, at: input.at ? new Date(input.at) : undefined } }),
        'send-digest': (input, job) =>
          sendDigest({
            ctx: sendCtx,
            input: {
              digestId: input.digestId,
              isLastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
            },
          }),
        ingest: async (input) => {
          const result = await ingestPapers({ ctx, input });
          return {
            inserted: result.inserted,
            updated: result.updated,
            rejected: result.rejected.length,
            dates: result.dates,
            arxiv: result.arxiv,
          };
        },
        'fetch-liked-papers': (data) => fetchLikedPapers({ ctx, input: { arxivIds: data.arxivIds ?? [] } }),
      },
    });
    if (options.schedules ?? true) await registerSchedules(producer, config, log);
  }

  let server: Server | undefined;
  if (options.http) {
    // Loaded only here: a worker process never loads express, helmet, bull-board or the pages.
    const { createApp } = await import('../http/app.js');
    const app = createApp({ ctx, redis, templates, queues: producer.queues });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.http.port, config.http.host, (error?: Error) =>
        error ? reject(error) : resolve(listening),
      );
    });
  }
  const address = server?.address() as AddressInfo | undefined;
  const url =
    address &&
    `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    // Stop taking requests, let workers finish the jobs in hand, then release connections.
    closing ??= (async () => {
      await metricsServer?.close();
      await new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections(); // keep-alive sockets would otherwise hold close() for seconds
      });
      await Promise.all(workers.map((worker) => worker.close()));
      await producer.close();
      mailer?.close();
      for (const connection of [redis, workerRedis]) {
        await connection?.quit().catch(() => connection.disconnect());
      }
      await db.close();
    })();
    return closing;
  };
  if (options.metricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer({
        host: config.http.host,
        port: options.metricsPort,
        registry: createScrapeRegistry({ ctx, redis, queues: producer.queues }),
        readiness: () => checkReadiness({ db, redis }),
        log,
      });
    } catch (error) {
      await close();
      throw error;
    }
  }
  return { ctx, db, producer, url, metricsUrl: metricsServer?.url, workers, close };
}
