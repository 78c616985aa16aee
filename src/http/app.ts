import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue } from 'bullmq';
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import type { Ctx } from '../context.js';
import { viewDigest } from '../digests/view-digest.js';
import type { EmailTemplates } from '../email/templates.js';
import { AppError } from '../errors.js';
import { createScrapeRegistry } from '../metrics.js';
import type { RedisClient } from '../queue/connection.js';
import { createMatchQueue, createPreviewIndexes } from '../topics/preview.js';
import { apiErrorHandler, statusFor, toAppError } from './errors.js';
import { perMinuteLimit } from './middleware.js';
import { createOpenApiDocument } from './openapi.js';
import { messagePage } from './pages/layout.js';
import { adminApi, queueDashboard } from './routes/admin.js';
import { apiDocs } from './routes/api-docs.js';
import { meApi } from './routes/api-me.js';
import { papersApi } from './routes/api-papers.js';
import { subscriptionsApi } from './routes/api-subscriptions.js';
import { topicsApi } from './routes/api-topics.js';
import { feedsApi } from './routes/feeds.js';
import { health } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { pages } from './routes/pages.js';

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '../../public');

export interface AppDeps {
  ctx: Ctx;
  redis: RedisClient;
  templates: EmailTemplates;
  /** The producer's queues: counted by stats and /metrics, browsed by the dashboard. */
  queues: Record<string, Queue>;
}

/** Builds the express app; never listens (the composition root does), so tests mount it on port 0. */
export function createApp({ ctx, redis, templates, queues }: AppDeps): Express {
  const { http } = ctx.config;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', http.trustProxy);
  // HSTS and upgrade-insecure-requests only when served over https: on a plain-http LAN
  // install they would make browsers post forms to an https port that does not exist.
  const isHttps = http.publicUrl.startsWith('https:');
  app.use(
    helmet({
      strictTransportSecurity: isHttps,
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: isHttps ? [] : null } },
    }),
  );
  app.use('/static', express.static(publicDir, { maxAge: '1h', index: false }));
  // Pages and answers behind a token are one person's: no cache may keep them, no Referer may carry
  // the token to a linked site, no search engine may list them.
  app.use(['/confirm', '/manage', '/unsubscribe', '/feedback', '/digests', '/api/me'], (_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' });
    next();
  });

  const { prefix } = ctx.config.redis;
  const limit = perMinuteLimit(redis, { prefix, name: 'writes', perMinute: http.rateLimitPerMinute });
  const previewLimit = perMinuteLimit(redis, {
    prefix,
    name: 'preview',
    perMinute: http.previewRateLimitPerMinute,
  });
  app.use(health(ctx.db, redis));
  app.use(metricsRoute(createScrapeRegistry({ ctx, redis, queues })));
  app.use(subscriptionsApi(ctx, limit));
  app.use(meApi(ctx));
  app.use(papersApi(ctx, redis));
  // Previews and topic feeds share one index, one match queue and one per-client limit.
  const preview = { indexes: createPreviewIndexes(ctx), queue: createMatchQueue(), limit: previewLimit };
  app.use(topicsApi(ctx, preview));
  app.use(adminApi(ctx, queues, redis));
  app.use(apiDocs(createOpenApiDocument({ serverUrl: http.publicUrl })));
  app.use('/api', (_req, _res, next) => next(new AppError('not_found', 'No such API route')));
  app.use('/api', apiErrorHandler(ctx.log));

  app.use(queueDashboard(ctx, queues, redis));
  app.use(feedsApi(ctx, preview));
  app.use(pages(ctx, limit));
  app.get('/digests/:token', async (req, res) => {
    res.send(await viewDigest({ ctx: { ...ctx, templates }, input: { token: String(req.params.token) } }));
  });
  app.use((_req, res) => {
    res
      .status(404)
      .send(messagePage({ title: 'Page not found', message: 'There is nothing at this address.' }));
  });
  app.use(pageErrorHandler(ctx));
  return app;
}

function pageErrorHandler(ctx: Ctx): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    if (!appError) {
      const requestId = randomUUID();
      ctx.log.error({ err: error, requestId, method: req.method, path: req.path }, 'unexpected error');
      res.status(500).send(
        messagePage({
          title: 'Something went wrong',
          message: `Please try again later. (Reference ${requestId})`,
        }),
      );
      return;
    }
    const title = appError.code === 'not_found' ? 'This link is not valid' : 'That did not work';
    res.status(statusFor(appError.code)).send(messagePage({ title, message: appError.message }));
  };
}
