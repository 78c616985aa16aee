/**
 * C0 and C1 control characters and DEL (CR and LF included), and the Unicode line and paragraph
 * separators: never allowed in any input field.
 */
export const hasControlCharacters = (value: string) => /[\p{Cc}\u2028\u2029]/u.test(value);

/**
 * The start of a text, cut at a word: enough to tell papers apart in a link's name (a card has up to
 * five links, and thirty full titles five times over would cost a long digest 30 KB of its 102 KB),
 * or topics apart in the contents line.
 */
export function shortened(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const space = text.lastIndexOf(' ', maxLength);
  return `${text.slice(0, space > maxLength / 2 ? space : maxLength).trimEnd()}…`;
}
