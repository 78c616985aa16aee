import { z } from 'zod';
import { deliveries, frequencies } from '../db/schema.js';
import { type ErrorCode, ValidationError } from '../errors.js';
import { hasControlCharacters } from '../text.js';
import { checkTopic } from '../topics/validate.js';
import { normalizeEmail } from './email-address.js';

const noControlCharacters = (value: string) => !hasControlCharacters(value);

export function isValidTimezone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(name) || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const knownTimezones = new Map(
  ['UTC', ...Intl.supportedValuesOf('timeZone')].map((zone) => [zone.toLowerCase(), zone]),
);

/** `america/new_york` → `America/New_York`: store the spelling the manage page's list uses. */
const canonicalTimezone = (name: string) =>
  knownTimezones.get(name.toLowerCase()) ??
  new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;

const topic = z
  .string()
  .superRefine((value, ctx) => {
    const problem = checkTopic(value);
    if (problem)
      ctx.addIssue({ code: 'custom', message: problem.message, params: { position: problem.position } });
  })
  .transform((value) => value.trim());

export const preferenceFields = {
  topics: z.array(topic).max(20, 'at most 20 topics'),
  frequency: z.enum(frequencies, { error: 'must be "daily" or "weekly"' }),
  weeklyDay: z.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(6),
  timezone: z
    .string()
    .refine(noControlCharacters, 'must not contain control characters')
    .refine(isValidTimezone, 'must be an IANA time zone such as Europe/Berlin')
    .transform(canonicalTimezone),
  sendHour: z.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(23),
  maxPapers: z.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(50),
  delivery: z.enum(deliveries, { error: 'must be "email" or "feed"' }),
};

export const Preferences = z.object(preferenceFields);
export type Preferences = z.infer<typeof Preferences>;

export const defaultPreferences: Preferences = {
  topics: [],
  frequency: 'daily',
  weeklyDay: 1,
  timezone: 'UTC',
  sendHour: 7,
  maxPapers: 10,
  delivery: 'email',
};

export const PreferencesPatch = z.strictObject(preferenceFields).partial();
export type PreferencesPatch = z.infer<typeof PreferencesPatch>;

export const SubscribeInput = z.strictObject({
  email: z.string({ error: 'is required' }).transform((value, ctx) => {
    const normalized = normalizeEmail(value);
    if (!normalized.ok) {
      ctx.addIssue({ code: 'custom', message: normalized.reason });
      return z.NEVER;
    }
    return normalized.email;
  }),
  ...PreferencesPatch.shape,
});
export type SubscribeInput = z.infer<typeof SubscribeInput>;

const fieldCodes: Record<string, ErrorCode> = {
  email: 'invalid_email',
  topics: 'invalid_topics',
  frequency: 'invalid_frequency',
  weeklyDay: 'invalid_weekly_day',
  timezone: 'invalid_timezone',
  sendHour: 'invalid_send_hour',
  maxPapers: 'invalid_max_papers',
  delivery: 'invalid_delivery',
};

/** `topics.1` → `Topic 2`, `sendHour` → `sendHour`: how a person counts. */
const fieldLabel = (field: string) =>
  field.replace(/^topics\.(\d+)$/, (_, i: string) => `Topic ${Number(i) + 1}`);

/** Parses with a schema; a failure becomes one ValidationError whose code names the first bad field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || undefined,
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    // Topic syntax errors say where: the 0-based character position in that topic.
    ...(issue.code === 'custom' && typeof issue.params?.position === 'number'
      ? { position: issue.params.position }
      : {}),
  }));
  const first = result.error.issues[0];
  const field = typeof first?.path[0] === 'string' ? first.path[0] : undefined;
  const code = (field && fieldCodes[field]) || 'invalid_body';
  const summary = issues.map((issue) =>
    issue.field ? `${fieldLabel(issue.field)}: ${issue.message}` : issue.message,
  );
  throw new ValidationError(code, summary.join('; '), { details: { issues } });
}

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** "daily at 07:00 (Europe/Berlin), up to 10 papers": what a confirmation shows a person. */
export function describeSchedule(preferences: Omit<Preferences, 'topics'>): string {
  const when = preferences.frequency === 'weekly' ? `weekly on ${weekdays[preferences.weeklyDay]}s` : 'daily';
  const hour = `${String(preferences.sendHour).padStart(2, '0')}:00`;
  const schedule = `${when} at ${hour} (${preferences.timezone}), up to ${preferences.maxPapers} papers`;
  return preferences.delivery === 'feed' ? `${schedule}, in your feed only (no digest emails)` : schedule;
}
