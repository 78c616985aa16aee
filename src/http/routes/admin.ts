import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { type Express, Router } from 'express';
import type { Ctx } from '../../context.js';
import { readDatabaseStats } from '../../ops/read-stats.js';
import { type QueueCounts, readQueueCounts } from '../../queue/counts.js';
import { requireAdminSession, requireAdminToken } from '../admin-auth.js';

export const queueDashboardPath = '/admin/queues';

/** `GET /api/admin/stats`: counts from the database, and queue depths (null while Redis does not answer). */
export function adminApi(ctx: Ctx, queues: Record<string, Queue>): Router {
  const router = Router();
  router.get('/api/admin/stats', requireAdminToken(ctx.config), async (_req, res) => {
    let queueCounts: QueueCounts | null = null;
    try {
      queueCounts = await readQueueCounts(queues);
    } catch (error) {
      ctx.log.warn({ err: error }, 'stats: queue counts unavailable');
    }
    res.json({ ...readDatabaseStats(ctx), queues: queueCounts });
  });
  return router;
}

/** bull-board at `/admin/queues`, behind the admin token; absent (404) while ADMIN_TOKEN is unset. */
export function queueDashboard(ctx: Ctx, queues: Record<string, Queue>): Router {
  const router = Router();
  if (!ctx.config.adminToken) return router;

  const serverAdapter = new ExpressAdapter().setBasePath(queueDashboardPath);
  createBullBoard({
    queues: Object.values(queues).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'paperboy' } },
  });
  // bull-board is its own express app, which would announce itself in X-Powered-By.
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');
  router.use(queueDashboardPath, requireAdminSession(ctx.config), board);
  return router;
}
