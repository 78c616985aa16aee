import { Router } from 'express';
import type { Db } from '../../db/client.js';
import { checkReadiness, livenessAnswer, readinessAnswer } from '../../ops/readiness.js';
import type { RedisClient } from '../../queue/connection.js';

export function health(db: Db, redis: RedisClient): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.status(livenessAnswer.status).json(livenessAnswer.body);
  });
  router.get('/readyz', async (_req, res) => {
    const answer = readinessAnswer(await checkReadiness({ db, redis }));
    res.status(answer.status).json(answer.body);
  });
  return router;
}
