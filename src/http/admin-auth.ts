import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import { AppError, UnauthorizedError } from '../errors.js';
import { bearerToken } from './middleware.js';

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const adminOff = () => new AppError('not_found', 'The admin API is off: set ADMIN_TOKEN to turn it on');

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. With no ADMIN_TOKEN configured the
 * admin routes do not exist (404), rather than being open.
 */
export function requireAdminToken(config: Pick<Config, 'adminToken'>): RequestHandler {
  return (req, _res, next) => {
    const expected = config.adminToken;
    if (!expected) throw adminOff();
    const token = bearerToken(req.get('authorization'));
    if (!token || !sameSecret(token, expected))
      throw new UnauthorizedError('Send "Authorization: Bearer <ADMIN_TOKEN>"');
    next();
  };
}

export const adminCookie = 'paperboy_admin';
const sessionHours = 12;

/**
 * The cookie holds an HMAC of the token, not the token: a copied cookie opens the dashboard only, not
 * the admin API, and rotating ADMIN_TOKEN ends every session.
 */
const sessionValue = (adminToken: string) =>
  createHmac('sha256', adminToken).update('paperboy admin dashboard session').digest('base64url');

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * Admin auth for browser pages under `/admin`: a bearer token (scripts), or `?token=<ADMIN_TOKEN>` once,
 * which sets an HttpOnly, SameSite=Strict cookie scoped to `/admin` and redirects to the same address
 * without the token (so it leaves the address bar and history), or that cookie.
 */
export function requireAdminSession(config: Pick<Config, 'adminToken' | 'http'>): RequestHandler {
  const isHttps = config.http.publicUrl.startsWith('https:');
  return (req, res, next) => {
    const expected = config.adminToken;
    if (!expected) throw adminOff();
    const bearer = bearerToken(req.get('authorization'));
    if (bearer && sameSecret(bearer, expected)) return next();

    const queryToken = req.query.token;
    if (typeof queryToken === 'string') {
      if (!sameSecret(queryToken, expected)) throw new UnauthorizedError('The admin token is not valid');
      res.cookie(adminCookie, sessionValue(expected), {
        httpOnly: true,
        sameSite: 'strict',
        secure: isHttps,
        path: '/admin',
        maxAge: sessionHours * 3600_000,
      });
      const url = new URL(req.originalUrl, 'http://localhost');
      url.searchParams.delete('token');
      res.redirect(303, `${url.pathname}${url.search}`);
      return;
    }

    const session = readCookie(req.get('cookie'), adminCookie);
    if (session && sameSecret(session, sessionValue(expected))) return next();
    res.set('WWW-Authenticate', 'Bearer realm="paperboy admin"');
    throw new UnauthorizedError('Open this page once with ?token=<ADMIN_TOKEN>, or send a bearer token');
  };
}
