import { Router } from 'express';
import type { Db } from '../../db/client.js';
import type { RedisClient } from '../../queue/connection.js';

const withTimeout = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

export function health(db: Db, redis: RedisClient): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = { database: false, redis: false };
    try {
      await withTimeout(db.ping(), 1000);
      checks.database = true;
    } catch {}
    try {
      checks.redis = (await withTimeout(redis.ping(), 1000)) === 'PONG';
    } catch {}
    const isReady = checks.database && checks.redis;
    res.status(isReady ? 200 : 503).json({ status: isReady ? 'ready' : 'unavailable', checks });
  });
  return router;
}
