import { timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler, Router } from 'express';
import type { Ctx } from '../../context.js';
import { AppError, UnauthorizedError } from '../../errors.js';
import { FeedError } from '../../papers/fetch-feed.js';
import { storeBatch } from '../../papers/ingest.js';
import { ListPapersInput, listPapers } from '../../papers/list-papers.js';
import { parsePapersJson } from '../../papers/sources/json.js';
import { parseParameters } from '../../query-params.js';
import { bearerToken, requireJson } from '../middleware.js';

/** Admin ingestion takes whole batches, so its body limit is larger than the public 64 KB. */
export const adminBodyLimit = '10mb';

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export function papersApi(ctx: Ctx): Router {
  const router = Router();

  router.get('/api/papers', (req, res) => {
    res.json(listPapers({ ctx, input: parseParameters(ListPapersInput, req.query) }));
  });

  // With no ADMIN_TOKEN configured the admin API does not exist (404), rather than being open.
  const requireAdmin: RequestHandler = (req, _res, next) => {
    const expected = ctx.config.adminToken;
    if (!expected) throw new AppError('not_found', 'The admin API is off: set ADMIN_TOKEN to turn it on');
    const token = bearerToken(req.get('authorization'));
    if (!token || !sameSecret(token, expected))
      throw new UnauthorizedError('Send "Authorization: Bearer <ADMIN_TOKEN>"');
    next();
  };

  router.post(
    '/api/admin/papers',
    requireAdmin,
    requireJson,
    express.json({ limit: adminBodyLimit, strict: false }),
    (req, res) => {
      const startedAt = ctx.clock();
      let batch: ReturnType<typeof parsePapersJson>;
      try {
        batch = parsePapersJson(req.body, startedAt);
      } catch (error) {
        if (error instanceof FeedError) throw new AppError('invalid_body', error.message);
        throw error;
      }
      const result = storeBatch(ctx, 'admin-api', 'api', batch, startedAt);
      res.json({ inserted: result.inserted, updated: result.updated, rejected: result.rejected });
    },
  );
  return router;
}
