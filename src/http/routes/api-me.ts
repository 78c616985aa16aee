import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { Ctx } from '../../context.js';
import type { Subscriber } from '../../db/schema.js';
import { UnauthorizedError } from '../../errors.js';
import { addLikedPapers } from '../../feedback/add-liked-papers.js';
import { deleteLikedPapers } from '../../feedback/store.js';
import { undoFeedback } from '../../feedback/undo-feedback.js';
import { readerFeedUrl } from '../../feeds/reader-feed.js';
import { deleteSubscriber } from '../../subscribers/delete-subscriber.js';
import { exportSubscriber } from '../../subscribers/export-subscriber.js';
import { PreferencesPatch, parseInput } from '../../subscribers/preferences.js';
import { findSubscriberForToken, toSubscriberView } from '../../subscribers/store.js';
import { updatePreferences } from '../../subscribers/update-preferences.js';
import { bearerToken, jsonBody, likedPapersJsonBody, requireJson } from '../middleware.js';

const subscriberOf = (res: Response) => res.locals.subscriber as Subscriber;

/** An arXiv id at the end of the path: old-style ids have a slash (`hep-th/9901001`). */
const arxivIdOf = (req: Request) => ([] as string[]).concat(req.params.arxivId ?? []).join('/');

export const LikedPapersInput = z.strictObject({
  papers: z.string({ error: 'is required: arXiv ids, links, or a BibTeX file' }),
});

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
    const subscriber = subscriberOf(res);
    const feedUrl = readerFeedUrl(ctx, subscriber, ctx.clock());
    res.json({ ...(await toSubscriberView(ctx.db, subscriber)), feedUrl });
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
  // "Papers I like": `{"papers": "<arXiv ids, links, or a BibTeX file>"}`, what became of each item.
  router.post('/api/me/liked-papers', requireJson, likedPapersJsonBody, async (req, res) => {
    const { papers } = parseInput(LikedPapersInput, req.body);
    res.json({
      results: await addLikedPapers({ ctx, input: { subscriberId: subscriberOf(res).id, text: papers } }),
    });
  });
  router.delete('/api/me/liked-papers', async (_req, res) => {
    await deleteLikedPapers(ctx.db, subscriberOf(res).id);
    res.status(204).end();
  });
  router.delete('/api/me/liked-papers/*arxivId', async (req, res) => {
    await deleteLikedPapers(ctx.db, subscriberOf(res).id, arxivIdOf(req));
    res.status(204).end();
  });
  // "More / less like this" taken back: one paper's, or all of it. 204 either way (idempotent).
  router.delete('/api/me/feedback', async (_req, res) => {
    await undoFeedback({ ctx, input: { subscriberId: subscriberOf(res).id } });
    res.status(204).end();
  });
  router.delete('/api/me/feedback/*arxivId', async (req, res) => {
    await undoFeedback({ ctx, input: { subscriberId: subscriberOf(res).id, arxivId: arxivIdOf(req) } });
    res.status(204).end();
  });
  router.get('/api/me/export', async (_req, res) => {
    res.json(await exportSubscriber({ ctx, input: { subscriberId: subscriberOf(res).id } }));
  });
  return router;
}
