import { stemmer } from 'stemmer';

const nonAscii = /[^\p{ASCII}]/u;
const nextNonAscii = /[^\p{ASCII}]/gu;
/** ASCII white space: tab, line feed, vertical tab, form feed, carriage return, space. */
const isAsciiSpace = (code: number) => code === 32 || (code >= 9 && code <= 13);

/** ASCII text's tokens: Unicode normalisation changes nothing there, and letters and digits are [a-z0-9]. */
const asciiTokens = (text: string) => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** The rule itself, for any text: what `tokenize` returns, at the Unicode path's cost. */
export function unicodeTokens(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      // Only Latin and Greek accents are dropped: elsewhere the mark is part of the letter (デ, й, हि).
      .replace(/([\p{Script=Latin}\p{Script=Greek}])\p{M}+/gu, '$1')
      .normalize('NFC')
      .toLowerCase()
      .match(/[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu) ?? []
  );
}

/** Lower case, accents removed (`Günther` → `gunther`), split on everything but letters and digits. */
export function tokenize(text: string): string[] {
  // Most titles and abstracts are ASCII: the fast path gives the same tokens at a fraction of the cost.
  if (!nonAscii.test(text)) return asciiTokens(text);
  // In the rest, only the words with a non-ASCII character take the Unicode path. ASCII white space
  // ends every token, and no normalisation or case rule reaches across it (it never composes, and a
  // final sigma's context stops at it), so word by word gives the same tokens as the whole text.
  const tokens: string[] = [];
  let from = 0;
  nextNonAscii.lastIndex = 0;
  for (let hit = nextNonAscii.exec(text); hit; hit = nextNonAscii.exec(text)) {
    let start = hit.index;
    while (start > from && !isAsciiSpace(text.charCodeAt(start - 1))) start--;
    let end = nextNonAscii.lastIndex;
    while (end < text.length && !isAsciiSpace(text.charCodeAt(end))) end++;
    tokens.push(...asciiTokens(text.slice(from, start)), ...unicodeTokens(text.slice(start, end)));
    from = end;
    nextNonAscii.lastIndex = end;
  }
  tokens.push(...asciiTokens(text.slice(from)));
  return tokens;
}

const stems = new Map<string, string>();

/** English (Porter) stem of one lower-case token, cached: the same words recur across papers. */
export function stem(token: string): string {
  let stemmed = stems.get(token);
  if (stemmed === undefined) {
    stemmed = /^\p{N}+$/u.test(token) ? token : stemmer(token);
    if (stems.size > 200_000) stems.clear();
    stems.set(token, stemmed);
  }
  return stemmed;
}

// Words so common in titles and abstracts that requiring them would only lose papers.
const stopwords = new Set(
  'a an and are as at be but by for from has have in into is it its of on or our that the their this to via was we were which with without'.split(
    ' ',
  ),
);

export const isStopword = (token: string) => stopwords.has(token);

/** Stems of the stop words: features of similarity leave them out (`similar.ts`). */
let stopStems: Set<string> | undefined;

export const isStopStem = (stemmed: string) => {
  stopStems ??= new Set([...stopwords].map(stem));
  return stopStems.has(stemmed);
};
