import { z } from 'zod';
import { ValidationError } from './errors.js';

/** A query-string number: digits only, within bounds. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be a whole number from ${min} to ${max}`)
    // Digits on the wire, a number to a client: the API description says integer (`src/http/openapi.ts`).
    .meta({ type: 'integer', minimum: min, maximum: max });

/** Query-string input → typed values, or one invalid_parameter error naming the parameter. */
export function parseParameters<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name =
    issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue?.path[0] ?? 'query');
  throw new ValidationError('invalid_parameter', `${name}: ${issue?.message ?? 'invalid'}`, {
    details: { parameter: name },
  });
}
