import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { Cluster } from 'ioredis';
import { type RedisReply, RedisStore } from 'rate-limit-redis';
import { AppError } from '../errors.js';
import type { RedisClient } from '../queue/connection.js';

export const bodyLimit = '64kb';

/** API writes take JSON only: anything else is 415 before a byte of it is parsed. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new AppError('unsupported_media_type', 'Send the body as application/json'));
    return;
  }
  next();
};

// Not `strict`: `null` or `42` is well-formed JSON of the wrong shape, so validation answers invalid_body
// (as for an array) rather than the parser calling it invalid JSON.
export const jsonBody = express.json({ limit: bodyLimit, strict: false });
export const formBody = express.urlencoded({ extended: false, limit: bodyLimit, parameterLimit: 50 });

/**
 * "Papers I like" take a BibTeX file of up to 2 MB (`likedInputLimits`), a little more once encoded:
 * only their own routes parse bodies this large.
 */
const likedPapersBodyLimit = '3mb';
export const likedPapersJsonBody = express.json({ limit: likedPapersBodyLimit, strict: false });
export const likedPapersFormBody = express.urlencoded({
  extended: false,
  limit: likedPapersBodyLimit,
  parameterLimit: 10,
});

/**
 * A per-client limit (the client as `trust proxy` sees it), counted in Redis so every `serve` process
 * shares it. `name` keeps the counters of different limits apart.
 */
export function perMinuteLimit(
  redis: RedisClient,
  options: { prefix: string; name: string; perMinute: number },
): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: options.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisStore({
      prefix: `${options.prefix}:ratelimit:${options.name}:`,
      sendCommandCluster: ({ command: [name = '', ...args] }) => {
        // On a Cluster, ioredis routes EVALSHA by its key but SCRIPT LOAD (no key) to any one node:
        // load the store's scripts on every master, so the one holding the prefix's slot has them.
        // (Before the slots are known, one node; the store reloads on the NOSCRIPT that may follow.)
        const masters = redis instanceof Cluster ? redis.nodes('master') : [];
        if (masters.length > 0 && name.toUpperCase() === 'SCRIPT') {
          return Promise.all(masters.map((node) => node.call(name, ...args))).then(
            ([sha]) => sha as RedisReply,
          );
        }
        return redis.call(name, ...args) as Promise<RedisReply>;
      },
    }),
    handler: (_req, _res, next) =>
      next(new AppError('rate_limited', 'Too many requests; try again in a minute')),
  });
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header ?? ''); // the scheme is case-insensitive (RFC 9110)
  return match?.[1];
}
