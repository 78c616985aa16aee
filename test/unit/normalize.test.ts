import { describe, expect, it } from 'vitest';
import {
  cleanText,
  normalizeArxivId,
  normalizePaper,
  texAccentsToUnicode,
} from '../../src/papers/normalize.js';

const now = new Date('2026-08-03T00:00:00Z');
const base = {
  arxivId: '2607.28628v1',
  title: 'A title',
  abstract: 'An abstract.',
  authors: ['Ada Lovelace'],
  publishedAt: '2026-07-30T17:59:56Z',
};

describe('normalizeArxivId', () => {
  it.each([
    ['2309.12345v2', '2309.12345'],
    ['2309.12345', '2309.12345'],
    ['1501.0001v1', '1501.0001'],
    ['arXiv:2309.12345v10', '2309.12345'],
    ['http://arxiv.org/abs/2607.28628v1', '2607.28628'],
    ['https://arxiv.org/pdf/2607.28628v3', '2607.28628'],
    ['http://arxiv.org/abs/hep-th/9901001v1', 'hep-th/9901001'],
    ['cs/0503050v1', 'cs/0503050'],
    ['math.AG/0601001', 'math.AG/0601001'],
    ['oai:arXiv.org:2508.13167v1', '2508.13167'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeArxivId(input)).toBe(expected);
  });

  it.each([
    '',
    'hello',
    '2309.123',
    '23091.2345',
    '../etc/passwd',
    'javascript:alert(1)',
    12345,
    null,
    'x'.repeat(500),
  ])('rejects %j', (input) => {
    expect(normalizeArxivId(input)).toBeUndefined();
  });
});

describe('cleanText', () => {
  it('collapses hard-wrapped lines, decodes entities, unescapes \\$ and composes to NFC', () => {
    expect(cleanText('Economic\n  Environments')).toBe('Economic Environments');
    expect(cleanText('A &amp; B &lt;C&gt; &#x3B1;')).toBe('A & B <C> α');
    expect(cleanText('\\$OneMillion-Bench')).toBe('$OneMillion-Bench');
    expect(cleanText('Cafe\u0301')).toBe('Café');
    expect(cleanText(' tab\there\u0000nul ')).toBe('tab here nul');
  });
});

describe('texAccentsToUnicode', () => {
  it('turns TeX accents in names into letters', () => {
    expect(texAccentsToUnicode('Pi\\v{z}urica')).toBe('Pižurica');
    expect(texAccentsToUnicode("{\\'E}mile")).toBe('Émile');
    expect(texAccentsToUnicode('G\\"{o}del')).toBe('Gödel');
    expect(texAccentsToUnicode('Fran\\c{c}ois')).toBe('François');
    expect(texAccentsToUnicode('Anders S{\\o}gaard')).toBe('Anders Søgaard');
    expect(texAccentsToUnicode('\\AA{}ngstr\\"om')).toBe('Ångström');
    expect(texAccentsToUnicode('Plain Name')).toBe('Plain Name');
  });
});

describe('normalizePaper', () => {
  it('keeps only http(s) links', () => {
    const paper = normalizePaper(
      {
        ...base,
        githubRepo: 'javascript:alert(1)',
        projectPage: 'https://example.org/p',
        thumbnail: 'data:x',
      },
      now,
    );
    expect(paper.githubRepo).toBeUndefined();
    expect(paper.projectPage).toBe('https://example.org/p');
    expect(paper.thumbnail).toBeUndefined();
  });

  it.each([
    [{ arxivId: 'nope' }, /not an arXiv id/],
    [{ title: '' }, /title is empty/],
    [{ title: 42 }, /title is missing/],
    [{ abstract: undefined }, /abstract is missing/],
    [{ title: 'x'.repeat(1001) }, /title is longer/],
    [{ authors: 'Ada' }, /authors must be a list/],
    [{ publishedAt: 'yesterday' }, /publishedAt is not a date/],
    [{ publishedAt: '2030-01-01T00:00:00Z' }, /out of range/],
    [{ upvotes: -1 }, /upvotes/],
    [{ upvotes: '12' }, /upvotes/],
    [{ categories: ['cs.LG', 'DROP TABLE;'] }, /categories/],
  ])('rejects %j', (override, reason) => {
    expect(() => normalizePaper({ ...base, ...override }, now)).toThrow(reason);
  });

  it('leaves fields the source does not know undefined, so stored values survive', () => {
    const paper = normalizePaper(base, now);
    expect(paper.categories).toBeUndefined();
    expect(paper.upvotes).toBeUndefined();
    expect(paper.aiKeywords).toBeUndefined();
  });
});
