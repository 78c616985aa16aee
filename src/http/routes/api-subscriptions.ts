import type { RequestHandler } from 'express';
import { Router } from 'express';
import type { Ctx } from '../../context.js';
import { parseInput, SubscribeInput } from '../../subscribers/preferences.js';
import { subscribe } from '../../subscribers/subscribe.js';
import { jsonBody, requireJson } from '../middleware.js';

export function subscriptionsApi(ctx: Ctx, limit: RequestHandler): Router {
  const router = Router();
  router.post('/api/subscriptions', limit, requireJson, jsonBody, async (req, res) => {
    const input = parseInput(SubscribeInput, req.body);
    await subscribe({ ctx, input: { ...input, source: 'api' } });
    // The same answer for every address, known or not: no enumeration.
    res.status(202).json({ status: 'pending_confirmation' });
  });
  return router;
}
