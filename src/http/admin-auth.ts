import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Config } from '../config.js';
import { AppError, UnauthorizedError } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';
import { bearerToken } from './middleware.js';
import { originOf } from './same-origin.js';

/** What admin auth needs: the token, the public URL (for origin checks) and Redis (failures, sessions). */
export interface AdminAuthDeps {
  config: Pick<Config, 'adminToken' | 'http' | 'redis'>;
  redis: RedisClient;
}

/** Failed admin sign-ins a client may make per window before even the right token is refused. */
export const adminFailureLimit = 10;
export const adminFailureWindowMs = 15 * 60_000;
export const adminSessionMs = 12 * 3600_000;
export const adminCookie = 'paperboy_admin';
// The shared connection retries commands forever (BullMQ needs that); sign-in gives up sooner.
const redisTimeoutMs = 2000;

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const adminOff = () => new AppError('not_found', 'The admin API is off: set ADMIN_TOKEN to turn it on');

async function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError('internal', 'Admin sign-in is unavailable: Redis does not answer')),
      redisTimeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Failed admin sign-ins per client (the address `trust proxy` yields; IPv6 by /56, as the public limits),
 * counted in Redis so every `serve` process shares them. The window starts at the first failure. A wrong
 * credential is counted the moment it arrives, before anything else is awaited, so a right guess sent
 * among many parallel wrong ones is judged after them.
 */
function failedSignIns({ config, redis }: AdminAuthDeps) {
  const keyOf = (req: Request) =>
    `${config.redis.prefix}:admin-auth-failures:${ipKeyGenerator(req.ip ?? 'unknown')}`;
  const rateLimited = (ttlMs: number) => {
    const minutes = Math.max(1, Math.ceil(ttlMs / 60_000));
    return new AppError(
      'rate_limited',
      `Too many failed admin sign-ins from this address; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`,
    );
  };
  const retryAfter = (res: Response, ttlMs: number) =>
    res.set('Retry-After', String(Math.ceil(ttlMs / 1000)));

  return {
    /** A wrong credential: counted, then 401, or 429 once this client is over the limit. */
    async record(req: Request, res: Response, refusal: AppError): Promise<AppError> {
      const key = keyOf(req);
      const replies = await withinTimeout(
        redis.multi().incr(key).pexpire(key, adminFailureWindowMs, 'NX').pttl(key).exec(),
      );
      const failures = Number(replies?.[0]?.[1]);
      const ttlMs = Number(replies?.[2]?.[1]);
      if (failures <= adminFailureLimit) return refusal;
      retryAfter(res, ttlMs);
      return rateLimited(ttlMs);
    },
    /** A right credential: let through unless this client is locked out (then 429, token or not). */
    async check(req: Request, res: Response): Promise<void> {
      const key = keyOf(req);
      const replies = await withinTimeout(redis.multi().get(key).pttl(key).exec());
      const failures = Number(replies?.[0]?.[1] ?? 0);
      if (failures < adminFailureLimit) return;
      const ttlMs = Number(replies?.[1]?.[1]);
      retryAfter(res, ttlMs);
      throw rateLimited(ttlMs);
    },
  };
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time, with failed attempts limited per
 * client. With no ADMIN_TOKEN configured the admin routes do not exist (404), rather than being open.
 */
export function requireAdminToken(deps: AdminAuthDeps): RequestHandler {
  const failures = failedSignIns(deps);
  return async (req, res, next) => {
    const expected = deps.config.adminToken;
    if (!expected) throw adminOff();
    const token = bearerToken(req.get('authorization'));
    const refusal = new UnauthorizedError('Send "Authorization: Bearer <ADMIN_TOKEN>"');
    if (!token) throw refusal;
    if (!sameSecret(token, expected)) throw await failures.record(req, res, refusal);
    await failures.check(req, res);
    next();
  };
}

/**
 * Dashboard sessions live in Redis under a hash of their id (a dump of Redis holds no usable cookie),
 * expire 12 hours after sign-in whatever the cookie says, and hold an HMAC of the token they were opened
 * with, so rotating ADMIN_TOKEN ends every session.
 */
function dashboardSessions({ config, redis }: AdminAuthDeps) {
  const keyOf = (id: string) =>
    `${config.redis.prefix}:admin-session:${createHash('sha256').update(id).digest('hex')}`;
  const bindingOf = (adminToken: string) =>
    createHmac('sha256', adminToken).update('paperboy admin dashboard session').digest('base64url');
  return {
    async open(adminToken: string): Promise<string> {
      const id = randomBytes(32).toString('base64url');
      await withinTimeout(redis.set(keyOf(id), bindingOf(adminToken), 'PX', adminSessionMs));
      return id;
    },
    async isOpen(id: string, adminToken: string): Promise<boolean> {
      const binding = await withinTimeout(redis.get(keyOf(id)));
      return binding !== null && sameSecret(binding, bindingOf(adminToken));
    },
    async end(id: string): Promise<void> {
      await withinTimeout(redis.del(keyOf(id)));
    },
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** The session cookie: script-proof, this site's pages only, `/admin` only, https-only under https. */
const sessionCookieOptions = (config: AdminAuthDeps['config']) =>
  ({
    httpOnly: true,
    sameSite: 'strict',
    secure: config.http.publicUrl.startsWith('https:'),
    path: '/admin',
  }) as const;

const isWrite = (req: Request) => req.method !== 'GET' && req.method !== 'HEAD';

/**
 * A cookie is sent by the browser whatever page asked, and SameSite=Strict counts other ports of this
 * host as the same site, so a cookie write must come from a request the browser says is our own page;
 * one with neither Sec-Fetch-Site nor Origin is refused too: every browser sends one on a same-origin POST.
 */
const isFromOwnPage = (req: Request, publicUrl: string) => originOf(req, publicUrl) === 'own';

const crossSite = () =>
  new AppError('cross_site', 'Admin changes are accepted only from the dashboard itself, on this site.');

/**
 * Admin auth for browser pages under `/admin`: a bearer token (scripts), or `?token=<ADMIN_TOKEN>` once,
 * which opens a session and redirects to the same address without the token (so it leaves the address
 * bar and history), or that session's cookie (HttpOnly, SameSite=Strict, `/admin` only). Writes with the
 * cookie must come from our own pages; failed attempts of every kind are limited per client.
 */
export function requireAdminSession(deps: AdminAuthDeps): RequestHandler {
  const { config } = deps;
  const failures = failedSignIns(deps);
  const sessions = dashboardSessions(deps);
  const cookieOptions = sessionCookieOptions(config);

  return async (req, res, next) => {
    const expected = config.adminToken;
    if (!expected) throw adminOff();

    const bearer = bearerToken(req.get('authorization'));
    if (bearer) {
      if (!sameSecret(bearer, expected))
        throw await failures.record(req, res, new UnauthorizedError('The admin token is not valid'));
      await failures.check(req, res);
      return next();
    }

    const queryToken = req.query.token;
    if (typeof queryToken === 'string') {
      if (!sameSecret(queryToken, expected))
        throw await failures.record(req, res, new UnauthorizedError('The admin token is not valid'));
      await failures.check(req, res);
      const id = await sessions.open(expected);
      res.cookie(adminCookie, id, { ...cookieOptions, maxAge: adminSessionMs });
      const url = new URL(req.originalUrl, 'http://localhost');
      url.searchParams.delete('token');
      res.redirect(303, `${url.pathname}${url.search}`);
      return;
    }

    const session = readCookie(req.get('cookie'), adminCookie);
    if (session) {
      // Judged before the session is looked up: another page cannot even spend this client's attempts.
      if (isWrite(req) && !isFromOwnPage(req, config.http.publicUrl)) throw crossSite();
      if (!(await sessions.isOpen(session, expected))) {
        // Expired, ended or from before a token rotation: drop it so the browser stops sending it.
        res.clearCookie(adminCookie, cookieOptions);
        throw await failures.record(
          req,
          res,
          new UnauthorizedError(
            'This dashboard session has ended; open the page again with ?token=<ADMIN_TOKEN>',
          ),
        );
      }
      await failures.check(req, res);
      return next();
    }

    res.set('WWW-Authenticate', 'Bearer realm="paperboy admin"');
    throw new UnauthorizedError('Open this page once with ?token=<ADMIN_TOKEN>, or send a bearer token');
  };
}

/**
 * `POST /admin/logout`: ends the session in Redis and clears the cookie. Only our own pages may end it
 * (the same rule as every cookie write), so another site cannot sign the admin out.
 */
export function endAdminSession(deps: AdminAuthDeps): RequestHandler {
  const sessions = dashboardSessions(deps);
  const cookieOptions = sessionCookieOptions(deps.config);
  return async (req, res, next) => {
    if (!deps.config.adminToken) throw adminOff();
    if (!isFromOwnPage(req, deps.config.http.publicUrl)) throw crossSite();
    const session = readCookie(req.get('cookie'), adminCookie);
    if (session) await sessions.end(session);
    res.clearCookie(adminCookie, cookieOptions);
    next();
  };
}
