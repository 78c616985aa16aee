import type { RequestHandler } from 'express';
import { Router } from 'express';
import type { Ctx } from '../../context.js';
import { parseInput, SubscribeInput } from '../../subscribers/preferences.js';
import { subscribe } from '../../subscribers/subscribe.js';
import { jsonBody, requireJson } from '../middleware.js';

// The same answer for every address, known or not (no enumeration): built once, as res.json would
// (type, length), without the ETag no client of a POST answer uses.
const accepted = Buffer.from(JSON.stringify({ status: 'pending_confirmation' }));

export function subscriptionsApi(ctx: Ctx, limit: RequestHandler): Router {
  const router = Router();
  router.post('/api/subscriptions', limit, requireJson, jsonBody, async (req, res) => {
    const input = parseInput(SubscribeInput, req.body);
    await subscribe({ ctx, input: { ...input, source: 'api' } });
    res
      .writeHead(202, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': accepted.length,
      })
      .end(accepted);
  });
  return router;
}
