/**
 * How far back an `arxiv:` run pages (the API answers newest submission first). Pure over its
 * inputs, so outages and the cap are tested on a fake clock.
 */

/** arXiv's API pages one query no further than this many results. */
export const arxivPagingLimit = 30_000;

const dayMs = 24 * 3600_000;

export interface ArxivReach {
  /** Page until a page reaches a submission at or before this; null: read `maxEntries` and stop. */
  stopAt: Date | null;
  maxEntries: number;
  /** Set when the outage was longer than the cap: submissions after this and up to `stopAt` are not read. */
  skippedAfter?: Date;
}

/**
 * arXiv announces a submission once, a day or three after it is made, and the API lists it from
 * then on. Every newly announced submission is newer than the newest one already stored (that one
 * was announced before them), so a run pages back to it: one page when nothing is new, every page
 * announced while paperboy was down otherwise. The cap is the same `catchUpDays` as hf-daily's;
 * a source never read before takes the newest `firstRunEntries`.
 */
export function planArxivReach(
  newestStored: Date | null,
  now: Date,
  catchUpDays: number,
  firstRunEntries: number,
): ArxivReach {
  if (newestStored === null) return { stopAt: null, maxEntries: firstRunEntries };
  const floor = new Date(now.getTime() - catchUpDays * dayMs);
  if (newestStored >= floor) return { stopAt: newestStored, maxEntries: arxivPagingLimit };
  return { stopAt: floor, maxEntries: arxivPagingLimit, skippedAfter: newestStored };
}
