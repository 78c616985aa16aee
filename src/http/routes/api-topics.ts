import { type RequestHandler, Router } from 'express';
import type { Ctx } from '../../context.js';
import { parseParameters } from '../../query-params.js';
import { type MatchQueue, type PreviewIndexes, PreviewInput, previewTopic } from '../../topics/preview.js';

export function topicsApi(
  ctx: Ctx,
  preview: { indexes: PreviewIndexes; queue: MatchQueue; limit: RequestHandler },
): Router {
  const router = Router();
  router.get('/api/topics/preview', preview.limit, async (req, res) => {
    const input = parseParameters(PreviewInput, req.query);
    res.json(await previewTopic({ ctx, input, indexes: preview.indexes, queue: preview.queue }));
  });
  return router;
}
