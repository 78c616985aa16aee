import { describe, expect, it } from 'vitest';
import {
  dueLocalDate,
  instantOfLocalHour,
  localTime,
  type PlanSubscriber,
  todayLocalDate,
  windowStartFor,
} from '../../src/digests/plan.js';

const at = (iso: string) => new Date(iso);
const base: PlanSubscriber = {
  id: 1,
  frequency: 'daily',
  weeklyDay: 1,
  timezone: 'UTC',
  sendHour: 7,
  confirmedAt: at('2026-01-01T00:00:00Z'),
};

/**
 * Runs the planner on a fake clock: a tick every `tickMinutes` from `from` to `to` (skipping
 * `outages`), with an in-memory record of created digests, as the tick job would keep it in SQLite.
 */
function simulate(
  subscriber: PlanSubscriber,
  options: {
    from: string;
    to: string;
    tickMinutes?: number;
    outages?: [string, string][];
    lastDigestDate?: string;
  },
) {
  const sent: { localDate: string; at: Date; localHour: number }[] = [];
  // Subscribed when the simulation starts: nothing before it is owed.
  subscriber = { ...subscriber, confirmedAt: new Date(options.from) };
  const step = (options.tickMinutes ?? 15) * 60_000;
  const isDown = (t: number) =>
    (options.outages ?? []).some(([start, end]) => t >= Date.parse(start) && t < Date.parse(end));
  // ... and already had the digest for that local day, if its hour had passed.
  let lastDigestDate: string | undefined =
    options.lastDigestDate ?? localTime(new Date(options.from), subscriber.timezone).date;
  for (let t = Date.parse(options.from); t <= Date.parse(options.to); t += step) {
    if (isDown(t)) continue;
    const now = new Date(t);
    const date = dueLocalDate({ ...subscriber, lastDigestDate }, now);
    if (date) lastDigestDate = date;
    if (date) sent.push({ localDate: date, at: now, localHour: localTime(now, subscriber.timezone).hour });
  }
  return sent;
}

const zones = [
  'UTC',
  'America/New_York', // DST starts 2026-03-08
  'Europe/Berlin', // DST starts 2026-03-29
  'Pacific/Kiritimati', // UTC+14: its day starts before anyone's
  'America/St_Johns', // UTC-3:30 / -2:30
  'Asia/Kathmandu', // UTC+5:45
  'Australia/Lord_Howe', // 30-minute DST shift, ends 2026-04-05
  'Pacific/Pago_Pago', // UTC-11
];

describe('localTime and instantOfLocalHour', () => {
  it('read wall-clock time in odd offsets', () => {
    expect(localTime(at('2026-03-10T00:00:00Z'), 'Pacific/Kiritimati')).toEqual({
      date: '2026-03-10',
      hour: 14,
      weekday: 2,
    });
    // Newfoundland moved to daylight time (UTC-2:30) on 2026-03-08.
    expect(localTime(at('2026-03-10T00:00:00Z'), 'America/St_Johns')).toEqual({
      date: '2026-03-09',
      hour: 21,
      weekday: 1,
    });
    expect(localTime(at('2026-03-10T00:00:00Z'), 'Asia/Kathmandu').hour).toBe(5);
  });

  it('finds the instant a local hour begins, and the first instant after a skipped hour', () => {
    expect(instantOfLocalHour('2026-03-10', 7, 'America/New_York').toISOString()).toBe(
      '2026-03-10T11:00:00.000Z',
    );
    expect(instantOfLocalHour('2026-03-10', 7, 'America/St_Johns').toISOString()).toBe(
      '2026-03-10T09:30:00.000Z',
    );
    // 02:00 does not exist in New York on 2026-03-08: clocks jump from 01:59 to 03:00.
    expect(instantOfLocalHour('2026-03-08', 2, 'America/New_York').toISOString()).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });
});

describe('dueLocalDate over weeks of 15-minute ticks', () => {
  it.each(zones)(
    'gives a daily subscriber in %s exactly one digest per local date, at the first tick of their hour',
    (timezone) => {
      const subscriber = { ...base, timezone, sendHour: 7 };
      const sent = simulate(subscriber, { from: '2026-03-01T00:00:00Z', to: '2026-04-10T00:00:00Z' });
      const dates = sent.map((digest) => digest.localDate);
      expect(new Set(dates).size).toBe(dates.length);
      // Every local date from the first to the last, none missing.
      const first = dates[0] as string;
      const last = dates.at(-1) as string;
      const days = (Date.parse(last) - Date.parse(first)) / 86_400_000 + 1;
      expect(dates).toHaveLength(days);
      expect(days).toBeGreaterThanOrEqual(39);
      for (const digest of sent) {
        expect(digest.localHour).toBe(7);
        expect(localTime(digest.at, timezone).date).toBe(digest.localDate);
      }
    },
  );

  it.each(zones)('gives a weekly subscriber in %s one digest each week on their day', (timezone) => {
    const subscriber = { ...base, timezone, frequency: 'weekly' as const, weeklyDay: 1, sendHour: 9 };
    const sent = simulate(subscriber, { from: '2026-03-01T00:00:00Z', to: '2026-04-27T00:00:00Z' });
    expect(sent.length).toBeGreaterThanOrEqual(8);
    for (const digest of sent) {
      expect(localTime(digest.at, timezone)).toMatchObject({ weekday: 1, hour: 9, date: digest.localDate });
    }
    const gaps = sent
      .slice(1)
      .map(
        (digest, i) =>
          Date.parse(digest.localDate) - Date.parse((sent[i] as { localDate: string }).localDate),
      );
    expect(gaps.every((gap) => gap === 7 * 86_400_000)).toBe(true);
  });

  it('sends on the day a DST jump removes the send hour, at the jump', () => {
    const sent = simulate(
      { ...base, timezone: 'America/New_York', sendHour: 2 },
      {
        from: '2026-03-07T00:00:00Z',
        to: '2026-03-10T00:00:00Z',
      },
    );
    const onJumpDay = sent.find((digest) => digest.localDate === '2026-03-08');
    expect(onJumpDay?.at.toISOString()).toBe('2026-03-08T07:00:00.000Z'); // 03:00 local, the first instant after 02:00
  });

  it('catches up a 3-hour outage over the send hour at the first tick after it', () => {
    const sent = simulate(
      { ...base, timezone: 'Europe/Berlin', sendHour: 7 },
      {
        from: '2026-03-10T00:00:00Z',
        to: '2026-03-12T00:00:00Z',
        outages: [['2026-03-10T05:30:00Z', '2026-03-10T08:45:00Z']], // 06:30–09:45 Berlin
        lastDigestDate: '2026-03-09',
      },
    );
    expect(sent.map((digest) => [digest.localDate, digest.at.toISOString()])).toEqual([
      ['2026-03-10', '2026-03-10T08:45:00.000Z'],
      ['2026-03-11', '2026-03-11T06:00:00.000Z'],
    ]);
  });

  it('makes up a digest missed by an outage across midnight, but only one', () => {
    const sent = simulate(
      { ...base, timezone: 'UTC', sendHour: 23 },
      {
        from: '2026-03-10T00:00:00Z',
        to: '2026-03-12T00:00:00Z',
        outages: [['2026-03-10T22:00:00Z', '2026-03-11T02:00:00Z']],
        lastDigestDate: '2026-03-09',
      },
    );
    expect(sent.map((digest) => [digest.localDate, digest.at.toISOString()])).toEqual([
      ['2026-03-10', '2026-03-11T02:00:00.000Z'],
      ['2026-03-11', '2026-03-11T23:00:00.000Z'],
    ]);
  });

  it('does not make up a send time from before the subscriber confirmed', () => {
    const subscriber = { ...base, sendHour: 23, confirmedAt: at('2026-03-11T01:00:00Z') };
    expect(dueLocalDate(subscriber, at('2026-03-11T01:15:00Z'))).toBeUndefined();
    expect(dueLocalDate(subscriber, at('2026-03-11T23:00:00Z'))).toBe('2026-03-11');
  });

  it('sends the same day when a subscriber confirms after their hour (SPEC §7: the hour has been reached)', () => {
    const subscriber = { ...base, sendHour: 7, confirmedAt: at('2026-03-11T10:00:00Z') };
    expect(dueLocalDate(subscriber, at('2026-03-11T10:15:00Z'))).toBe('2026-03-11');
  });

  it('gives Kiritimati its Tuesday while Pago Pago is still on Monday', () => {
    const now = at('2026-03-09T20:00:00Z');
    expect(dueLocalDate({ ...base, timezone: 'Pacific/Kiritimati', sendHour: 7 }, now)).toBe('2026-03-10');
    expect(dueLocalDate({ ...base, timezone: 'Pacific/Pago_Pago', sendHour: 7 }, now)).toBe('2026-03-09');
  });
});

describe('todayLocalDate (digest --all) and windowStartFor', () => {
  it('plans today for everyone once, whatever the hour', () => {
    const now = at('2026-03-10T03:00:00Z');
    expect(todayLocalDate({ ...base, sendHour: 23 }, now)).toBe('2026-03-10');
    expect(todayLocalDate({ ...base, lastDigestDate: '2026-03-10' }, now)).toBeUndefined();
    expect(todayLocalDate({ ...base, timezone: 'America/New_York' }, now)).toBe('2026-03-09');
  });

  it('starts the window at the previous digest, or 24 hours / 7 days back for the first', () => {
    const now = at('2026-03-10T07:00:00Z');
    expect(windowStartFor('daily', undefined, now).toISOString()).toBe('2026-03-09T07:00:00.000Z');
    expect(windowStartFor('weekly', undefined, now).toISOString()).toBe('2026-03-03T07:00:00.000Z');
    expect(windowStartFor('daily', at('2026-03-09T06:00:00Z'), now).toISOString()).toBe(
      '2026-03-09T06:00:00.000Z',
    );
  });
});
