import express, { Router } from 'express';
import type { Ctx } from '../../context.js';
import { AppError } from '../../errors.js';
import { FeedError } from '../../papers/fetch-feed.js';
import { storeBatch } from '../../papers/ingest.js';
import { ListPapersInput, listPapers } from '../../papers/list-papers.js';
import { parsePapersJson } from '../../papers/sources/json.js';
import { parseParameters } from '../../query-params.js';
import type { RedisClient } from '../../queue/connection.js';
import { requireAdminToken } from '../admin-auth.js';
import { requireJson } from '../middleware.js';

/** Admin ingestion takes whole batches, so its body limit is larger than the public 64 KB. */
export const adminBodyLimit = '10mb';

export function papersApi(ctx: Ctx, redis: RedisClient): Router {
  const router = Router();

  router.get('/api/papers', async (req, res) => {
    res.json(await listPapers({ ctx, input: parseParameters(ListPapersInput, req.query) }));
  });

  const requireAdmin = requireAdminToken({ config: ctx.config, redis });

  router.post(
    '/api/admin/papers',
    requireAdmin,
    requireJson,
    express.json({ limit: adminBodyLimit, strict: false }),
    async (req, res) => {
      const startedAt = ctx.clock();
      let batch: ReturnType<typeof parsePapersJson>;
      try {
        batch = parsePapersJson(req.body, startedAt);
      } catch (error) {
        if (error instanceof FeedError) throw new AppError('invalid_body', error.message);
        throw error;
      }
      const result = await storeBatch(ctx, 'admin-api', 'api', batch, startedAt);
      res.json({ inserted: result.inserted, updated: result.updated, rejected: result.rejected });
    },
  );
  return router;
}
