import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Ctx } from '../context.js';

/** Ingestion needs no queue or tokens, so `paperboy ingest` runs without Redis. */
export type IngestCtx = Pick<Ctx, 'config' | 'db' | 'clock' | 'log'>;

import type { PaperSource } from '../db/schema.js';
import { FeedError } from './fetch-feed.js';
import { planArxivReach } from './plan-arxiv.js';
import { addDays, planHfDailyDates, utcDate } from './plan-dates.js';
import { type ArxivPaging, fetchArxiv, parseArxivAtom } from './sources/arxiv-atom.js';
import type { ParsedBatch, Rejected } from './sources/batch.js';
import { fetchHfDaily } from './sources/hf-daily.js';
import { parsePapersJson } from './sources/json.js';
import { readDateHistory, readNewestSubmission, recordIngestRun, upsertPapers } from './store.js';

/** How one date of a dated source went: its counts, or why it failed. */
export type DateResult =
  | { date: string; inserted: number; updated: number; rejected: number; error?: undefined }
  | { date: string; error: string };

/** How far an `arxiv:` run read back, and why it stopped there. */
export interface ArxivReport extends ArxivPaging {
  /** The newest submission earlier runs of this source stored; null on its first run. */
  newestStored: Date | null;
  /** Set when the outage outlasted `INGEST_CATCH_UP_DAYS`: submissions after it and before `oldest` were not read. */
  skippedAfter?: Date;
}

export interface IngestResult {
  source: string;
  inserted: number;
  updated: number;
  rejected: Rejected[];
  /** hf-daily: each date fetched, oldest first. */
  dates?: DateResult[];
  arxiv?: ArxivReport;
}

/** Some dates of a catch-up failed; the others were stored. `dates` says which is which. */
export class DatesFailedError extends FeedError {
  constructor(readonly result: IngestResult & { dates: DateResult[] }) {
    super(
      result.dates
        .flatMap((run) => (run.error === undefined ? [] : [`${run.date}: ${run.error}`]))
        .join('; '),
    );
  }
}

export type Progress = (done: number, total: number) => void;

const maxFileBytes = 200 * 1024 * 1024;

/** A feed document or file already in hand (admin API, tests): JSON array or Atom. */
export function parsePapersDocument(text: string, kind: 'json' | 'atom', now: Date): ParsedBatch {
  if (kind === 'atom') return parseArxivAtom(text, now);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FeedError(`not valid JSON: ${(error as Error).message}`);
  }
  return parsePapersJson(json, now);
}

function readPapersFile(path: string, now: Date): ParsedBatch {
  if (!existsSync(path) || !statSync(path).isFile()) throw new FeedError(`no such file: ${path}`);
  if (statSync(path).size > maxFileBytes) throw new FeedError(`${path} is larger than 200 MB`);
  const text = readFileSync(path, 'utf8');
  const isAtom = ['.xml', '.atom'].includes(extname(path).toLowerCase()) || text.trimStart().startsWith('<');
  return parsePapersDocument(text, isAtom ? 'atom' : 'json', now);
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

/** `hf-daily`, `arxiv:cs.LG+cs.CL`, or a file path → what it is and how to read it. */
function resolveSource(ctx: IngestCtx, source: string, date: string | undefined, onProgress?: Progress) {
  const { ingest } = ctx.config;
  const fetch = { timeoutMs: ingest.timeoutMs, retries: ingest.retries };
  const now = ctx.clock();
  if (source === 'hf-daily') {
    const day = date ?? now.toISOString().slice(0, 10);
    return {
      kind: 'hf-daily' as const,
      read: () => fetchHfDaily({ apiUrl: ingest.hfApiUrl, date: day, now, fetch }),
    };
  }
  if (source.startsWith('arxiv:')) {
    const categories = source.slice('arxiv:'.length).split('+').filter(Boolean);
    if (
      categories.length === 0 ||
      categories.some((category) => !/^[A-Za-z-]+(\.[A-Za-z-]+)?$/.test(category))
    ) {
      throw new FeedError(`"${source}" is not arxiv:<category>[+<category>…], e.g. arxiv:cs.LG+cs.CL`);
    }
    return {
      kind: 'arxiv' as const,
      read: async () => {
        const newestStored = await readNewestSubmission(ctx.db, source);
        const reach = planArxivReach(newestStored, now, ingest.catchUpDays, ingest.arxivMaxResults);
        const { paging, ...batch } = await fetchArxiv({
          apiUrl: ingest.arxivApiUrl,
          categories,
          now,
          maxResults: reach.maxEntries,
          stopAt: reach.stopAt,
          pageDelayMs: ingest.arxivPageDelayMs,
          fetch,
          onPage: onProgress,
        });
        // The last page may have reached back past the cap to what was stored: then nothing was skipped.
        const skipped = reach.skippedAfter && !(paging.oldest && paging.oldest <= reach.skippedAfter);
        const arxiv: ArxivReport = {
          ...paging,
          newestStored,
          skippedAfter: skipped ? reach.skippedAfter : undefined,
        };
        return { ...batch, arxiv };
      },
    };
  }
  return { kind: 'file' as const, read: async () => readPapersFile(source, now) };
}

/**
 * Stores a parsed batch and records the run, with the date a dated source asked for, or the newest
 * submission an arXiv run read (never later than now: the next run pages back to it).
 */
export async function storeBatch(
  ctx: IngestCtx,
  source: string,
  kind: PaperSource,
  batch: ParsedBatch & { arxiv?: ArxivReport },
  startedAt: Date,
  date?: string,
): Promise<IngestResult> {
  const { inserted, updated } = await upsertPapers(ctx.db, batch.records, kind, ctx.clock());
  await recordIngestRun(ctx.db, {
    source,
    startedAt,
    finishedAt: ctx.clock(),
    status: 'ok',
    inserted,
    updated,
    rejected: batch.rejected.length,
    date,
    newestSubmittedAt:
      batch.arxiv?.newest && new Date(Math.min(batch.arxiv.newest.getTime(), startedAt.getTime())),
  });
  for (const rejected of batch.rejected.slice(0, 20))
    ctx.log.warn({ source, date, ...rejected }, 'paper rejected');
  if (batch.arxiv?.skippedAfter)
    ctx.log.warn(
      { source, skippedAfter: batch.arxiv.skippedAfter, readBackTo: batch.arxiv.oldest },
      'arXiv outage longer than INGEST_CATCH_UP_DAYS: older submissions not read',
    );
  return { source, inserted, updated, rejected: batch.rejected, arxiv: batch.arxiv };
}

/**
 * Reads one source completely, then stores it in one transaction: a feed that fails part-way leaves
 * the store as it was. A malformed record is skipped and reported; the rest of the batch goes in.
 * `hf-daily` without a date catches up date by date (`ingestHfDailyDates`); an `arxiv:` source pages
 * back to the newest submission it stored before (`planArxivReach`).
 */
export async function ingestPapers({
  ctx,
  input,
}: {
  ctx: IngestCtx;
  input: { source: string; date?: string; onProgress?: Progress };
}): Promise<IngestResult> {
  if (input.source === 'hf-daily' && input.date === undefined)
    return ingestHfDailyDates(ctx, input.onProgress);
  return ingestOnce(ctx, input);
}

async function ingestOnce(
  ctx: IngestCtx,
  input: { source: string; date?: string; onProgress?: Progress },
): Promise<IngestResult> {
  // A mistyped command is refused before anything is fetched or recorded.
  if (input.date !== undefined && (!isoDate.test(input.date) || Number.isNaN(Date.parse(input.date)))) {
    throw new FeedError(`--date must be YYYY-MM-DD, not "${input.date}"`);
  }
  if (input.date !== undefined && input.source !== 'hf-daily') {
    throw new FeedError(`--date is for hf-daily only; ${input.source} has no dates`);
  }
  const source = resolveSource(ctx, input.source, input.date, input.onProgress);
  const startedAt = ctx.clock();
  try {
    const batch = await source.read();
    input.onProgress?.(
      batch.records.length + batch.rejected.length,
      batch.records.length + batch.rejected.length,
    );
    return await storeBatch(ctx, input.source, source.kind, batch, startedAt, input.date);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await recordIngestRun(ctx.db, {
      source: input.source,
      startedAt,
      finishedAt: ctx.clock(),
      status: 'failed',
      error: message,
      date: input.date,
    });
    ctx.log.error({ source: input.source, date: input.date, reason: message }, 'ingestion failed');
    throw error;
  }
}

/**
 * Fetches every date `planHfDailyDates` names, oldest first, each stored and recorded on its own: a
 * date that fails does not stop the later ones, and is retried by the next run. Re-fetching a date
 * refreshes its papers' upvotes; `first_seen_at` stays, so nothing is announced as new twice. Throws
 * `DatesFailedError` after the last date when any failed, so the job and the command show it.
 */
async function ingestHfDailyDates(ctx: IngestCtx, onProgress?: Progress): Promise<IngestResult> {
  const today = utcDate(ctx.clock());
  const cap = ctx.config.ingest.catchUpDays;
  const history = await readDateHistory(ctx.db, 'hf-daily', addDays(today, -(cap - 1)));
  const result: IngestResult & { dates: DateResult[] } = {
    source: 'hf-daily',
    inserted: 0,
    updated: 0,
    rejected: [],
    dates: [],
  };
  for (const date of planHfDailyDates(history, today, cap)) {
    try {
      const run = await ingestOnce(ctx, { source: 'hf-daily', date, onProgress });
      result.inserted += run.inserted;
      result.updated += run.updated;
      result.rejected.push(...run.rejected);
      result.dates.push({
        date,
        inserted: run.inserted,
        updated: run.updated,
        rejected: run.rejected.length,
      });
    } catch (error) {
      if (!(error instanceof FeedError)) throw error;
      result.dates.push({ date, error: error.message });
    }
  }
  if (result.dates.some((run) => run.error !== undefined)) throw new DatesFailedError(result);
  return result;
}
