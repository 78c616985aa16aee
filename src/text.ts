/** C0 and C1 control characters and DEL, CR and LF included: never allowed in any input field. */
export const hasControlCharacters = (value: string) => /\p{Cc}/u.test(value);
