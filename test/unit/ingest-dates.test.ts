import { describe, expect, it } from 'vitest';
import { arxivPagingLimit, planArxivReach } from '../../src/papers/plan-arxiv.js';
import { addDays, planHfDailyDates, utcDate } from '../../src/papers/plan-dates.js';

const today = '2026-11-28';

describe('planHfDailyDates', () => {
  it('fetches yesterday and today on an empty store', () => {
    expect(planHfDailyDates({ lastSuccess: null, failed: [] }, today, 7)).toEqual(['2026-11-27', today]);
  });

  it('refetches the last successful date and the three freshest lists on a normal run', () => {
    expect(planHfDailyDates({ lastSuccess: today, failed: [] }, today, 7)).toEqual([
      '2026-11-26',
      '2026-11-27',
      today,
    ]);
  });

  it('catches up every date missed while stopped, from the last successful one, oldest first', () => {
    expect(planHfDailyDates({ lastSuccess: '2026-11-23', failed: [] }, today, 7)).toEqual([
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      today,
    ]);
  });

  it('keeps to the newest `cap` dates after a long outage', () => {
    expect(planHfDailyDates({ lastSuccess: '2026-10-01', failed: [] }, today, 2)).toEqual([
      '2026-11-27',
      today,
    ]);
    expect(planHfDailyDates({ lastSuccess: null, failed: [] }, today, 1)).toEqual([today]);
  });

  it('goes back to the oldest date that failed since', () => {
    expect(planHfDailyDates({ lastSuccess: today, failed: ['2026-11-24'] }, today, 7)).toEqual([
      '2026-11-24',
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      today,
    ]);
    expect(planHfDailyDates({ lastSuccess: null, failed: ['2026-11-25'] }, today, 7)).toEqual([
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      today,
    ]);
  });

  it('never plans a date after today (a date fetched with --date, a clock set back)', () => {
    expect(planHfDailyDates({ lastSuccess: '2026-12-05', failed: ['2026-12-06'] }, today, 7)).toEqual([
      '2026-11-26',
      '2026-11-27',
      today,
    ]);
  });

  it('crosses month and year ends in UTC', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(utcDate(new Date('2026-11-28T23:59:59-05:00'))).toBe('2026-11-29');
    expect(planHfDailyDates({ lastSuccess: '2026-12-30', failed: [] }, '2027-01-01', 7)).toEqual([
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
    ]);
  });
});

describe('planArxivReach', () => {
  const now = new Date('2026-11-28T09:00:00Z');

  it('reads the newest `firstRunEntries` of a source never read', () => {
    expect(planArxivReach(null, now, 7, 300)).toEqual({ stopAt: null, maxEntries: 300 });
  });

  it('pages back to the newest stored submission, however many pages that takes', () => {
    const newest = new Date('2026-11-27T13:59:00Z');
    expect(planArxivReach(newest, now, 7, 300)).toEqual({ stopAt: newest, maxEntries: arxivPagingLimit });
    const sixDays = new Date('2026-11-22T09:00:00Z');
    expect(planArxivReach(sixDays, now, 7, 300).stopAt).toEqual(sixDays);
  });

  it('stops at the cap after a longer outage, and names what it skips', () => {
    const newest = new Date('2026-11-10T13:59:00Z');
    expect(planArxivReach(newest, now, 7, 300)).toEqual({
      stopAt: new Date('2026-11-21T09:00:00Z'),
      maxEntries: arxivPagingLimit,
      skippedAfter: newest,
    });
    expect(planArxivReach(new Date('2026-11-21T09:00:00Z'), now, 7, 300).skippedAfter).toBeUndefined();
  });
});
