import { decodeHTML } from 'entities';
import { hasControlCharacters } from '../text.js';

/** A paper as every source hands it to `ingestPapers`: fields a source does not know are undefined. */
export interface PaperRecord {
  arxivId: string;
  title: string;
  abstract: string;
  authors: string[];
  categories?: string[];
  publishedAt: Date;
  upvotes?: number;
  aiSummary?: string;
  aiKeywords?: string[];
  githubRepo?: string;
  projectPage?: string;
  thumbnail?: string;
}

/** One record is unusable; the rest of its batch still goes in. */
export class RecordError extends Error {}

const newStyleId = /^\d{4}\.\d{4,5}$/;
const oldStyleId = /^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?\/\d{7}$/;

/**
 * `2309.12345v2`, `arXiv:2309.12345`, `http://arxiv.org/abs/hep-th/9901001v1`, `oai:arXiv.org:…`
 * → the bare id without version, or undefined when it is not an arXiv id.
 */
export function normalizeArxivId(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 200) return undefined;
  const id = input
    .trim()
    .replace(/^https?:\/\/(export\.|www\.)?arxiv\.org\/(abs|pdf)\//i, '')
    .replace(/^oai:arXiv\.org:/i, '')
    .replace(/^arxiv:/i, '')
    .replace(/\.pdf$/i, '')
    .replace(/v\d+$/, '');
  return newStyleId.test(id) || oldStyleId.test(id) ? id : undefined;
}

/** Entities decoded, `\$` unescaped, Unicode NFC, every run of white space or control characters one space. */
export function cleanText(input: string): string {
  return (
    decodeHTML(input)
      .replaceAll('\\$', '$')
      .normalize('NFC')
      .replace(/[\s\p{Cc}]+/gu, ' ')
      // Bidi overrides and isolates from a feed could reorder the text around them in an email.
      .replace(/[\u202a-\u202e\u2066-\u2069]/g, '')
      .trim()
  );
}

const texAccents: Record<string, string> = {
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  '"': '\u0308',
  '~': '\u0303',
  '=': '\u0304',
  '.': '\u0307',
  v: '\u030C',
  u: '\u0306',
  H: '\u030B',
  c: '\u0327',
  k: '\u0328',
  r: '\u030A',
};

const texLetters: Record<string, string> = {
  o: 'ø',
  O: 'Ø',
  aa: 'å',
  AA: 'Å',
  ae: 'æ',
  AE: 'Æ',
  oe: 'œ',
  OE: 'Œ',
  l: 'ł',
  L: 'Ł',
  ss: 'ß',
  i: 'ı',
};

/** `Pi\\v{z}urica`, `{\\'E}mile`, `S{\\o}gaard` (as arXiv listing feeds write names) → `Pižurica`, `Émile`, `Søgaard`. */
export function texAccentsToUnicode(name: string): string {
  return name
    .replace(
      /\{?\\([`'^"~=.]|[vuHckr](?=[{ ]))\s*\{?([A-Za-z])\}?\}?/g,
      (match, accent: string, letter: string) => {
        const mark = texAccents[accent];
        return mark ? `${letter}${mark}`.normalize('NFC') : match;
      },
    )
    .replace(
      /\{?\\(aa|AA|ae|AE|oe|OE|ss|o|O|l|L|i)(?![A-Za-z])\s*(\{\})?\}?/g,
      (match, letter: string) => texLetters[letter] ?? match,
    );
}

const limits = {
  title: 1000,
  abstract: 20_000,
  author: 300,
  authors: 3000,
  keyword: 200,
  keywords: 100,
  summary: 5000,
};

function requireText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new RecordError(`${field} is missing`);
  const text = cleanText(value);
  if (!text) throw new RecordError(`${field} is empty`);
  if (text.length > max) throw new RecordError(`${field} is longer than ${max} characters`);
  return text;
}

function optionalText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = cleanText(value);
  return text && text.length <= max ? text : undefined;
}

function textList(value: unknown, field: string, maxItems: number, maxLength: number): string[] {
  if (!Array.isArray(value)) throw new RecordError(`${field} must be a list`);
  if (value.length > maxItems) throw new RecordError(`${field} has more than ${maxItems} entries`);
  const items = value.map((item) => (typeof item === 'string' ? cleanText(item) : ''));
  if (items.some((item) => item.length > maxLength)) {
    throw new RecordError(`${field} has an entry over ${maxLength} characters`);
  }
  return [...new Set(items.filter(Boolean))];
}

/** Absent, null or (as HF sends while it has none yet) `[""]` → undefined. */
function optionalList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = textList(value, field, limits.keywords, limits.keyword);
  return list.length > 0 ? list : undefined;
}

/** Only http(s) links survive: a `javascript:` URL in a feed must never reach an email. */
function optionalUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2000 || hasControlCharacters(value)) return undefined;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function requireDate(value: unknown, field: string, now: Date): Date {
  const date = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new RecordError(`${field} is not a date`);
  // arXiv opened in 1991; a date far in the future is a broken feed, not an early paper.
  if (date.getUTCFullYear() < 1991 || date.getTime() > now.getTime() + 7 * 86_400_000) {
    throw new RecordError(`${field} is out of range`);
  }
  return date;
}

const categoryName = /^[A-Za-z-]+(\.[A-Za-z-]+)?$/;

export interface RawPaper {
  arxivId: unknown;
  title: unknown;
  abstract: unknown;
  authors: unknown;
  categories?: unknown;
  publishedAt: unknown;
  upvotes?: unknown;
  aiSummary?: unknown;
  aiKeywords?: unknown;
  githubRepo?: unknown;
  projectPage?: unknown;
  thumbnail?: unknown;
}

/** The fields of one record as a source read them → a clean PaperRecord, or a RecordError saying why not. */
export function normalizePaper(raw: RawPaper, now: Date): PaperRecord {
  const arxivId = normalizeArxivId(raw.arxivId);
  if (!arxivId)
    throw new RecordError(`${JSON.stringify(String(raw.arxivId).slice(0, 60))} is not an arXiv id`);
  const categories =
    raw.categories === undefined ? undefined : textList(raw.categories, 'categories', 50, 40);
  if (categories?.some((name) => !categoryName.test(name)))
    throw new RecordError('categories has an invalid name');
  let upvotes: number | undefined;
  if (raw.upvotes !== undefined && raw.upvotes !== null) {
    if (typeof raw.upvotes !== 'number' || !Number.isSafeInteger(raw.upvotes) || raw.upvotes < 0) {
      throw new RecordError('upvotes must be a whole number ≥ 0');
    }
    upvotes = raw.upvotes;
  }
  return {
    arxivId,
    title: requireText(raw.title, 'title', limits.title),
    abstract: requireText(raw.abstract, 'abstract', limits.abstract),
    authors: textList(raw.authors, 'authors', limits.authors, limits.author).map(texAccentsToUnicode),
    categories,
    publishedAt: requireDate(raw.publishedAt, 'publishedAt', now),
    upvotes,
    aiSummary: optionalText(raw.aiSummary, limits.summary),
    aiKeywords: optionalList(raw.aiKeywords, 'aiKeywords'),
    githubRepo: optionalUrl(raw.githubRepo),
    projectPage: optionalUrl(raw.projectPage),
    thumbnail: optionalUrl(raw.thumbnail),
  };
}
