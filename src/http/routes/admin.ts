import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { type Express, type RequestHandler, Router } from 'express';
import type { Ctx } from '../../context.js';
import { AppError } from '../../errors.js';
import { readOverview } from '../../ops/read-overview.js';
import { readDatabaseStats } from '../../ops/read-stats.js';
import type { RedisClient } from '../../queue/connection.js';
import { type QueueCounts, readQueueCounts } from '../../queue/counts.js';
import { endAdminSession, requireAdminSession, requireAdminToken } from '../admin-auth.js';
import { html } from '../html.js';
import { adminOverviewPage } from '../pages/admin-overview.js';
import { messagePage } from '../pages/layout.js';

export const adminOverviewPath = '/admin';
export const queueDashboardPath = '/admin/queues';
export const adminLogoutPath = '/admin/logout';

/** `GET /api/admin/stats`: counts from the database, and queue depths (null while Redis does not answer). */
export function adminApi(ctx: Ctx, queues: Record<string, Queue>, redis: RedisClient): Router {
  const router = Router();
  router.get('/api/admin/stats', requireAdminToken({ config: ctx.config, redis }), async (_req, res) => {
    let queueCounts: QueueCounts | null = null;
    try {
      queueCounts = await readQueueCounts(queues);
    } catch (error) {
      ctx.log.warn({ err: error }, 'stats: queue counts unavailable');
    }
    res.json({ ...(await readDatabaseStats(ctx)), queues: queueCounts });
  });
  return router;
}

/**
 * bull-board reads JSON bodies only; a `text/plain` or form body is what a page elsewhere can send
 * without a CORS preflight, so its API refuses any write body that does not say it is JSON (415).
 */
const refuseNonJsonWrites: RequestHandler = (req, _res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || !req.path.startsWith('/api/')) return next();
  const type = req.get('content-type');
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  const isJson = type !== undefined && /^application\/json\s*(;|$)/i.test(type);
  if (type === undefined ? hasBody : !isJson) {
    next(new AppError('unsupported_media_type', 'Send the body as application/json'));
    return;
  }
  next();
};

const signOutPage = messagePage({
  title: 'Sign out of the dashboard',
  message: 'This ends the dashboard session in this browser.',
  extra: html`<form method="post" action="${adminLogoutPath}"><button type="submit">Sign out</button></form>`,
});

const signedOutPage = messagePage({
  title: 'Signed out',
  message: 'The dashboard session has ended. To open it again, visit /admin/queues?token=<ADMIN_TOKEN>.',
});

/** Admin pages hold the whole list's numbers: no cache keeps them, no search engine lists them. */
const privatePage: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
  next();
};

/**
 * The overview at `/admin`, bull-board at `/admin/queues` and sign-out at `/admin/logout`, behind the
 * admin token; absent (404) while ADMIN_TOKEN is unset.
 */
export function queueDashboard(ctx: Ctx, queues: Record<string, Queue>, redis: RedisClient): Router {
  const router = Router();
  if (!ctx.config.adminToken) return router;
  const auth = { config: ctx.config, redis };

  const serverAdapter = new ExpressAdapter().setBasePath(queueDashboardPath);
  createBullBoard({
    queues: Object.values(queues).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'paperboy',
        miscLinks: [
          { text: 'Overview', url: adminOverviewPath },
          { text: 'Sign out', url: adminLogoutPath },
        ],
      },
    },
  });
  // bull-board is its own express app, which would announce itself in X-Powered-By.
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');
  router.get(adminOverviewPath, privatePage, requireAdminSession(auth), async (_req, res) => {
    const [overview, queueCounts] = await Promise.all([
      readOverview(ctx),
      readQueueCounts(queues).catch((error: unknown) => {
        ctx.log.warn({ err: error }, 'overview: queue counts unavailable');
        return null;
      }),
    ]);
    res.send(
      adminOverviewPage(overview, queueCounts, { queues: queueDashboardPath, logout: adminLogoutPath }),
    );
  });
  router.use(queueDashboardPath, requireAdminSession(auth), refuseNonJsonWrites, board);
  router.get(adminLogoutPath, (_req, res) => {
    res.send(signOutPage);
  });
  router.post(adminLogoutPath, endAdminSession(auth), (_req, res) => {
    res.send(signedOutPage);
  });
  return router;
}
