import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-url.js';

export class RedisUnavailableError extends Error {}

/** The shared connection: one node or a master found through Sentinel (`Redis`), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The URL without its password, for messages and logs (cluster and sentinel URLs too). */
export function redactUrl(url: string): string {
  // As config.ts reads them: the credentials run from `//` to the last `@`, the password from their first `:`.
  const match = /^([A-Za-z+]+:\/\/)([^:]*):(.*)@([^@]*)$/.exec(url);
  if (!match) return url;
  const [, scheme, user, password, rest] = match;
  return password ? `${scheme}${user}:***@${rest}` : url;
}

type ConnectionOptions = Omit<RedisOptions, 'host' | 'port' | 'path' | 'sentinels' | 'name'>;

/**
 * A client for `target`. `options` go to every node connection; for a Cluster the node-level options
 * ioredis refuses or ignores there (retryStrategy, enableOfflineQueue, lazyConnect,
 * enableAutoPipelining) go to `cluster` instead.
 */
function connect(target: RedisTarget, options: ConnectionOptions, cluster: ClusterOptions = {}): RedisClient {
  const auth = { username: target.username, password: target.password };
  switch (target.mode) {
    case 'single':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        ...auth,
        sentinels: target.nodes,
        name: target.name,
        // rediss+sentinel: TLS to the sentinels and to the master they name (ioredis' flag for the latter).
        ...(target.tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
      });
    case 'cluster': {
      const {
        retryStrategy: _,
        enableOfflineQueue,
        lazyConnect,
        enableAutoPipelining,
        ...nodeOptions
      } = options;
      return new Cluster(target.nodes, {
        ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
        ...(lazyConnect !== undefined && { lazyConnect }),
        ...(enableAutoPipelining !== undefined && { enableAutoPipelining }),
        ...cluster,
        redisOptions: { ...nodeOptions, ...auth, ...(target.tls && { tls: {} }) },
      });
    }
  }
}

/**
 * The connection BullMQ and paperboy's own keys share: BullMQ needs `maxRetriesPerRequest: null` (for a
 * Cluster, on every node connection: `redisOptions`). On a Cluster every key carries the prefix's hash
 * tag (config.ts insists), so BullMQ's and paperboy's multi-key scripts stay within one slot.
 * `isAutoPipelined`: the commands issued in one turn of the event loop go out in one write (ioredis'
 * `enableAutoPipelining`); not for BullMQ workers.
 */
export function createRedis(target: RedisTarget, options: { isAutoPipelined?: boolean } = {}): RedisClient {
  return connect(target, {
    maxRetriesPerRequest: null,
    enableAutoPipelining: options.isAutoPipelined ?? false,
  });
}

/** The INFO fields of one node. */
async function infoOf(node: Redis, section: string): Promise<Map<string, string>> {
  const fields = (await node.info(section)).split(/\r?\n/).filter((line) => line.indexOf(':') > 0);
  return new Map(fields.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]));
}

function within<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Fails fast with one clear line when Redis is down, too old or not what REDIS_URL says (a cluster node
 * given as one node, or the reverse), instead of ioredis retrying forever.
 */
export async function checkRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const client = connect(
    target,
    {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      ...(target.mode === 'sentinel' && { sentinelRetryStrategy: () => null }),
    },
    { clusterRetryStrategy: () => null, slotsRefreshTimeout: timeoutMs },
  );
  let firstError: Error | undefined;
  client.on('error', (error: Error) => {
    firstError ??= error; // reported below, once, with the socket's own reason (ECONNREFUSED …)
  });
  // A Cluster's own error ("Failed to refresh slots cache.") says nothing of why; its nodes' do.
  let firstNodeError: Error | undefined;
  client.on('node error', (error: Error) => {
    firstNodeError ??= error;
  });
  const where = {
    single: 'Redis',
    cluster: 'the Redis Cluster',
    sentinel: 'Redis through Sentinel',
  }[target.mode];
  const at = `${where} at ${redactUrl(target.url)}`;
  const hint = {
    single: 'Start Redis (e.g. `redis-server --daemonize yes`) or set REDIS_URL.',
    cluster: 'Check that the listed cluster nodes answer and the cluster is up, or set REDIS_URL.',
    sentinel: 'Check that the sentinels answer and know that master group, or set REDIS_URL.',
  }[target.mode];
  try {
    await within(client.connect(), timeoutMs * 2, at);
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      const info = await within(infoOf(node, 'server'), timeoutMs, at);
      const [major = 0, minor = 0] = (info.get('redis_version') ?? '0.0').split('.').map(Number);
      if (major < 6 || (major === 6 && minor < 2)) {
        throw new RedisUnavailableError(`${at} is ${major}.${minor}; paperboy needs 6.2 or newer.`);
      }
    }
    if (target.mode !== 'cluster') {
      const cluster = await within(infoOf(nodes[0] as Redis, 'cluster'), timeoutMs, at);
      if (cluster.get('cluster_enabled') === '1') {
        throw new RedisUnavailableError(
          `${at} is a Redis Cluster node: set REDIS_URL=redis+cluster://host:port[,host:port…] and a QUEUE_PREFIX with a {hash tag}.`,
        );
      }
    }
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw error;
    const cause = firstError ?? error;
    let reason = cause instanceof Error ? cause.message : String(cause);
    const nodeError = firstNodeError ?? (cause as { lastNodeError?: unknown }).lastNodeError;
    if (nodeError instanceof Error) reason = `${reason.replace(/\.$/, '')}: ${nodeError.message}`;
    throw new RedisUnavailableError(`Cannot reach ${at} (${reason}). ${hint}`);
  } finally {
    client.disconnect();
  }
}
