/**
 * Which Hugging Face daily lists a run fetches. Pure over its inputs, so outages, late additions and
 * the cap are tested on a fake clock without waiting for days to pass.
 */

/** Papers of the last this many daily lists get their upvotes refreshed on every run. */
export const freshDays = 3;

const dayMs = 24 * 3600_000;

/** A UTC calendar date, YYYY-MM-DD. */
export const utcDate = (at: Date): string => at.toISOString().slice(0, 10);

export const addDays = (date: string, days: number): string =>
  utcDate(new Date(Date.parse(`${date}T00:00:00Z`) + days * dayMs));

export interface DateHistory {
  /** The newest date fetched successfully; null before the first success. */
  lastSuccess: string | null;
  /** Dates whose latest run failed (no success since). */
  failed: readonly string[];
}

/**
 * The dates to fetch, oldest first: from the last successful date (again, for lists that grew after
 * its last run), or the oldest failed date if older, through today; never fewer than the last
 * `freshDays` lists (their upvotes still grow), and at most `cap` dates — the newest ones, so a long
 * outage never delays today's papers. An empty store starts with yesterday and today.
 */
export function planHfDailyDates(history: DateHistory, today: string, cap: number): string[] {
  const floor = addDays(today, history.lastSuccess === null ? -1 : -(freshDays - 1));
  const oldest = [floor, history.lastSuccess ?? floor, ...history.failed].sort()[0] ?? floor;
  const start = [oldest, addDays(today, -(cap - 1))].sort()[1] ?? today;
  const dates: string[] = [];
  for (let date = start; date <= today; date = addDays(date, 1)) dates.push(date);
  return dates;
}
