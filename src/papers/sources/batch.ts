import { normalizePaper, type PaperRecord, type RawPaper, RecordError } from '../normalize.js';

export interface Rejected {
  index: number;
  reason: string;
}

/** What a source parsed: good records and, for the bad ones, their position and why. */
export interface ParsedBatch {
  records: PaperRecord[];
  rejected: Rejected[];
}

/** Normalizes each item on its own, so one bad record never sinks the batch. */
export function normalizeAll<T>(items: readonly T[], toRaw: (item: T) => RawPaper, now: Date): ParsedBatch {
  const batch: ParsedBatch = { records: [], rejected: [] };
  items.forEach((item, index) => {
    try {
      batch.records.push(normalizePaper(toRaw(item), now));
    } catch (error) {
      if (!(error instanceof RecordError || error instanceof TypeError)) throw error;
      batch.rejected.push({
        index,
        reason: error instanceof RecordError ? error.message : 'malformed record',
      });
    }
  });
  return batch;
}
