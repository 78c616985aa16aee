import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { livenessAnswer, type Readiness, readinessAnswer } from '../ops/readiness.js';

/**
 * The port a `worker` serves `/metrics`, `/healthz` and `/readyz` on when METRICS_PORT is unset: the
 * port OpenTelemetry's Prometheus exporter uses by convention. `start` and `serve` answer those paths
 * on PORT already, so they open this second server only when METRICS_PORT names one.
 */
export const workerMetricsPort = 9464;

/** The port of a long-running role's metrics server, or undefined for none. */
export function metricsPortFor(config: Pick<Config, 'metrics'>, role: 'start' | 'serve' | 'worker') {
  const { port } = config.metrics;
  if (port === 'off') return undefined;
  return port ?? (role === 'worker' ? workerMetricsPort : undefined);
}

/** The metrics server could not listen (most often: another process holds the port). */
export class MetricsPortError extends Error {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const why =
      cause.code === 'EADDRINUSE'
        ? `another process holds it (each worker on one machine needs its own METRICS_PORT; 0 picks a free one, off turns it off)`
        : cause.message;
    super(`METRICS_PORT: cannot listen on ${host}:${port}: ${why}`, { cause });
    this.name = 'MetricsPortError';
  }
}

export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464` */
  url: string;
  close(): Promise<void>;
}

/**
 * `/metrics`, `/healthz` and `/readyz` on a plain `node:http` server, for a process without the HTTP
 * app (a worker never loads express). The answers are the HTTP app's: the same scrape registry and
 * the same readiness checks. GET and HEAD only; any other path is 404.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Promise<Readiness>;
  log: Logger;
}): Promise<MetricsServer> {
  const { registry, log } = options;
  const answer = async (path: string): Promise<{ status: number; type: string; body: string }> => {
    if (path === '/metrics')
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    const json = (reply: { status: number; body: unknown }) => ({
      status: reply.status,
      type: 'application/json; charset=utf-8',
      body: JSON.stringify(reply.body),
    });
    if (path === '/healthz') return json(livenessAnswer);
    return json(readinessAnswer(await options.readiness()));
  };
  const paths = new Set(['/metrics', '/healthz', '/readyz']);

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    res.setHeader('Cache-Control', 'no-store');
    if (!paths.has(path)) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    answer(path).then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        log.error({ err: error, path }, 'metrics server: unexpected error');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Internal error\n');
      },
    );
  });
  // A scraper keeps its connection open between scrapes; nothing here needs long requests.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new MetricsPortError(options.host, options.port, error)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
