import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors.js';

/**
 * Where a browser says a request comes from. Current browsers send `Sec-Fetch-Site` on every request
 * and `Origin` on every cross-site POST: `own` is one of our pages, `other` another site's (another
 * port of the same host is another origin). `unknown` is a request with neither header — no browser's
 * cross-site request (curl, a mail provider's one-click POST) — or one the user started themselves.
 */
export function originOf(req: Request, publicUrl: string): 'own' | 'other' | 'unknown' {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' ? 'own' : site === 'none' ? 'unknown' : 'other';
  const origin = req.get('origin');
  if (origin === undefined) return 'unknown';
  const own = [new URL(publicUrl).origin, `${req.protocol}://${req.get('host') ?? ''}`];
  return own.includes(origin) ? 'own' : 'other';
}

/**
 * Refuses (403) state-changing requests that another site's page made a browser send, so a page
 * elsewhere cannot make its visitors' browsers post our forms. Requests of unknown origin pass: what
 * they can do, the caller can do directly anyway.
 */
export function refuseCrossOrigin(publicUrl: string): RequestHandler {
  return (req, _res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && originOf(req, publicUrl) === 'other') {
      next(
        new AppError(
          'cross_site',
          'This form was sent from another website, so it was not accepted. Open the page on this site and send it from there.',
        ),
      );
      return;
    }
    next();
  };
}
