import { type RequestHandler, Router } from 'express';
import type { Ctx } from '../../context.js';
import { parseParameters } from '../../query-params.js';
import { createMatchQueue, createPreviewIndexes, PreviewInput, previewTopic } from '../../topics/preview.js';

export function topicsApi(ctx: Ctx, limit: RequestHandler): Router {
  const router = Router();
  const indexes = createPreviewIndexes(ctx);
  const queue = createMatchQueue();
  router.get('/api/topics/preview', limit, async (req, res) => {
    const input = parseParameters(PreviewInput, req.query);
    res.json(await previewTopic({ ctx, input, indexes, queue }));
  });
  return router;
}
