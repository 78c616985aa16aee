import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTopic, type TopicField, type TopicNode, TopicSyntaxError } from '../../src/topics/parse.js';

// Small AST builders: positions are 0-based offsets into the query.
const term = (
  position: number,
  text: string,
  tokens = [text.toLowerCase()],
  field?: TopicField,
): TopicNode => ({
  type: 'term',
  field,
  text,
  tokens,
  position,
});
const phrase = (position: number, text: string, tokens: string[], field?: TopicField): TopicNode => ({
  type: 'phrase',
  field,
  text,
  tokens,
  position,
});
const and = (position: number, ...children: TopicNode[]): TopicNode => ({ type: 'and', children, position });
const or = (position: number, ...children: TopicNode[]): TopicNode => ({ type: 'or', children, position });
const not = (position: number, child: TopicNode): TopicNode => ({ type: 'not', child, position });
const like = (position: number, arxivId: string): TopicNode => ({
  type: 'like',
  arxivId,
  text: `like:${arxivId}`,
  position,
});
const tenLikes = Array.from({ length: 10 }, (_, i) => `like:2511.${String(10000 + i)}`).join(' ');

interface SyntaxErrorCase {
  position: number;
  message: RegExp;
}
type Case = [query: string, expected: TopicNode | SyntaxErrorCase];
const fails = (position: number, message: RegExp): SyntaxErrorCase => ({ position, message });
const isError = (expected: TopicNode | SyntaxErrorCase): expected is SyntaxErrorCase => 'message' in expected;

// `w0 w1 … w39`: the most terms a topic may have.
const fortyWords = Array.from({ length: 40 }, (_, i) => `w${i}`);
const fortyWordQuery = fortyWords.join(' ');
let offset = 0;
const fortyTerms = fortyWords.map((word) => {
  const position = offset;
  offset += word.length + 1;
  return term(position, word);
});

const cases: Case[] = [
  // Words, implicit and explicit AND
  ['transformer', term(0, 'transformer')],
  ['sparse attention', and(0, term(0, 'sparse'), term(7, 'attention'))],
  ['sparse AND attention', and(0, term(0, 'sparse'), term(11, 'attention'))],
  ['  padded   query  ', and(2, term(2, 'padded'), term(11, 'query'))],
  ['TITLE:Diffusion', term(6, 'Diffusion', ['diffusion'], 'title')],
  ['NOTE', term(0, 'NOTE', ['note'])],
  ['not survey', and(0, term(0, 'not'), term(4, 'survey'))],
  // Phrases
  ['"knowledge distillation"', phrase(0, 'knowledge distillation', ['knowledge', 'distillation'])],
  ['"  spaced phrase  "', phrase(0, 'spaced phrase', ['spaced', 'phrase'])],
  ['"the"', phrase(0, 'the', ['the'])],
  ['"a"-b', and(0, phrase(0, 'a', ['a']), not(3, term(4, 'b')))],
  // OR: an operator only in capitals; lowercase `or` is a (stop)word
  ['diffusion OR flow', or(0, term(0, 'diffusion'), term(13, 'flow'))],
  ['rlhf OR dpo OR ppo', or(0, term(0, 'rlhf'), term(8, 'dpo'), term(15, 'ppo'))],
  ['diffusion or flow', and(0, term(0, 'diffusion'), term(13, 'flow'))],
  [
    'sparse attention OR moe routing',
    or(0, and(0, term(0, 'sparse'), term(7, 'attention')), and(20, term(20, 'moe'), term(24, 'routing'))),
  ],
  // Parentheses and nesting
  [
    '(diffusion OR flow) matching',
    and(0, or(1, term(1, 'diffusion'), term(14, 'flow')), term(20, 'matching')),
  ],
  [
    '(vision OR language) AND (robotics OR control)',
    and(0, or(1, term(1, 'vision'), term(11, 'language')), or(26, term(26, 'robotics'), term(38, 'control'))),
  ],
  [
    '((rl OR rlhf) reward) OR dpo',
    or(0, and(1, or(2, term(2, 'rl'), term(8, 'rlhf')), term(14, 'reward')), term(25, 'dpo')),
  ],
  [`${'('.repeat(12)}deep${')'.repeat(12)}`, term(12, 'deep')],
  // Exclusions
  ['transformer -survey', and(0, term(0, 'transformer'), not(12, term(13, 'survey')))],
  ['transformer NOT survey', and(0, term(0, 'transformer'), not(12, term(16, 'survey')))],
  ['transformer AND NOT survey', and(0, term(0, 'transformer'), not(16, term(20, 'survey')))],
  [
    'transformer -"large language"',
    and(0, term(0, 'transformer'), not(12, phrase(13, 'large language', ['large', 'language']))),
  ],
  [
    'agents -(survey OR benchmark)',
    and(0, term(0, 'agents'), not(7, or(9, term(9, 'survey'), term(19, 'benchmark')))),
  ],
  ['-title:survey agents', and(0, not(0, term(7, 'survey', ['survey'], 'title')), term(14, 'agents'))],
  // Fields
  ['title:diffusion', term(6, 'diffusion', ['diffusion'], 'title')],
  ['title:"vision transformer"', phrase(6, 'vision transformer', ['vision', 'transformer'], 'title')],
  ['abstract:"chain of thought"', phrase(9, 'chain of thought', ['chain', 'of', 'thought'], 'abstract')],
  ['author:"Yann LeCun"', phrase(7, 'Yann LeCun', ['yann', 'lecun'], 'author')],
  ['author:lecun', term(7, 'lecun', ['lecun'], 'author')],
  ['author:"Günther Turk"', phrase(7, 'Günther Turk', ['gunther', 'turk'], 'author')],
  ['cat:cs.LG', term(4, 'cs.LG', ['cs.lg'], 'cat')],
  ['cat:math', term(4, 'math', ['math'], 'cat')],
  ['cat:math-ph', term(4, 'math-ph', ['math-ph'], 'cat')],
  [
    'cat:cs.LG -cat:cs.CV',
    and(0, term(4, 'cs.LG', ['cs.lg'], 'cat'), not(10, term(15, 'cs.CV', ['cs.cv'], 'cat'))),
  ],
  // like: an arXiv id, or a link to it; versions dropped
  ['like:2511.12345', like(0, '2511.12345')],
  ['like:2511.12345v3', like(0, '2511.12345')],
  ['LIKE:hep-th/9901001', like(0, 'hep-th/9901001')],
  ['like:https://arxiv.org/abs/2511.12345', like(0, '2511.12345')],
  ['like:arXiv:2511.12345', like(0, '2511.12345')],
  ['cat:cs.LG like:2511.12345', and(0, term(4, 'cs.LG', ['cs.lg'], 'cat'), like(10, '2511.12345'))],
  ['diffusion -like:2511.12345', and(0, term(0, 'diffusion'), not(10, like(11, '2511.12345')))],
  ['(like:2511.12345 OR like:2511.54321)', or(1, like(1, '2511.12345'), like(20, '2511.54321'))],
  // Hyphenated words become phrases
  ['GPT-4', phrase(0, 'GPT-4', ['gpt', '4'])],
  ['x-ray', phrase(0, 'x-ray', ['x', 'ray'])],
  ['large-scale pretraining', and(0, phrase(0, 'large-scale', ['large', 'scale']), term(12, 'pretraining'))],
  // Stopwords are dropped
  [
    'the role of attention in transformers',
    and(0, term(4, 'role'), term(12, 'attention'), term(25, 'transformers')),
  ],
  ['the transformer', term(4, 'transformer')],
  ['transformer -the', term(0, 'transformer')],
  // Diacritics, other scripts, compatibility forms, numbers
  ['Schrödinger bridge', and(0, term(0, 'Schrödinger', ['schrodinger']), term(12, 'bridge'))],
  ['Nguyễn', term(0, 'Nguyễn', ['nguyen'])],
  ['ﬁne-tuning', phrase(0, 'ﬁne-tuning', ['fine', 'tuning'])],
  ['日本語 モデル', and(0, term(0, '日本語'), term(4, 'モデル'))],
  ['глубокий', term(0, 'глубокий')],
  ['हिन्दी', term(0, 'हिन्दी')],
  ['2024', term(0, '2024')],
  ['llama 3.1', and(0, term(0, 'llama'), phrase(6, '3.1', ['3', '1']))],
  ['C++', term(0, 'C++', ['c'])],
  // Limits, just inside
  [fortyWordQuery, and(0, ...fortyTerms)],
  ['w'.repeat(200), term(0, 'w'.repeat(200))],

  // Errors
  ['', fails(0, /empty/)],
  ['   ', fails(0, /empty/)],
  ['diffusion "model', fails(10, /Unclosed quote/)],
  ['""', fails(0, /Empty quotes/)],
  ['x " "', fails(2, /Empty quotes/)],
  ['"..."', fails(0, /no letters or digits/)],
  ['(diffusion', fails(10, /Expected "\)" to close the "\(" at position 0/)],
  ['(x OR (y z)', fails(11, /Expected "\)" to close the "\(" at position 0/)],
  ['diffusion)', fails(9, /Unmatched "\)"/)],
  [')', fails(0, /Expected a word/)],
  ['()', fails(0, /Empty parentheses/)],
  ['x ( ) y', fails(2, /Empty parentheses/)],
  ['diffusion OR', fails(12, /after OR/)],
  ['diffusion AND', fails(13, /after AND/)],
  ['x OR OR y', fails(5, /after OR/)],
  ['x AND OR y', fails(6, /after AND/)],
  ['OR diffusion', fails(0, /OR needs a word before it/)],
  ['AND diffusion', fails(0, /Expected a word.*found "AND"/)],
  ['NOT NOT survey', fails(4, /Double negation/)],
  ['-NOT survey', fails(1, /Double negation/)],
  ['x NOT -survey', fails(6, /Double negation/)],
  ['x --survey', fails(3, /Double negation/)],
  ['-survey', fails(0, /only exclusions/)],
  ['NOT survey -benchmark', fails(0, /only exclusions/)],
  ['x OR -y', fails(5, /only exclusions/)],
  ['x - y', fails(2, /"-" has no letters or digits/)],
  ['x NOT', fails(5, /Expected a word.*end of the topic/)],
  ['foo:bar', fails(0, /Unknown field "foo:"/)],
  ['x https://arxiv.org', fails(2, /Unknown field "https:"/)],
  ['title:', fails(6, /after title:.*end of the topic/)],
  ['title:(x OR y)', fails(6, /after title:.*"\("/)],
  ['cat:"cs LG"', fails(4, /cat: takes an arXiv category/)],
  ['cat:42', fails(4, /cat: takes an arXiv category/)],
  [`${'('.repeat(13)}deep${')'.repeat(13)}`, fails(12, /Too many nested parentheses/)],
  [`${fortyWordQuery} w40`, fails(fortyWordQuery.length + 1, /at most 40 terms/)],
  ['w'.repeat(201), fails(200, /at most 200 characters/)],
  ['x\ny', fails(1, /Control characters/)],
  ['x\ty', fails(1, /Control characters/)],
  ['x\u2028y', fails(1, /Control characters/)],
  ['the of', fails(0, /only common words/)],
  ['or', fails(0, /only common words/)],
  ['title:the', fails(0, /only common words/)],
  ['x OR the', fails(2, /OR/)],
  ['the OR x', fails(4, /OR/)],
  ['the OR of', fails(4, /OR/)],
  ['like:', fails(5, /like: takes an arXiv id.*no space/)],
  ['like: 2511.12345', fails(5, /like: takes an arXiv id.*no space/)],
  ['diffusion like:"a paper"', fails(15, /like: takes an arXiv id.*not a "phrase"/)],
  ['like:2511', fails(5, /"2511" is not an arXiv id/)],
  ['x like:diffusion', fails(7, /"diffusion" is not an arXiv id/)],
  ['like:https://example.com/2511.12345', fails(5, /is not an arXiv id/)],
  ['title:like:2511.12345', fails(6, /after title:.*"like:2511.12345"/)],
  ['-like:2511.12345', fails(0, /only exclusions/)],
  [`${tenLikes} like:2511.20000`, fails(tenLikes.length + 1, /at most 10 like: terms/)],
];

describe('parseTopic', () => {
  it('has a table of at least 45 queries', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
  });

  it.each(cases)('%j', (query, expected) => {
    if (isError(expected)) {
      let thrown: unknown;
      try {
        parseTopic(query);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TopicSyntaxError);
      expect((thrown as TopicSyntaxError).position).toBe(expected.position);
      expect((thrown as TopicSyntaxError).message).toMatch(expected.message);
    } else {
      expect(parseTopic(query)).toStrictEqual(expected);
    }
  });
});

/** Walks an AST and returns its leaves, checking what every node promises along the way. */
function leavesOf(node: TopicNode, query: string): TopicNode[] {
  expect(Number.isInteger(node.position) && node.position >= 0 && node.position < query.length).toBe(true);
  switch (node.type) {
    case 'term':
    case 'phrase':
      expect(node.tokens.length).toBeGreaterThan(0);
      expect(node.tokens.every((token) => token.length > 0)).toBe(true);
      return [node];
    case 'and':
    case 'or':
      expect(node.children.length).toBeGreaterThanOrEqual(2);
      return node.children.flatMap((child) => leavesOf(child, query));
    case 'not':
      return leavesOf(node.child, query);
    case 'like':
      expect(node.arxivId).toMatch(/^\d{4}\.\d{4,5}$|\//);
      return [node];
  }
}

/**
 * One call: an AST or a TopicSyntaxError with a position inside the query, never anything else.
 * (Speed is not timed here: a parser that hung would hit the test timeout; see SPEC on benchmarks.)
 */
function expectAstOrPositionedError(query: string) {
  let ast: TopicNode | undefined;
  let thrown: unknown;
  try {
    ast = parseTopic(query);
  } catch (error) {
    thrown = error;
  }
  if (ast) {
    expect(leavesOf(ast, query).length).toBeLessThanOrEqual(40);
    return;
  }
  expect(thrown).toBeInstanceOf(TopicSyntaxError);
  const { position, message } = thrown as TopicSyntaxError;
  expect(Number.isInteger(position) && position >= 0 && position <= query.length).toBe(true);
  expect(message.endsWith(`(at position ${position})`)).toBe(true);
}

const grammarPieces = [
  '(',
  ')',
  '"',
  '-',
  'OR',
  'NOT',
  'AND',
  'title:',
  'abstract:',
  'author:',
  'cat:',
  'foo:',
  'like:',
  'like:2511.12345',
  ':',
  ' ',
  ' ',
  ' ',
  'x',
  'llm',
  'the',
  'or',
  'cs.LG',
  'GPT-4',
  'Günther',
  '日本',
];

describe('parseTopic on generated input', () => {
  it('returns an AST or a positioned TopicSyntaxError for arbitrary strings', () => {
    const anyString = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ maxLength: 200, unit: 'grapheme' }),
      fc.string({ maxLength: 200, unit: 'binary' }),
    );
    fc.assert(fc.property(anyString, expectAstOrPositionedError), { numRuns: 2000, seed: 6 });
  });

  it('returns an AST or a positioned TopicSyntaxError for strings of operators, quotes, fields and words', () => {
    const grammarSoup = fc
      .array(fc.constantFrom(...grammarPieces), { maxLength: 70 })
      .map((pieces) => pieces.join(''));
    fc.assert(fc.property(grammarSoup, expectAstOrPositionedError), { numRuns: 3000, seed: 6 });
  });

  it.each([
    ['200 opening parentheses', '('.repeat(200)],
    ['100 nested parentheses around a word', `${'('.repeat(100)}x${')'.repeat(99)}`],
    ['100 alternating exclusions', '-('.repeat(100)],
    ['200 quotes', '"'.repeat(200)],
    ['40 ORs ending in a dangling one', 'x OR '.repeat(40)],
  ])('ends with a syntax error, not a hang, on %s', (_, query) => {
    expectAstOrPositionedError(query);
    expect(() => parseTopic(query)).toThrow(TopicSyntaxError);
  });
});
