import type { Db } from '../db/client.js';
import type { RedisClient } from '../queue/connection.js';

export interface Readiness {
  isReady: boolean;
  checks: { database: boolean; redis: boolean };
}

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

/**
 * What `/readyz` answers and `paperboy_ready` exports: can this process reach the database and Redis
 * now? Each check gives up after `timeoutMs` (the shared Redis connection would otherwise wait for
 * Redis forever).
 */
export async function checkReadiness(
  deps: { db: Db; redis: RedisClient },
  timeoutMs = 1000,
): Promise<Readiness> {
  const [database, redis] = await Promise.all([
    withTimeout(deps.db.ping(), timeoutMs).then(
      () => true,
      () => false,
    ),
    withTimeout(deps.redis.ping(), timeoutMs).then(
      (answer) => answer === 'PONG',
      () => false,
    ),
  ]);
  return { isReady: database && redis, checks: { database, redis } };
}

/** The `/readyz` answer, the same from the HTTP app and from a worker's metrics server. */
export function readinessAnswer(readiness: Readiness) {
  return {
    status: readiness.isReady ? 200 : 503,
    body: { status: readiness.isReady ? 'ready' : 'unavailable', checks: readiness.checks },
  };
}

/** The `/healthz` answer: the process runs its event loop; nothing outside it is asked. */
export const livenessAnswer = { status: 200, body: { status: 'ok' } } as const;
