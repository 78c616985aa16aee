import { type RequestHandler, type Response, Router } from 'express';
import type { Ctx } from '../../context.js';
import type { Subscriber } from '../../db/schema.js';
import { UnauthorizedError } from '../../errors.js';
import { undoFeedback } from '../../feedback/undo-feedback.js';
import { deleteSubscriber } from '../../subscribers/delete-subscriber.js';
import { exportSubscriber } from '../../subscribers/export-subscriber.js';
import { PreferencesPatch, parseInput } from '../../subscribers/preferences.js';
import { findSubscriberForToken, toSubscriberView } from '../../subscribers/store.js';
import { updatePreferences } from '../../subscribers/update-preferences.js';
import { bearerToken, jsonBody, requireJson } from '../middleware.js';

const subscriberOf = (res: Response) => res.locals.subscriber as Subscriber;

/** The subscriber's own API, authenticated by their manage token sent as a bearer token. */
export function meApi(ctx: Ctx): Router {
  const router = Router();
  // Authenticate before the body is even parsed: an anonymous caller learns nothing but 401.
  const authenticate: RequestHandler = async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    const subscriber = token ? await findSubscriberForToken(ctx, token, 'manage') : undefined;
    if (!subscriber) throw new UnauthorizedError('Send your manage token as "Authorization: Bearer <token>"');
    res.locals.subscriber = subscriber;
    next();
  };
  router.use('/api/me', authenticate);

  router.get('/api/me', async (_req, res) => {
    res.json(await toSubscriberView(ctx.db, subscriberOf(res)));
  });
  router.patch('/api/me', requireJson, jsonBody, async (req, res) => {
    const patch = parseInput(PreferencesPatch, req.body);
    const subscriberId = subscriberOf(res).id;
    res.json(await updatePreferences({ ctx, input: { subscriberId, patch, source: 'api' } }));
  });
  router.delete('/api/me', async (_req, res) => {
    await deleteSubscriber({ ctx, input: { subscriberId: subscriberOf(res).id } });
    res.status(204).end();
  });
  // "More / less like this" taken back: one paper's, or all of it. 204 either way (idempotent).
  router.delete('/api/me/feedback', async (_req, res) => {
    await undoFeedback({ ctx, input: { subscriberId: subscriberOf(res).id } });
    res.status(204).end();
  });
  router.delete('/api/me/feedback/:arxivId', async (req, res) => {
    const arxivId = String(req.params.arxivId);
    await undoFeedback({ ctx, input: { subscriberId: subscriberOf(res).id, arxivId } });
    res.status(204).end();
  });
  router.get('/api/me/export', async (_req, res) => {
    res.json(await exportSubscriber({ ctx, input: { subscriberId: subscriberOf(res).id } }));
  });
  return router;
}
