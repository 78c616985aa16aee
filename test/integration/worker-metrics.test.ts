import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { metricsPortFor, workerMetricsPort } from '../../src/main/metrics-server.js';
import { startRuntime } from '../../src/main/runtime.js';
import { testConfig } from '../support/app.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { freePort } from '../support/ports.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

/** The value of one sample line of Prometheus text, e.g. `paperboy_queue_workers{queue="send"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A worker process's shape: workers and no HTTP app, plus the metrics server on a free port. */
async function startWorkerRuntime(env: Record<string, string> = {}) {
  const { config, dir } = testConfig(env);
  const runtime = await startRuntime(config, {
    http: false,
    workers: true,
    schedules: false,
    metricsPort: 0,
  });
  return {
    runtime,
    url: runtime.metricsUrl ?? '',
    async close() {
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('a worker process serves /metrics, /healthz and /readyz on its own port', () => {
  let worker: Awaited<ReturnType<typeof startWorkerRuntime>>;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    worker = await startWorkerRuntime({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await worker?.close();
    await smtp?.close();
  });

  it('listens on HOST at the port asked for, without the HTTP app', () => {
    expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.runtime.url).toBeUndefined();
  });

  it('exports the send histogram as digests are sent, and the queue gauges, over real HTTP', async () => {
    const { db, ctx } = worker.runtime;
    const before = await fetch(`${worker.url}/metrics`);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const beforeText = await before.text();
    const sentBefore = sample(beforeText, 'paperboy_digest_send_seconds_count') ?? 0;

    await seedSamplePapers(db);
    await seedSubscriber(db, { email: 'reader@example.org', topics: [] });
    const planned = await planDigests({ ctx, input: { mode: 'all' } });
    expect(planned.planned).toBe(1);
    await smtp.waitFor((mail) => mail.length === 1, 20_000);

    let text = '';
    await until(
      async () => {
        text = await (await fetch(`${worker.url}/metrics`)).text();
        // The histogram is observed once the row says sent; the job completes after that.
        return sample(text, 'paperboy_queue_jobs{queue="send",state="completed"}') === 1;
      },
      10_000,
      'the send job to complete',
    );
    expect(sample(text, 'paperboy_digests{status="sent"}')).toBe(1);
    expect(text).toContain('# TYPE paperboy_digest_send_seconds histogram');
    expect(sample(text, 'paperboy_digest_send_seconds_count')).toBe(sentBefore + 1);
    expect(sample(text, 'paperboy_digest_send_seconds_bucket{le="+Inf"}')).toBe(sentBefore + 1);
    for (const queue of ['mail', 'ingest', 'digests', 'send']) {
      expect(sample(text, `paperboy_queue_jobs{queue="${queue}",state="waiting"}`)).toBe(0);
      // This process's own worker of each queue, seen through Redis's client list.
      expect(sample(text, `paperboy_queue_workers{queue="${queue}"}`)).toBe(1);
    }
    expect(sample(text, 'paperboy_queue_jobs{queue="send",state="completed"}')).toBe(1);
    expect(sample(text, 'paperboy_digest_failures{kind="bounce"}')).toBe(0);
    expect(sample(text, 'paperboy_digest_failures{kind="error"}')).toBe(0);
    expect(sample(text, 'paperboy_ready{check="database"}')).toBe(1);
    expect(sample(text, 'paperboy_ready{check="redis"}')).toBe(1);
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
  });

  it('answers /healthz and /readyz as the HTTP app does', async () => {
    const health = await fetch(`${worker.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, redis: true } });
    const head = await fetch(`${worker.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 404 for any other path and 405 for a POST', async () => {
    for (const path of ['/', '/api/papers', '/metrics/extra', '/admin/queues']) {
      expect((await fetch(`${worker.url}${path}`)).status).toBe(404);
    }
    const post = await fetch(`${worker.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${worker.url}/readyz`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('a worker whose Redis stops answering', () => {
  let redis: ChildProcess | undefined;
  let port: number;
  const startRedis = async () => {
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await until(
      async () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG',
      10_000,
      'the private redis-server',
    );
  };
  const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

  beforeAll(async () => {
    port = await freePort();
    if (hasRedisServer) await startRedis();
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it.skipIf(!hasRedisServer)(
    'says so on /readyz (503) and in paperboy_ready, keeps serving /metrics, and recovers',
    async () => {
      const worker = await startWorkerRuntime({ REDIS_URL: `redis://127.0.0.1:${port}` });
      try {
        expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
        const stopped = new Promise((resolve) => redis?.once('exit', resolve));
        redis?.kill('SIGKILL');
        await stopped;

        const ready = await fetch(`${worker.url}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({
          status: 'unavailable',
          checks: { database: true, redis: false },
        });
        expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
        const metrics = await fetch(`${worker.url}/metrics`);
        expect(metrics.status).toBe(200);
        const text = await metrics.text();
        expect(sample(text, 'paperboy_ready{check="redis"}')).toBe(0);
        expect(sample(text, 'paperboy_ready{check="database"}')).toBe(1);
        // The queue gauges are absent while Redis is down; the database's are still there.
        expect(text).not.toMatch(/^paperboy_queue_workers\{/m);
        expect(sample(text, 'paperboy_digests{status="queued"}')).toBe(0);

        await startRedis();
        await until(
          async () => (await fetch(`${worker.url}/readyz`)).status === 200,
          20_000,
          '/readyz to recover',
        );
      } finally {
        await worker.close();
      }
    },
    60_000,
  );
});

describe('the metrics port', () => {
  it('defaults to 9464 for a worker, off for start and serve; METRICS_PORT overrides, off turns it off', () => {
    expect(workerMetricsPort).toBe(9464);
    expect(metricsPortFor(loadConfig({}), 'worker')).toBe(9464);
    expect(metricsPortFor(loadConfig({}), 'start')).toBeUndefined();
    expect(metricsPortFor(loadConfig({}), 'serve')).toBeUndefined();
    expect(metricsPortFor(loadConfig({ METRICS_PORT: '9100' }), 'worker')).toBe(9100);
    expect(metricsPortFor(loadConfig({ METRICS_PORT: '9100' }), 'start')).toBe(9100);
    expect(metricsPortFor(loadConfig({ METRICS_PORT: '0' }), 'worker')).toBe(0);
    expect(metricsPortFor(loadConfig({ METRICS_PORT: 'off' }), 'worker')).toBeUndefined();
  });

  it('stops start-up with a clear message when the port is taken, and leaves nothing open', async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    );
    const { config, dir } = testConfig();
    try {
      await expect(
        startRuntime(config, { http: false, workers: true, schedules: false, metricsPort: port }),
      ).rejects.toThrow(
        `METRICS_PORT: cannot listen on 127.0.0.1:${port}: another process holds it (each worker on one machine needs its own METRICS_PORT; 0 picks a free one, off turns it off)`,
      );
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
