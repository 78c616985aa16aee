import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { AppError, type ErrorCode, errorCodes } from '../errors.js';
import type { Logger } from '../log.js';

/** The one map from error code to HTTP status; exhaustive, so a new code cannot be forgotten. */
export function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'invalid_json':
    case 'invalid_body':
    case 'invalid_email':
    case 'invalid_topics':
    case 'invalid_frequency':
    case 'invalid_weekly_day':
    case 'invalid_timezone':
    case 'invalid_send_hour':
    case 'invalid_max_papers':
    case 'invalid_delivery':
    case 'invalid_parameter':
    case 'invalid_topic':
    case 'topic_too_expensive':
      return 400;
    case 'unauthorized':
      return 401;
    case 'cross_site':
      return 403;
    case 'not_found':
      return 404;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'rate_limited':
      return 429;
    case 'internal':
      return 500;
  }
}

/** body-parser reports its failures as `type`d errors; give them codes from our own set. */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  // The router could not percent-decode a path parameter (`/confirm/%`): no valid link looks like that.
  if (error instanceof URIError) return new AppError('not_found', 'This link is not valid', { cause: error });
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return new AppError('invalid_json', 'The request body is not valid JSON', { cause: error });
    case 'entity.too.large':
      return new AppError(
        'payload_too_large',
        `The request body is larger than ${Math.round(Number((error as { limit?: unknown }).limit) / 1024)} KB`,
        { cause: error },
      );
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new AppError('unsupported_media_type', 'Unsupported body encoding or charset', { cause: error });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'parameters.too.many':
      return new AppError('invalid_body', 'The request body could not be read', { cause: error });
    default:
      // A corrupt gzip or deflate body reaches us as an untyped http-errors 400.
      if ((error as { status?: unknown } | null)?.status === 400) {
        return new AppError('invalid_body', 'The request body could not be read', { cause: error });
      }
      return undefined;
  }
}

/** Every JSON error the API answers; the OpenAPI document's `ErrorBody`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    details: z
      .unknown()
      .optional()
      .meta({ description: 'Varies by code: the field, parameter, topic position or limit' }),
    requestId: z
      .string()
      .optional()
      .meta({ description: 'On `internal` only: the id the server logged the failure under' }),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The codes answered with `status`, in `errorCodes` order: the OpenAPI document lists them per response. */
export const codesFor = (status: number): ErrorCode[] =>
  errorCodes.filter((code) => statusFor(code) === status);

export function errorBody(error: AppError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** JSON errors for the API. Anything unexpected is logged in full and answered with a request id only. */
export function apiErrorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    if (appError) {
      res.status(statusFor(appError.code)).json(errorBody(appError));
      return;
    }
    const requestId = randomUUID();
    log.error({ err: error, requestId, method: req.method, path: req.path }, 'unexpected error');
    res.status(500).json({
      error: { code: 'internal', message: 'Something went wrong on our side', requestId },
    } satisfies ErrorBody);
  };
}
