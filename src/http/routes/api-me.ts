import { type RequestHandler, type Response, Router } from 'express';
import type { Ctx } from '../../context.js';
import type { Subscriber } from '../../db/schema.js';
import { UnauthorizedError } from '../../errors.js';
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
  const authenticate: RequestHandler = (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    const subscriber = token ? findSubscriberForToken(ctx, token, 'manage') : undefined;
    if (!subscriber) throw new UnauthorizedError('Send your manage token as "Authorization: Bearer <token>"');
    res.locals.subscriber = subscriber;
    next();
  };
  router.use('/api/me', authenticate);

  router.get('/api/me', (_req, res) => {
    res.json(toSubscriberView(ctx.db, subscriberOf(res)));
  });
  router.patch('/api/me', requireJson, jsonBody, (req, res) => {
    const patch = parseInput(PreferencesPatch, req.body);
    res.json(updatePreferences({ ctx, input: { subscriberId: subscriberOf(res).id, patch, source: 'api' } }));
  });
  router.delete('/api/me', (_req, res) => {
    deleteSubscriber({ ctx, input: { subscriberId: subscriberOf(res).id } });
    res.status(204).end();
  });
  router.get('/api/me/export', (_req, res) => {
    res.json(exportSubscriber({ ctx, input: { subscriberId: subscriberOf(res).id } }));
  });
  return router;
}
