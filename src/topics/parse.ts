import { normalizeArxivId } from '../papers/normalize.js';
import { hasControlCharacters } from '../text.js';
import { isStopword, tokenize } from './tokens.js';

/**
 * The topic language (SPEC §6):
 *
 *   query   := orExpr
 *   orExpr  := andExpr ( "OR" andExpr )*
 *   andExpr := unary ( "AND"? unary )*          words side by side must all match
 *   unary   := ( "-" | "NOT" ) primary | primary
 *   primary := "(" orExpr ")" | like | field? ( word | "phrase" )
 *   field   := "title:" | "abstract:" | "author:" | "cat:"
 *   like    := "like:" arXiv-id                  papers similar to that one (an id or an arxiv.org link)
 *
 * OR, AND and NOT are operators only in capitals; `or` is a word. Positions are 0-based offsets into
 * the query string.
 */

export const topicFields = ['title', 'abstract', 'author', 'cat'] as const;
export type TopicField = (typeof topicFields)[number];

export type TopicNode =
  | { type: 'term'; field?: TopicField; text: string; tokens: string[]; position: number }
  | { type: 'phrase'; field?: TopicField; text: string; tokens: string[]; position: number }
  | { type: 'and'; children: TopicNode[]; position: number }
  | { type: 'or'; children: TopicNode[]; position: number }
  | { type: 'not'; child: TopicNode; position: number }
  /** Papers similar to one paper; `text` is what a match lists among the terms that hit. */
  | { type: 'like'; arxivId: string; text: string; position: number };

export class TopicSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at position ${position})`);
    this.name = 'TopicSyntaxError';
  }
}

export const topicLimits = { length: 200, depth: 12, leaves: 40, likes: 10 };

type Token =
  | { kind: 'word'; text: string; position: number }
  | { kind: 'phrase'; text: string; position: number }
  | { kind: 'field'; field: TopicField; position: number }
  | { kind: 'like'; arxivId: string; position: number }
  | { kind: '(' | ')' | '-' | 'OR' | 'AND' | 'NOT'; position: number }
  | { kind: 'end'; position: number };

const isSpace = (char: string) => /\s/u.test(char);
const wordBreak = (char: string) => isSpace(char) || char === '(' || char === ')' || char === '"';

function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const char = query[i] as string;
    if (isSpace(char)) {
      i++;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char, position: i++ });
    } else if (char === '"') {
      const close = query.indexOf('"', i + 1);
      if (close === -1) throw new TopicSyntaxError('Unclosed quote: add a closing "', i);
      tokens.push({ kind: 'phrase', text: query.slice(i + 1, close), position: i });
      i = close + 1;
    } else if (
      char === '-' &&
      i + 1 < query.length &&
      !isSpace(query[i + 1] as string) &&
      // After another "-" too, so that `--word` is a double negation rather than the word `-word`.
      (i === 0 || wordBreak(query[i - 1] as string) || tokens.at(-1)?.kind === '-')
    ) {
      tokens.push({ kind: '-', position: i++ });
    } else {
      const start = i;
      while (i < query.length && !wordBreak(query[i] as string)) i++;
      const text = query.slice(start, i);
      const field = /^([A-Za-z]+):/.exec(text);
      if (field) {
        const name = (field[1] as string).toLowerCase();
        if (name === 'like') {
          const like = likeToken(query, start + field[0].length, start);
          tokens.push(like.token);
          i = like.end;
          continue;
        }
        if (!(topicFields as readonly string[]).includes(name)) {
          throw new TopicSyntaxError(
            `Unknown field "${field[1]}:"; use title:, abstract:, author:, cat: or like:`,
            start,
          );
        }
        tokens.push({ kind: 'field', field: name as TopicField, position: start });
        // What follows the colon is read as the field's value: a word, or a phrase starting at the colon.
        i = start + (field[0] as string).length;
        continue;
      }
      if (text === 'OR' || text === 'AND' || text === 'NOT') tokens.push({ kind: text, position: start });
      else tokens.push({ kind: 'word', text, position: start });
    }
  }
  tokens.push({ kind: 'end', position: query.length });
  return tokens;
}

/** `like:` and the arXiv id after it, which starts at `at`: the id or link up to the next space or bracket. */
function likeToken(query: string, at: number, position: number): { token: Token; end: number } {
  let end = at;
  while (end < query.length && !wordBreak(query[end] as string)) end++;
  const value = query.slice(at, end);
  const arxivId = value ? normalizeArxivId(value) : undefined;
  if (!arxivId) {
    throw new TopicSyntaxError(
      value
        ? `"${value}" is not an arXiv id: like: takes one such as 2511.12345 or hep-th/9901001`
        : query[at] === '"'
          ? 'like: takes an arXiv id such as 2511.12345, not a "phrase"'
          : 'like: takes an arXiv id such as 2511.12345, with no space after the colon',
      at,
    );
  }
  return { token: { kind: 'like', arxivId, position }, end };
}

/** Parses one topic into an AST, or throws TopicSyntaxError with the position of the problem. */
export function parseTopic(query: string): TopicNode {
  if (hasControlCharacters(query)) {
    throw new TopicSyntaxError(
      'Control characters and line breaks are not allowed',
      query.search(/[\p{Cc}\u2028\u2029]/u),
    );
  }
  if (query.length > topicLimits.length) {
    throw new TopicSyntaxError(`A topic is at most ${topicLimits.length} characters`, topicLimits.length);
  }
  const tokens = lex(query);
  let index = 0;
  let leaves = 0;
  let likes = 0;
  const peek = () => tokens[index] as Token;
  const next = () => tokens[index++] as Token;

  const describe = (token: Token) =>
    token.kind === 'end'
      ? 'the end of the topic'
      : token.kind === 'word' || token.kind === 'phrase'
        ? `"${token.text}"`
        : token.kind === 'like'
          ? `"like:${token.arxivId}"`
          : `"${token.kind === 'field' ? `${token.field}:` : token.kind}"`;

  function leaf(
    token: Extract<Token, { kind: 'word' | 'phrase' }>,
    field?: TopicField,
  ): TopicNode | undefined {
    if (++leaves > topicLimits.leaves)
      throw new TopicSyntaxError(`A topic has at most ${topicLimits.leaves} terms`, token.position);
    const text = token.text.trim();
    if (token.kind === 'phrase' && !text)
      throw new TopicSyntaxError('Empty quotes: put words between them', token.position);
    if (field === 'cat') {
      if (!/^[A-Za-z-]+(\.[A-Za-z-]+)?$/.test(text)) {
        throw new TopicSyntaxError('cat: takes an arXiv category such as cs.LG or math', token.position);
      }
      return { type: 'term', field, text, tokens: [text.toLowerCase()], position: token.position };
    }
    const words = tokenize(text);
    if (words.length === 0) {
      throw new TopicSyntaxError(`${describe(token)} has no letters or digits to search for`, token.position);
    }
    // A lone common word ("the", "of") would match nearly everything: leave it out of the AND.
    if (token.kind === 'word' && field !== 'author' && words.every(isStopword)) return undefined;
    const type = token.kind === 'phrase' || words.length > 1 ? 'phrase' : 'term';
    return { type, field, text, tokens: words, position: token.position };
  }

  function primary(depth: number): TopicNode | undefined {
    const token = next();
    switch (token.kind) {
      case '(': {
        if (depth >= topicLimits.depth)
          throw new TopicSyntaxError('Too many nested parentheses', token.position);
        if (peek().kind === ')')
          throw new TopicSyntaxError('Empty parentheses: put a word inside', token.position);
        const inner = orExpr(depth + 1);
        const close = next();
        if (close.kind !== ')')
          throw new TopicSyntaxError(
            `Expected ")" to close the "(" at position ${token.position}, found ${describe(close)}`,
            close.position,
          );
        return inner;
      }
      case 'field': {
        const value = next();
        if (value.kind !== 'word' && value.kind !== 'phrase') {
          throw new TopicSyntaxError(
            `Expected a word or "phrase" after ${token.field}:, found ${describe(value)}`,
            value.position,
          );
        }
        return leaf(value, token.field);
      }
      case 'word':
      case 'phrase':
        return leaf(token);
      case 'like':
        if (++leaves > topicLimits.leaves)
          throw new TopicSyntaxError(`A topic has at most ${topicLimits.leaves} terms`, token.position);
        if (++likes > topicLimits.likes)
          throw new TopicSyntaxError(`A topic has at most ${topicLimits.likes} like: terms`, token.position);
        return {
          type: 'like',
          arxivId: token.arxivId,
          text: `like:${token.arxivId}`,
          position: token.position,
        };
      default:
        throw new TopicSyntaxError(
          `Expected a word, "phrase", field or "(", found ${describe(token)}`,
          token.position,
        );
    }
  }

  function unary(depth: number): TopicNode | undefined {
    const token = peek();
    if (token.kind === '-' || token.kind === 'NOT') {
      next();
      const operand = peek();
      if (operand.kind === '-' || operand.kind === 'NOT')
        throw new TopicSyntaxError('Double negation', operand.position);
      const child = primary(depth);
      return child && { type: 'not', child, position: token.position };
    }
    return primary(depth);
  }

  const startsOperand = (token: Token) =>
    ['word', 'phrase', 'field', 'like', '(', '-', 'NOT'].includes(token.kind);

  function andExpr(depth: number): TopicNode | undefined {
    const position = peek().position;
    const children: TopicNode[] = [];
    const first = unary(depth);
    if (first) children.push(first);
    for (;;) {
      if (peek().kind === 'AND') {
        next();
        if (!startsOperand(peek()))
          throw new TopicSyntaxError(`Expected a word after AND, found ${describe(peek())}`, peek().position);
      } else if (!startsOperand(peek())) {
        break;
      }
      const child = unary(depth);
      if (child) children.push(child);
    }
    if (children.length === 0) return undefined;
    if (children.every((child) => child.type === 'not')) {
      throw new TopicSyntaxError(
        'A topic needs at least one word to look for, not only exclusions',
        position,
      );
    }
    return children.length === 1 ? children[0] : { type: 'and', children, position };
  }

  function orExpr(depth: number): TopicNode | undefined {
    const position = peek().position;
    if (peek().kind === 'OR') throw new TopicSyntaxError('OR needs a word before it', position);
    const children: TopicNode[] = [];
    const first = andExpr(depth);
    if (first) children.push(first);
    while (peek().kind === 'OR') {
      const or = next();
      if (!startsOperand(peek()))
        throw new TopicSyntaxError(`Expected a word after OR, found ${describe(peek())}`, peek().position);
      const child = andExpr(depth);
      // Dropping a side of only common words would silently narrow the OR, whichever side it is.
      if (!child || !first)
        throw new TopicSyntaxError(
          'Each side of OR needs a word other than common words such as "the"',
          or.position,
        );
      children.push(child);
    }
    if (children.length === 0) return undefined;
    return children.length === 1 ? children[0] : { type: 'or', children, position };
  }

  if (peek().kind === 'end') throw new TopicSyntaxError('The topic is empty', 0);
  const ast = orExpr(0);
  const rest = peek();
  if (rest.kind !== 'end') {
    throw new TopicSyntaxError(
      rest.kind === ')' ? 'Unmatched ")"' : `Unexpected ${describe(rest)}`,
      rest.position,
    );
  }
  if (!ast) throw new TopicSyntaxError('The topic has only common words such as "the" or "of"', 0);
  return ast;
}

/** The arXiv ids a topic names with `like:`, in order. */
export function likeIdsIn(node: TopicNode): string[] {
  if (node.type === 'like') return [node.arxivId];
  if (node.type === 'not') return likeIdsIn(node.child);
  if (node.type === 'and' || node.type === 'or') return node.children.flatMap(likeIdsIn);
  return [];
}

/** The arXiv ids a topic names with `like:`; none for a topic that does not parse. */
export function likeIdsOf(topic: string): string[] {
  try {
    return likeIdsIn(parseTopic(topic));
  } catch (error) {
    if (!(error instanceof TopicSyntaxError)) throw error;
    return [];
  }
}
