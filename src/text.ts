/**
 * C0 and C1 control characters and DEL (CR and LF included), and the Unicode line and paragraph
 * separators: never allowed in any input field.
 */
export const hasControlCharacters = (value: string) => /[\p{Cc}\u2028\u2029]/u.test(value);
