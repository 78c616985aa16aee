import { Redis, type RedisOptions } from 'ioredis';

export class RedisUnavailableError extends Error {}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<invalid URL>';
  }
}

/** A connection for BullMQ (workers need `maxRetriesPerRequest: null`) and paperboy's own keys. */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, ...options });
}

/**
 * Fails fast with one clear line when Redis is down or too old, instead of ioredis retrying forever.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let firstError: Error | undefined;
  client.on('error', (error: Error) => {
    firstError ??= error; // reported below, once, with the socket's own reason (ECONNREFUSED …)
  });
  const hint = `Start Redis (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`;
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
    if (major < 6 || (major === 6 && minor < 2)) {
      throw new RedisUnavailableError(
        `Redis at ${redactUrl(url)} is ${major}.${minor}; paperboy needs 6.2 or newer.`,
      );
    }
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw error;
    const cause = firstError ?? error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new RedisUnavailableError(`Cannot reach Redis at ${redactUrl(url)} (${reason}). ${hint}`);
  } finally {
    client.disconnect();
  }
}
