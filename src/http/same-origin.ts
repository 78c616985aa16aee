import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors.js';

/**
 * True when a browser tells us another site made this request. Current browsers send
 * `Sec-Fetch-Site` on every request and `Origin` on every cross-site POST, so a page elsewhere cannot
 * make its visitors' browsers post our forms. A request with neither header is no browser's
 * cross-site request (curl, a mail provider's one-click POST) and is let through: what those can do,
 * the caller can do directly anyway. Another port of the same host is another origin.
 */
export function isCrossOrigin(req: Request, publicUrl: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = req.get('origin');
  if (origin === undefined) return false;
  const own = [new URL(publicUrl).origin, `${req.protocol}://${req.get('host') ?? ''}`];
  return !own.includes(origin);
}

/** Refuses (403) state-changing requests that another site's page made a browser send. */
export function refuseCrossOrigin(publicUrl: string): RequestHandler {
  return (req, _res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && isCrossOrigin(req, publicUrl)) {
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
