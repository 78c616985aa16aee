import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { type RedisReply, RedisStore } from 'rate-limit-redis';
import { AppError } from '../errors.js';

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
 * A per-client limit (the client as `trust proxy` sees it), counted in Redis so every `serve` process
 * shares it. `name` keeps the counters of different limits apart.
 */
export function perMinuteLimit(
  redis: Redis,
  options: { prefix: string; name: string; perMinute: number },
): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: options.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisStore({
      prefix: `${options.prefix}:ratelimit:${options.name}:`,
      sendCommand: (command: string, ...args: string[]) =>
        redis.call(command, ...args) as Promise<RedisReply>,
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
