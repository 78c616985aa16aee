import { cleanText, normalizeArxivId, texAccentsToUnicode } from '../papers/normalize.js';

/** What one paste or upload of liked papers may hold; `titleLength` cuts a BibTeX title. */
export const likedInputLimits = { bytes: 2 * 1024 * 1024, entries: 5_000, titleLength: 500 };

/** One item of the reader's input and what it turned out to be; `input` is their text for it, ≤ 200 characters. */
export type LikedEntry =
  | { input: string; kind: 'arxiv'; arxivId: string }
  /** A BibTeX entry with a title and no arXiv reference: the title as text, LaTeX gone. */
  | { input: string; kind: 'title'; title: string }
  /** A DOI or link elsewhere, a word, an entry with nothing to go by or that could not be read. */
  | { input: string; kind: 'not-arxiv'; reason: string };

/** The whole input is refused: too large to read, or more papers than one import takes. */
export class LikedInputError extends Error {
  constructor(
    readonly code: 'too_large' | 'too_many_entries',
    message: string,
  ) {
    super(message);
    this.name = 'LikedInputError';
  }
}

const reasons = {
  otherDoi: 'a DOI not on arXiv',
  otherLink: 'a link not on arXiv',
  arxivPage: 'an arXiv page that is not a paper',
  notAnId: 'not an arXiv id or URL',
  unreadable: 'could not be read',
  nothing: 'no arXiv id, URL, DOI or title',
};

const excerptLength = 200;

/**
 * arXiv ids and URLs (split on white space and commas), or a BibTeX file → one entry per item, in
 * order, with repeats of an arXiv id or a title dropped and counted. Throws a LikedInputError, before
 * resolving any item, for a text over `likedInputLimits.bytes` or with more than `entries` items.
 */
export function parseLikedInput(text: string): { entries: LikedEntry[]; duplicates: number } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > likedInputLimits.bytes) {
    throw new LikedInputError(
      'too_large',
      `At most ${megabytes(likedInputLimits.bytes)} MB (this is ${megabytes(bytes)} MB)`,
    );
  }
  const entries = looksLikeBibtex(text) ? bibtexEntries(text) : listEntries(text);
  return collapseDuplicates(entries);
}

/** Rounded up to a tenth, so a text just over the limit does not read as exactly at it. */
const megabytes = (bytes: number) => Math.ceil((bytes / 1024 / 1024) * 10) / 10;

function checkCount(count: number): void {
  if (count <= likedInputLimits.entries) return;
  const format = (value: number) => value.toLocaleString('en-US');
  throw new LikedInputError(
    'too_many_entries',
    `At most ${format(likedInputLimits.entries)} papers at once (this has ${format(count)})`,
  );
}

/** The first arXiv id or title is kept; later ones with the same id or title (in any case) are dropped. */
function collapseDuplicates(entries: LikedEntry[]): { entries: LikedEntry[]; duplicates: number } {
  const seen = new Set<string>();
  const kept = entries.filter((entry) => {
    if (entry.kind === 'not-arxiv') return true;
    const key = entry.kind === 'arxiv' ? `arxiv ${entry.arxivId}` : `title ${entry.title.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { entries: kept, duplicates: entries.length - kept.length };
}

/** At most `max` characters, never cutting a surrogate pair in two. */
function truncate(text: string, max: number, marker = ''): string {
  if (text.length <= max) return text;
  let end = max - marker.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end).trimEnd()}${marker}`;
}

/** The reader's own text for an item, printable and short enough to show back. */
function excerpt(text: string): string {
  return truncate(cleanText(text.slice(0, excerptLength * 2)), excerptLength, '…');
}

// List mode ------------------------------------------------------------------------------------

/** White space, commas, zero-width spaces, control characters and bidi controls all separate items. */
const separators = /[\s,\p{Cc}\u200b-\u200d\u2060\u202a-\u202e\u2066-\u2069]+/u;

function listEntries(text: string): LikedEntry[] {
  const tokens = text.split(separators).filter(Boolean);
  checkCount(tokens.length);
  return tokens.map(tokenEntry);
}

function tokenEntry(token: string): LikedEntry {
  const input = excerpt(token);
  const arxivId = tokenArxivId(token);
  return arxivId
    ? { input, kind: 'arxiv', arxivId }
    : { input, kind: 'not-arxiv', reason: tokenReason(token) };
}

/** An id, an arxiv.org link (abs, pdf or html; with a query, a trailing slash, in brackets) or an arXiv DOI. */
function tokenArxivId(token: string): string | undefined {
  if (token.length > 300) return undefined;
  const tidy = token
    .replace(/^[<("'[]+/, '')
    .replace(/[>)"'\].;:]+$/, '')
    .replace(/^(?=(www\.|export\.)?arxiv\.org\/)/i, 'https://')
    .replace(/[?#].*$/s, '')
    .replace(/\/+$/, '')
    .replace(/^(https?:\/\/(export\.|www\.)?arxiv\.org\/)html\//i, '$1abs/');
  return normalizeArxivId(tidy) ?? arxivDoiId(tidy);
}

const doiPrefix = /^(https?:\/\/(dx\.)?doi\.org\/|doi:\s*)/i;

/** `10.48550/arXiv.2309.12345`, also as `https://doi.org/…` or `doi:…` → `2309.12345`. */
function arxivDoiId(value: string): string | undefined {
  const match = /^10\.48550\/arxiv\.(.+)$/is.exec(value.trim().replace(doiPrefix, ''));
  return match ? normalizeArxivId(match[1]) : undefined;
}

function tokenReason(token: string): string {
  const doi = token.slice(0, 300).replace(doiPrefix, '');
  if (/^10\.\d{4,9}\/\S/.test(doi) && !/^10\.48550\//.test(doi)) return reasons.otherDoi;
  if (/^(https?:\/\/)?(www\.|export\.)?arxiv\.org([/?#]|$)/i.test(token)) return reasons.arxivPage;
  if (/^(https?:\/\/|www\.)/i.test(token)) return reasons.otherLink;
  return reasons.notAnId;
}

// BibTeX mode ----------------------------------------------------------------------------------

/** `@type{` or `@type(`, wherever it is: where BibTeX starts reading an entry. */
const entryStart = /@([A-Za-z]+)\s*([{(])/g;
/** An entry start at the beginning of a line: an entry left open never reads past one. */
const lineEntryStart = /^[ \t]*@[A-Za-z]+\s*[{(]/gm;

function looksLikeBibtex(text: string): boolean {
  entryStart.lastIndex = 0;
  return entryStart.test(text);
}

/** One entry as read, before it is resolved. */
interface RawEntry {
  type: string;
  key: string;
  line: number;
  fields: Map<string, string>;
  /** A value never closed, or text that is not a field: what follows it may be misread. */
  damaged: boolean;
}

/** Where reading is in the text; `limit` is where the entry must stop, `close` the character that ends it. */
interface Cursor {
  text: string;
  at: number;
  limit: number;
  close: string;
}

/** Entries that are not papers and hold nothing this needs (@string is read for its macros). */
const skippedTypes = new Set(['comment', 'preamble']);

function bibtexEntries(text: string): LikedEntry[] {
  const raw = readBibtex(text);
  checkCount(raw.length);
  return raw.map(bibtexEntry);
}

/** Every entry but @comment, @preamble and @string (whose macros it applies), in one pass. */
function readBibtex(text: string): RawEntry[] {
  const lineStarts = lineEntryStarts(text);
  const lineOf = lineCounter(text);
  const macros = new Map<string, string>();
  const entries: RawEntry[] = [];
  let next = 0;
  for (let at = 0; ; ) {
    entryStart.lastIndex = at;
    const match = entryStart.exec(text);
    if (!match) break;
    while (next < lineStarts.length && (lineStarts[next] as number) <= match.index) next++;
    const type = (match[1] as string).toLowerCase();
    const cursor: Cursor = {
      text,
      at: match.index + match[0].length,
      limit: lineStarts[next] ?? text.length,
      close: match[2] === '(' ? ')' : '}',
    };
    if (skippedTypes.has(type)) {
      const end = scanTo(text, cursor.at, cursor.limit, cursor.close);
      at = end < 0 ? cursor.limit : end + 1;
      continue;
    }
    const line = lineOf(match.index);
    const entry = readEntry(cursor, macros, type !== 'string');
    at = cursor.at;
    if (type === 'string') {
      for (const [name, value] of entry.fields) macros.set(name, value);
    } else {
      entries.push({ type, line, ...entry });
    }
  }
  return entries;
}

/** Positions of the `@` of every entry start at the beginning of a line, in order. */
function lineEntryStarts(text: string): number[] {
  return Array.from(text.matchAll(lineEntryStart), (match) => match.index + match[0].indexOf('@'));
}

/** Line numbers for positions asked in increasing order, counting each line break once. */
function lineCounter(text: string): (index: number) => number {
  let line = 1;
  let counted = 0;
  return (index) => {
    for (; counted < index; counted++) if (text.charCodeAt(counted) === 10) line++;
    return line;
  };
}

/**
 * The index of the first of `stops` outside braces, or -1 when there is none before `limit`. A loop
 * with a depth counter, not recursion: 100,000 nested braces cost what 100,000 letters do.
 */
function scanTo(text: string, from: number, limit: number, stops: string): number {
  let depth = 0;
  for (let index = from; index < limit; index++) {
    const char = text[index] as string;
    if (depth === 0 && stops.includes(char)) return index;
    if (char === '{') depth++;
    else if (char === '}' && depth > 0) depth--;
  }
  return -1;
}

const spaces = /\s*/y;
const spacesAndCommas = /[\s,]*/y;
const keyChars = /[^\s,={}()"#]*/y;
const nameChars = /[A-Za-z_][\w:.+-]*/y;
const bareChars = /[^\s,#{}()"=]*/y;

/** Moves past what the sticky `pattern` matches (never across `limit`) and returns it. */
function consume(cursor: Cursor, pattern: RegExp): string {
  if (cursor.at >= cursor.limit) return '';
  pattern.lastIndex = cursor.at;
  const match = (pattern.exec(cursor.text)?.[0] ?? '').slice(0, cursor.limit - cursor.at);
  cursor.at += match.length;
  return match;
}

const peek = (cursor: Cursor) => (cursor.at < cursor.limit ? (cursor.text[cursor.at] as string) : '');

/**
 * `key, name = value, …` up to the closing brace (or parenthesis). An entry left open ends at its
 * limit with what it read; a value left open ends at the next line that looks like a field.
 */
function readEntry(
  cursor: Cursor,
  macros: Map<string, string>,
  withKey: boolean,
): Pick<RawEntry, 'key' | 'fields' | 'damaged'> {
  const key = withKey ? readKey(cursor) : '';
  const fields = new Map<string, string>();
  let damaged = false;
  let openValues = 0;
  for (;;) {
    consume(cursor, spacesAndCommas);
    const char = peek(cursor);
    if (!char) {
      // Cut off before its first field (`@misc{` at the end): nothing in it to go by.
      if (fields.size === 0) damaged = true;
      break;
    }
    if (char === cursor.close) {
      cursor.at++;
      break;
    }
    const name = consume(cursor, nameChars).toLowerCase();
    consume(cursor, spaces);
    if (!name || peek(cursor) !== '=') {
      damaged = true;
      skipJunk(cursor);
      continue;
    }
    cursor.at++;
    const value = readValue(cursor, macros);
    if (value.open) {
      damaged = true;
      // A second value left open in one entry: the rest of it cannot be trusted, and each such
      // value scans to the limit, so stopping here keeps a hostile entry linear.
      if (++openValues > 1) cursor.at = cursor.limit;
    }
    if (!fields.has(name)) fields.set(name, value.text);
  }
  return { key, fields, damaged };
}

/** The citation key, or '' when the entry has none (its first word is a field name). */
function readKey(cursor: Cursor): string {
  consume(cursor, spaces);
  const start = cursor.at;
  const key = consume(cursor, keyChars);
  consume(cursor, spaces);
  if (peek(cursor) === '=') {
    cursor.at = start;
    return '';
  }
  return key;
}

/** Past text that is not a field: to the next comma or closing character outside braces. */
function skipJunk(cursor: Cursor): void {
  const end = scanTo(cursor.text, cursor.at, cursor.limit, `,${cursor.close}`);
  cursor.at = end < 0 ? cursor.limit : end;
}

/** `{…}`, `"…"`, a number or a macro name, or several joined by `#`. */
function readValue(cursor: Cursor, macros: Map<string, string>): { text: string; open: boolean } {
  const parts: string[] = [];
  for (;;) {
    consume(cursor, spaces);
    const char = peek(cursor);
    if (char === '{' || char === '"') {
      const start = cursor.at + 1;
      const end = scanTo(cursor.text, start, cursor.limit, char === '{' ? '}' : '"');
      if (end < 0) {
        cursor.at = recoveryPoint(cursor.text, start, cursor.limit);
        parts.push(cursor.text.slice(start, cursor.at).trimEnd().replace(/,$/, ''));
        return { text: parts.join(''), open: true };
      }
      parts.push(cursor.text.slice(start, end));
      cursor.at = end + 1;
    } else {
      const word = consume(cursor, bareChars);
      parts.push(macros.get(word.toLowerCase()) ?? word);
    }
    consume(cursor, spaces);
    if (peek(cursor) !== '#') return { text: parts.join(''), open: false };
    cursor.at++;
  }
}

/** A line that starts a field (`name =`) or holds only the entry's closing brace. */
const fieldLine = /[ \t]*([A-Za-z_][\w:.+-]*[ \t]*=|[})][ \t]*,?[ \t]*(\r?\n|$))/y;

/** Where a value never closed is taken to end: the next line that looks like a field, or the limit. */
function recoveryPoint(text: string, from: number, limit: number): number {
  for (let newline = text.indexOf('\n', from); newline >= 0 && newline < limit; ) {
    fieldLine.lastIndex = newline + 1;
    if (fieldLine.test(text)) return newline + 1;
    newline = text.indexOf('\n', newline + 1);
  }
  return limit;
}

function bibtexEntry(raw: RawEntry): LikedEntry {
  const input = raw.key ? excerpt(raw.key) : `@${raw.type.slice(0, 40)} on line ${raw.line}`;
  const arxivId = fieldsArxivId(raw.fields);
  if (arxivId) return { input, kind: 'arxiv', arxivId };
  if (raw.damaged) return { input, kind: 'not-arxiv', reason: reasons.unreadable };
  const title = latexToText(raw.fields.get('title') ?? '');
  if (title) return { input, kind: 'title', title };
  const doi = raw.fields.get('doi')?.trim();
  return { input, kind: 'not-arxiv', reason: doi ? reasons.otherDoi : reasons.nothing };
}

const withoutBraces = (value: string | undefined) => value?.slice(0, 300).replace(/[{}]/g, '').trim() ?? '';

/** `eprint` (when arXiv's), Mendeley's `arxivid`, an arXiv `doi`, then arXiv links and references. */
function fieldsArxivId(fields: Map<string, string>): string | undefined {
  return (
    eprintId(fields) ??
    normalizeArxivId(withoutBraces(fields.get('arxivid'))) ??
    arxivDoiId(withoutBraces(fields.get('doi'))) ??
    textFieldsArxivId(fields)
  );
}

function textFieldsArxivId(fields: Map<string, string>): string | undefined {
  for (const name of ['url', 'howpublished', 'note', 'journal']) {
    const value = fields.get(name);
    const id = value === undefined ? undefined : arxivIdInText(value);
    if (id) return id;
  }
  return undefined;
}

function eprintId(fields: Map<string, string>): string | undefined {
  const archive = withoutBraces(fields.get('archiveprefix') ?? fields.get('eprinttype'));
  if (archive && archive.toLowerCase() !== 'arxiv') return undefined;
  const [first] = withoutBraces(fields.get('eprint')).split(/\s+/);
  return normalizeArxivId(first);
}

const arxivInText = [
  /arxiv\.org\/(?:abs|pdf|html)\/([\w./-]{1,60})/gi,
  /\barxiv(?:\s{1,3}preprint)?(?:\s{1,3}arxiv)?(?::\s{0,3}|\s{1,3})([\w./-]{1,60})/gi,
  /10\.48550\/arxiv\.([\w./-]{1,60})/gi,
];

/** `https://arxiv.org/abs/…`, `arXiv:…`, `arXiv preprint arXiv:…` or `10.48550/arXiv.…` inside a field. */
function arxivIdInText(text: string): string | undefined {
  for (const pattern of arxivInText) {
    for (const match of text.matchAll(pattern)) {
      const id = normalizeArxivId((match[1] as string).replace(/[./]+$/, ''));
      if (id) return id;
    }
  }
  return undefined;
}

const texSymbols: Record<string, string> = {
  ldots: '…',
  dots: '…',
  textendash: '–',
  textemdash: '—',
  textquoteleft: '‘',
  textquoteright: '’',
  TeX: 'TeX',
  LaTeX: 'LaTeX',
  BibTeX: 'BibTeX',
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  varepsilon: 'ε',
  theta: 'θ',
  lambda: 'λ',
  mu: 'μ',
  pi: 'π',
  rho: 'ρ',
  sigma: 'σ',
  tau: 'τ',
  phi: 'φ',
  chi: 'χ',
  psi: 'ψ',
  omega: 'ω',
  Delta: 'Δ',
  Omega: 'Ω',
  infty: '∞',
  times: '×',
  to: '→',
  rightarrow: '→',
  log: 'log',
  exp: 'exp',
  min: 'min',
  max: 'max',
  sin: 'sin',
  cos: 'cos',
};

/** A command, an escaped character, a dash ligature, a brace, a math shift or a tie. */
const texToken = /\\([A-Za-z]+)\*?|\\([^A-Za-z])|---?|[{}$~]/g;

/** `\&` is an ampersand, `\'` left over an accent on nothing, `\\` and `\,` a space. */
function escapedChar(char: string): string {
  if ('&%$#_{}'.includes(char)) return char;
  return `'"^\`~=.`.includes(char) ? '' : ' ';
}

/**
 * `{Attention} Is {\emph{All}} You {N}eed -- $\alpha$` → `Attention Is All You Need – α`: text, not TeX.
 * Every pattern here is linear, so the whole value is read (a title can be mostly braces).
 */
function latexToText(value: string): string {
  const text = texAccentsToUnicode(value).replace(
    texToken,
    (token, command: string | undefined, escaped: string | undefined) => {
      if (command !== undefined) return texSymbols[command] ?? '';
      if (escaped !== undefined) return escapedChar(escaped);
      if (token === '---') return '—';
      if (token === '--') return '–';
      return token === '~' ? ' ' : '';
    },
  );
  return truncate(cleanText(text), likedInputLimits.titleLength);
}
