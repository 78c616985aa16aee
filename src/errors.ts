/** The closed set of error codes paperboy reports to clients. `http/errors.ts` maps each to a status. */
export const errorCodes = [
  'invalid_json',
  'invalid_body',
  'invalid_email',
  'invalid_topics',
  'invalid_frequency',
  'invalid_weekly_day',
  'invalid_timezone',
  'invalid_send_hour',
  'invalid_max_papers',
  'invalid_delivery',
  'invalid_parameter',
  'invalid_topic',
  'topic_too_expensive',
  'unsupported_media_type',
  'payload_too_large',
  'unauthorized',
  'cross_site',
  'not_found',
  'rate_limited',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
  }

  get details(): unknown {
    return this.options.details;
  }
}

export class ValidationError extends AppError {}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super('not_found', message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid token is required') {
    super('unauthorized', message);
  }
}
