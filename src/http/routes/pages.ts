import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Ctx } from '../../context.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { addLikedPapers, type LikedResult } from '../../feedback/add-liked-papers.js';
import { giveFeedback } from '../../feedback/give-feedback.js';
import { feedbackTarget } from '../../feedback/links.js';
import { deleteLikedPapers, findFeedback } from '../../feedback/store.js';
import { undoFeedback } from '../../feedback/undo-feedback.js';
import { readerFeedUrl } from '../../feeds/reader-feed.js';
import { confirmSubscription } from '../../subscribers/confirm.js';
import { deleteSubscriber } from '../../subscribers/delete-subscriber.js';
import { exportSubscriber } from '../../subscribers/export-subscriber.js';
import { PreferencesPatch, parseInput, SubscribeInput } from '../../subscribers/preferences.js';
import { resubscribe } from '../../subscribers/resubscribe.js';
import { requestForToken, subscriberForToken, toSubscriberView } from '../../subscribers/store.js';
import { subscribe } from '../../subscribers/subscribe.js';
import { unsubscribe } from '../../subscribers/unsubscribe.js';
import { updatePreferences } from '../../subscribers/update-preferences.js';
import { bodyLimit, formBody, likedPapersFormBody } from '../middleware.js';
import { confirmedPage, confirmPage } from '../pages/confirm.js';
import { feedbackGivenPage, feedbackPage } from '../pages/feedback.js';
import { homePage } from '../pages/home.js';
import { messagePage } from '../pages/layout.js';
import { managePage } from '../pages/manage.js';
import { unsubscribedPage, unsubscribePage } from '../pages/unsubscribe.js';
import { refuseCrossOrigin } from '../same-origin.js';

type Form = Record<string, unknown>;
type ManageNotes = { notice?: string; error?: string; likedResults?: LikedResult[] };
const tokenOf = (req: Request) => String(req.params.token ?? '');
const text = (form: Form, key: string) => (typeof form[key] === 'string' ? (form[key] as string) : undefined);
/** Form values are strings: numbers become numbers only when they look like one, so bad ones still fail. */
const number = (form: Form, key: string) => {
  const value = text(form, key);
  return value !== undefined && /^\d{1,3}$/.test(value) ? Number(value) : value;
};
/** One topic per line; blank lines are dropped. Other control characters stay and fail validation. */
const topicLines = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(/\r\n|\n|\r/)
        .map((line) => line.trim())
        .filter(Boolean);

/** With `extended: false` a field sent twice arrives as an array: refuse it rather than drop it silently. */
function rejectRepeatedFields(form: Form) {
  const repeated = Object.keys(form).filter((key) => Array.isArray(form[key]));
  if (repeated.length > 0) {
    throw new ValidationError('invalid_body', `Send each field once (repeated: ${repeated.join(', ')})`);
  }
}

function subscribeFields(form: Form) {
  return {
    email: (text(form, 'email') ?? '').replace(/^ +| +$/g, ''),
    topics: topicLines(text(form, 'topics')),
    frequency: text(form, 'frequency'),
    timezone: text(form, 'timezone') || undefined,
  };
}

function preferenceFields(form: Form) {
  const fields = {
    topics: topicLines(text(form, 'topics') ?? ''),
    frequency: text(form, 'frequency'),
    weeklyDay: number(form, 'weeklyDay'),
    timezone: text(form, 'timezone'),
    sendHour: number(form, 'sendHour'),
    maxPapers: number(form, 'maxPapers'),
    delivery: text(form, 'delivery'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

// RFC 8058 allows the one-click body as urlencoded or multipart; both are small.
const oneClickBody = express.text({ type: ['multipart/form-data', 'text/plain'], limit: bodyLimit });

/** Server-rendered pages; every form works without JavaScript. */
export function pages(ctx: Ctx, limit: RequestHandler): Router {
  const router = Router();
  // Another site's page must not make its visitors' browsers post these forms (mail-bombing through
  // thousands of browsers). The unsubscribe target is left open: mail clients post one-click
  // unsubscribes from anywhere, and without the secret token a forged post does nothing.
  const sameOrigin = refuseCrossOrigin(ctx.config.http.publicUrl);

  /** The manage page as it stands after an action, with what the action said. */
  const sendManagePage = async (res: Response, token: string, notes: ManageNotes, status = 200) => {
    const subscriber = await subscriberForToken(ctx, token, 'manage');
    const view = await toSubscriberView(ctx.db, subscriber);
    const feedUrl = readerFeedUrl(ctx, subscriber, ctx.clock());
    res.status(status).send(managePage({ token, view, feedUrl, ...notes }));
  };

  router.get('/', (_req, res) => {
    res.send(homePage());
  });

  router.post('/subscribe', sameOrigin, limit, formBody, async (req, res) => {
    const fields = subscribeFields(req.body ?? {});
    try {
      rejectRepeatedFields(req.body ?? {});
      const input = parseInput(SubscribeInput, fields);
      await subscribe({ ctx, input: { ...input, source: 'form' } });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      res.status(400).send(
        homePage({
          error: error.message,
          form: {
            ...fields,
            topics: fields.topics ?? [],
            frequency: fields.frequency === 'weekly' ? 'weekly' : 'daily',
          },
        }),
      );
      return;
    }
    res.status(202).send(
      messagePage({
        title: 'Check your inbox',
        message:
          'We sent a confirmation link to the address you entered. Open it to start your digest. Nothing arrives? Look in the spam folder.',
      }),
    );
  });

  // GET never changes anything: mail scanners prefetch links. The button POSTs.
  router.get('/confirm/:token', async (req, res) => {
    const { request, subscriber } = await requestForToken(ctx, tokenOf(req));
    if (request.confirmedAt) {
      if (subscriber.status !== 'active') throw new NotFoundError('This link was already used.');
      res.send(confirmedPage({ email: subscriber.email, isNewlyConfirmed: false }));
      return;
    }
    res.send(confirmPage({ token: tokenOf(req), email: subscriber.email, preferences: request.preferences }));
  });

  router.post('/confirm/:token', sameOrigin, limit, async (req, res) => {
    const { subscriber, isNewlyConfirmed } = await confirmSubscription({
      ctx,
      input: { token: tokenOf(req) },
    });
    res.send(confirmedPage({ email: subscriber.email, isNewlyConfirmed }));
  });

  router.get('/manage/:token', async (req, res) => {
    await sendManagePage(res, tokenOf(req), {});
  });

  router.get('/manage/:token/export', async (req, res) => {
    const subscriber = await subscriberForToken(ctx, tokenOf(req), 'manage');
    res
      .attachment('paperboy-export.json')
      .json(await exportSubscriber({ ctx, input: { subscriberId: subscriber.id } }));
  });

  router.post('/manage/:token', sameOrigin, limit, formBody, async (req, res) => {
    const token = tokenOf(req);
    const subscriber = await subscriberForToken(ctx, token, 'manage');
    const form: Form = req.body ?? {};
    const subscriberId = subscriber.id;
    const show = (notice?: string, error?: string, status = 200) =>
      sendManagePage(res, token, { notice, error }, status);
    switch (text(form, 'action')) {
      case 'unsubscribe':
        await unsubscribe({ ctx, input: { subscriberId, source: 'manage' } });
        return show('You are unsubscribed. No more digests will be sent.');
      case 'undo-feedback': {
        const arxivId = text(form, 'arxivId');
        if (!arxivId) return show(undefined, 'Say which paper’s feedback to undo.', 400);
        const removed = await undoFeedback({ ctx, input: { subscriberId, arxivId } });
        return show(removed > 0 ? 'Feedback taken back.' : 'There was no feedback on that paper.');
      }
      case 'clear-feedback': {
        const removed = await undoFeedback({ ctx, input: { subscriberId } });
        return show(removed > 0 ? 'All your feedback is cleared.' : 'There was no feedback to clear.');
      }
      case 'resubscribe':
        await resubscribe({ ctx, input: { subscriberId } });
        return show('Welcome back: your digest is on again.');
      case 'delete':
        if (text(form, 'confirmDelete') !== 'yes')
          return show(undefined, 'Tick the box to confirm the deletion.', 400);
        await deleteSubscriber({ ctx, input: { subscriberId } });
        return res.send(
          messagePage({
            title: 'Your data is deleted',
            message:
              'Your subscription, topics and history are gone, and every link in old emails is now dead.',
          }),
        );
      default:
        try {
          rejectRepeatedFields(form);
          const patch = parseInput(PreferencesPatch, preferenceFields(form));
          await updatePreferences({ ctx, input: { subscriberId, patch, source: 'manage' } });
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          return show(undefined, error.message, 400);
        }
        return show('Saved.');
    }
  });

  // "Papers I like" from the manage page: its own route, as it alone takes a body of megabytes.
  router.post('/manage/:token/liked-papers', sameOrigin, limit, likedPapersFormBody, async (req, res) => {
    const token = tokenOf(req);
    const subscriber = await subscriberForToken(ctx, token, 'manage');
    const form: Form = req.body ?? {};
    const show = (options: ManageNotes, status = 200) => sendManagePage(res, token, options, status);
    try {
      rejectRepeatedFields(form);
      switch (text(form, 'action')) {
        case 'add': {
          const likedResults = await addLikedPapers({
            ctx,
            input: { subscriberId: subscriber.id, text: text(form, 'papers') ?? '' },
          });
          return show({ likedResults });
        }
        case 'remove': {
          const removed = await deleteLikedPapers(ctx.db, subscriber.id, text(form, 'arxivId') ?? '');
          return show({
            notice: removed > 0 ? 'Removed from the papers you like.' : 'That paper was not in your list.',
          });
        }
        case 'clear':
          await deleteLikedPapers(ctx.db, subscriber.id);
          return show({ notice: 'Your list of papers you like is empty.' });
        default:
          throw new ValidationError('invalid_body', 'The action is add, remove or clear');
      }
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return show({ error: error.message }, 400);
    }
  });

  // "More / less like this" from a digest: GET shows the button, changing nothing; the POST records.
  router.get('/feedback/:token', async (req, res) => {
    const token = tokenOf(req);
    const target = await feedbackTarget(ctx, token);
    const now = await findFeedback(ctx.db, target.subscriber.id, target.paper.id);
    res.send(feedbackPage({ token, kind: target.kind, paper: target.paper, now }));
  });

  router.post('/feedback/:token', sameOrigin, limit, formBody, async (req, res) => {
    const token = tokenOf(req);
    const form: Form = req.body ?? {};
    rejectRepeatedFields(form);
    const action = text(form, 'action');
    if (action !== undefined && action !== 'undo') {
      throw new ValidationError('invalid_body', 'The only action is "undo"');
    }
    const given = await giveFeedback({ ctx, input: { token, undo: action === 'undo' } });
    res.send(feedbackGivenPage({ token, paper: given.paper, now: given.now }));
  });

  router.get('/unsubscribe/:token', async (req, res) => {
    const subscriber = await subscriberForToken(ctx, tokenOf(req), 'unsubscribe');
    res.send(unsubscribePage({ token: tokenOf(req), email: subscriber.email }));
  });

  // Also the RFC 8058 one-click target: not rate limited (mailbox providers post from few IPs),
  // always 200 with a page, never a redirect, and idempotent.
  router.post('/unsubscribe/:token', formBody, oneClickBody, async (req, res) => {
    const subscriber = await subscriberForToken(ctx, tokenOf(req), 'unsubscribe');
    const body: unknown = req.body;
    const isOneClick =
      (typeof body === 'object' && body !== null && (body as Form)['List-Unsubscribe'] === 'One-Click') ||
      (typeof body === 'string' && /List-Unsubscribe[\s\S]*One-Click/.test(body));
    await unsubscribe({
      ctx,
      input: { subscriberId: subscriber.id, source: isOneClick ? 'one-click' : 'link' },
    });
    res.send(unsubscribedPage({ email: subscriber.email }));
  });

  return router;
}
