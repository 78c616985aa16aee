import type { Frequency } from '../db/schema.js';

/** What planning needs to know about one subscriber. */
export interface PlanSubscriber {
  id: number;
  frequency: Frequency;
  weeklyDay: number;
  timezone: string;
  sendHour: number;
  confirmedAt: Date | null;
  /** The local date of their newest digest, if any (`YYYY-MM-DD`). */
  lastDigestDate?: string;
}

export interface LocalTime {
  date: string;
  hour: number;
  /** 0 = Sunday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const weekdays: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock date, hour and weekday of an instant in a time zone. */
export function localTime(instant: Date, timezone: string): LocalTime {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
      weekday: 'short',
    });
    formatters.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hour: Number(parts.hour),
    weekday: weekdays[parts.weekday as string] ?? 0,
  };
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The instant a local date reaches `hour` in a time zone: the first instant whose local time is on
 * that date at or after that hour (so a send hour skipped by a DST jump happens at the jump).
 */
export function instantOfLocalHour(date: string, hour: number, timezone: string): Date {
  // Local clocks are within ±14 h of UTC; step through that range by the hour, then by the minute.
  const utcGuess = Date.parse(`${date}T${String(hour).padStart(2, '0')}:00:00Z`);
  const reached = (ms: number) => {
    const local = localTime(new Date(ms), timezone);
    return local.date > date || (local.date === date && local.hour >= hour);
  };
  let low = utcGuess - 15 * 3_600_000;
  let high = utcGuess + 15 * 3_600_000;
  while (high - low > 60_000) {
    const middle = low + Math.floor((high - low) / 2 / 60_000) * 60_000;
    if (reached(middle)) high = middle;
    else low = middle;
  }
  return new Date(high);
}

/** How late a missed send may still be made up: a day for daily digests, three for weekly ones. */
const catchUpMs = { daily: 24 * 3_600_000, weekly: 3 * 24 * 3_600_000 };

/**
 * The local date a subscriber is due a digest for at `now`, or undefined (SPEC §7). Due: their local
 * time has reached `sendHour` on a day their frequency includes, and they have no digest for that
 * date. A send time missed while nothing ran (an outage across midnight, a weekly day passed) is
 * made up at the next tick, within the catch-up window, and only for times after they confirmed.
 * Pure: a function of the subscriber and the clock.
 */
export function dueLocalDate(subscriber: PlanSubscriber, now: Date): string | undefined {
  const local = localTime(now, subscriber.timezone);
  const isSendDay = (weekday: number) => subscriber.frequency === 'daily' || weekday === subscriber.weeklyDay;
  // The newest send time at or before now: today if the hour has come, else the last send day before.
  let date = local.date;
  let weekday = local.weekday;
  if (!(isSendDay(weekday) && local.hour >= subscriber.sendHour)) {
    do {
      date = addDays(date, -1);
      weekday = (weekday + 6) % 7;
    } while (!isSendDay(weekday));
  }
  if (subscriber.lastDigestDate !== undefined && subscriber.lastDigestDate >= date) return undefined;
  if (date === local.date) return date;
  const sendTime = instantOfLocalHour(date, subscriber.sendHour, subscriber.timezone);
  const isRecent = now.getTime() - sendTime.getTime() <= catchUpMs[subscriber.frequency];
  const wasSubscribed =
    subscriber.confirmedAt !== null && subscriber.confirmedAt.getTime() <= sendTime.getTime();
  return isRecent && wasSubscribed ? date : undefined;
}

/** `digest --all`: today's local date for everyone, whatever the hour, unless they already have it. */
export function todayLocalDate(subscriber: PlanSubscriber, now: Date): string | undefined {
  const date = localTime(now, subscriber.timezone).date;
  return subscriber.lastDigestDate !== undefined && subscriber.lastDigestDate >= date ? undefined : date;
}

/**
 * Where a new digest's "new papers" window starts: the previous digest that did not fail (so papers
 * of a failed digest are offered again), else 24 hours or 7 days back.
 */
export function windowStartFor(frequency: Frequency, previousPlannedAt: Date | undefined, now: Date): Date {
  if (previousPlannedAt) return previousPlannedAt;
  return new Date(now.getTime() - (frequency === 'weekly' ? 7 : 1) * 86_400_000);
}
